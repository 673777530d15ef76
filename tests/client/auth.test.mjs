// The exptrack CLI (and so libexptrack) against a server with --auth: it
// sends the MLflow clients' credentials, Basic from MLFLOW_TRACKING_USERNAME
// and MLFLOW_TRACKING_PASSWORD, else Bearer from MLFLOW_TRACKING_TOKEN, and a
// refused request is an error (exit 1), never a silent success.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { useStack, api, assertOk, uniqueName } from '../api/harness.mjs';

const BIN = process.env.EXPTRACK_BIN_DIR || path.resolve('build', 'bin');
const PASSWORD = 'client-auth-password-1';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exptrack-client-auth-'));
const pwFile = path.join(dir, 'admin-password');
fs.writeFileSync(pwFile, `${PASSWORD}\n`, { mode: 0o600 });
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const stack = useStack({ before, after }, { server: { args: ['--auth', '--admin-password-file', pwFile] } });

function cli(args, env) {
    const clean = { ...process.env };
    delete clean.MLFLOW_TRACKING_USERNAME;
    delete clean.MLFLOW_TRACKING_PASSWORD;
    delete clean.MLFLOW_TRACKING_TOKEN;
    const r = spawnSync(path.join(BIN, 'exptrack'), ['--url', stack.base, ...args], {
        encoding: 'utf8', timeout: 60000, env: { ...clean, EXPTRACK_SPOOL_DIR: dir, ...env },
    });
    return { code: r.status, out: r.stdout, err: r.stderr };
}

test('no credentials: refused with exit 1', () => {
    const r = cli(['--json', 'experiments', 'list'], {});
    assert.equal(r.code, 1, r.out + r.err);
});

test('Basic credentials from MLFLOW_TRACKING_USERNAME/PASSWORD', () => {
    const env = { MLFLOW_TRACKING_USERNAME: 'admin', MLFLOW_TRACKING_PASSWORD: PASSWORD };
    const name = uniqueName('cli-basic');
    assert.equal(cli(['experiments', 'create', name], env).code, 0);
    const r = cli(['--json', 'experiments', 'list'], env);
    assert.equal(r.code, 0, r.err);
    assert.ok(r.out.includes(name), 'the new experiment is listed');
    const wrong = cli(['--json', 'experiments', 'list'], { ...env, MLFLOW_TRACKING_PASSWORD: 'not-the-password' });
    assert.equal(wrong.code, 1, 'a wrong password is an error');
});

test('Bearer token from MLFLOW_TRACKING_TOKEN', async () => {
    const basic = { authorization: `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}` };
    const t = assertOk(await api(stack.base, 'POST', '/api/2.0/exptrack/tokens/create', { name: 'cli' }, { headers: basic }));
    const r = cli(['--json', 'experiments', 'list'], { MLFLOW_TRACKING_TOKEN: t.token });
    assert.equal(r.code, 0, r.err);
    const bad = cli(['--json', 'experiments', 'list'], { MLFLOW_TRACKING_TOKEN: 'etk_' + '0'.repeat(64) });
    assert.equal(bad.code, 1);
});
