// exptrackd's settings come from one table in server/config.c, which also
// writes --help; the README's configuration table is written by hand. This
// keeps the two in step: every flag --help lists, with its variable, has a
// row in the README, and the README names no flag the server does not know.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { exptrackdPath, REPO_ROOT } from './harness.mjs';

function helpSettings() {
    const text = execFileSync(exptrackdPath(), ['--help'], { encoding: 'utf8' });
    const flags = [...text.matchAll(/^ {2}(--[a-z-]+)/gm)].map((m) => m[1]);
    const vars = [...text.matchAll(/\[(EXPTRACK_[A-Z_]+)\]/g)].map((m) => m[1]);
    return { flags: flags.filter((f) => f !== '--help' && f !== '--version'), vars };
}

function readmeTable() {
    const readme = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
    const start = readme.indexOf('## Configuration');
    const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
    const rows = section.split('\n').filter((l) => l.startsWith('| `--'));
    return {
        flags: rows.flatMap((l) => [...l.split('|')[1].matchAll(/`(--[a-z-]+)/g)].map((m) => m[1])),
        vars: rows.flatMap((l) => [...l.matchAll(/`(EXPTRACK_[A-Z_]+)`/g)].map((m) => m[1])),
    };
}

test('--help lists every setting once, each with its environment variable', () => {
    const { flags, vars } = helpSettings();
    assert.ok(flags.length >= 19, `parsed ${flags.length} flags from --help`);
    assert.equal(new Set(flags).size, flags.length, 'a flag is listed twice');
    assert.equal(vars.length, flags.length, 'every flag has one variable');
    for (let i = 0; i < flags.length; i++) {
        const want = 'EXPTRACK_' + flags[i].slice(2).replace(/-/g, '_').toUpperCase();
        assert.equal(vars[i], want, `${flags[i]}'s variable`);
    }
});

test("the README's configuration table has exactly the settings of --help", () => {
    const help = helpSettings();
    const readme = readmeTable();
    assert.deepEqual([...readme.flags].sort(), [...help.flags].sort());
    assert.deepEqual([...readme.vars].sort(), [...help.vars].sort());
});
