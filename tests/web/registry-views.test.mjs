// Unit tests of the model views' pure modules: markdown.js (everything
// escaped, a small subset rendered, unsafe links left as text), diff.js (the
// LCS line diff and the key/value diff) and mlmodel.js (the signature read
// out of an MLmodel file).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { markdownToHtml, escapeHtml } from '../../web/js/markdown.js';
import { lineDiff, diffStats, mapDiff, DIFF_MAX_CELLS } from '../../web/js/diff.js';
import { parseMLmodel, columnRow } from '../../web/js/mlmodel.js';

test('markdown: raw HTML stays text, attributes cannot be broken out of', () => {
    assert.equal(markdownToHtml('<script>alert(1)</script>'), '<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>');
    assert.equal(markdownToHtml('<img src=x onerror=alert(1)>'), '<p>&lt;img src=x onerror=alert(1)&gt;</p>');
    assert.equal(markdownToHtml('[x](https://a.example/"onmouseover="alert(1))'),
        '<p><a href="https://a.example/&quot;onmouseover=&quot;alert(1" rel="noopener noreferrer" target="_blank">x</a>)</p>');
    assert.equal(markdownToHtml('[x](javascript:alert(1))'), '<p>[x](javascript:alert(1))</p>');
    assert.equal(markdownToHtml('[x](data:text/html,hi)'), '<p>[x](data:text/html,hi)</p>');
    assert.equal(escapeHtml(`&<>"'`), '&amp;&lt;&gt;&quot;&#39;');
});

test('markdown: headings, lists, code, emphasis and links', () => {
    assert.equal(markdownToHtml('# Title\n\nSome **bold** and *it* with `a<b`.\n\n- one\n- two\n\n1. first\n2. second'),
        '<h3>Title</h3>\n<p>Some <strong>bold</strong> and <em>it</em> with <code>a&lt;b</code>.</p>\n<ul><li>one</li><li>two</li></ul>\n<ol><li>first</li><li>second</li></ol>');
    assert.equal(markdownToHtml('```\n<b>x</b>\n**y**\n```'), '<pre><code>&lt;b&gt;x&lt;/b&gt;\n**y**</code></pre>');
    assert.equal(markdownToHtml('see [docs](#/models) or [mail](mailto:a@b.c)'),
        '<p>see <a href="#/models">docs</a> or <a href="mailto:a@b.c" rel="noopener noreferrer" target="_blank">mail</a></p>');
    assert.equal(markdownToHtml(''), '');
    assert.equal(markdownToHtml(null), '');
    assert.equal(markdownToHtml('a\r\nb'), '<p>a<br>b</p>');
});

const ops = (d) => d.map((o) => `${{ same: ' ', add: '+', del: '-' }[o.op]}${o.text}`);

test('lineDiff: insertions, deletions, replacements (removal first), line numbers', () => {
    const d = lineDiff('a\nb\nc\nd', 'a\nx\nc\nd\ne');
    assert.deepEqual(ops(d), [' a', '-b', '+x', ' c', ' d', '+e']);
    assert.deepEqual(d.map((o) => [o.a, o.b]), [[1, 1], [2, null], [null, 2], [3, 3], [4, 4], [null, 5]]);
    assert.deepEqual(diffStats(d), { add: 2, del: 1 });
    assert.deepEqual(ops(lineDiff('same', 'same')), [' same']);
    assert.deepEqual(ops(lineDiff('', 'x')), ['-', '+x']);
    assert.deepEqual(ops(lineDiff('x\ny', '')), ['-x', '-y', '+']);
    // the longest common subsequence is kept, not the first match
    assert.deepEqual(ops(lineDiff('a\nb\nc\na\nb', 'c\na\nb')), ['-a', '-b', ' c', ' a', ' b']);
});

test('lineDiff: past DIFF_MAX_CELLS it replaces the middle whole, still correct', () => {
    const n = Math.ceil(Math.sqrt(DIFF_MAX_CELLS)) + 10;
    const a = Array.from({ length: n }, (_, i) => `a${i}`).join('\n');
    const b = Array.from({ length: n }, (_, i) => `b${i}`).join('\n');
    const d = lineDiff(`head\n${a}\ntail`, `head\n${b}\ntail`);
    assert.equal(d.length, 2 * n + 2);
    assert.deepEqual(diffStats(d), { add: n, del: n });
    assert.equal(d[0].op, 'same');
    assert.deepEqual(d.at(-1), { op: 'same', text: 'tail', a: n + 2, b: n + 2 });
});

test('mapDiff: same, changed, added, removed, sorted by key', () => {
    const rows = mapDiff(new Map([['lr', '0.1'], ['c', '1'], ['old', 'x']]), new Map([['lr', '0.2'], ['c', '1'], ['new', 'y']]));
    assert.deepEqual(rows.map((r) => [r.key, r.change]), [['c', 'same'], ['lr', 'changed'], ['new', 'added'], ['old', 'removed']]);
});

const MLMODEL = `artifact_path: x
flavors:
  python_function:
    loader_module: mlflow.sklearn
  sklearn:
    pickled_model: model.pkl
model_id: m-0123
signature:
  inputs: '[{"type": "double", "name": "it''s", "required": true}, {"type": "string",
    "name": "plan", "required": false}]'
  outputs: '[{"type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}]'
  params: '[{"name": "temp", "type": "float", "default": 0.5, "shape": null}]'
utc_time_created: '2024-01-15'
`;

test('parseMLmodel: flavors, model id and a folded, quoted signature', () => {
    const m = parseMLmodel(MLMODEL);
    assert.deepEqual(m.flavors, ['python_function', 'sklearn']);
    assert.equal(m.modelId, 'm-0123');
    assert.deepEqual(m.signature.inputs.map((c) => c.name), ["it's", 'plan']);
    assert.deepEqual(columnRow(m.signature.inputs[1], 1), ['plan', 'string', '', 'optional', '']);
    assert.deepEqual(columnRow(m.signature.outputs[0], 0), ['(0)', 'tensor int64', '[-1]', 'required', '']);
    assert.deepEqual(columnRow(m.signature.params[0], 0), ['temp', 'float', '', 'required', '0.5']);
    assert.deepEqual(parseMLmodel('flavors:\n  pyfunc: {}\n'), { flavors: ['pyfunc'], signature: null, modelId: null });
    // broken JSON in a signature is "no columns", not an exception
    assert.equal(parseMLmodel("signature:\n  inputs: '[{broken'\n").signature.inputs, null);
    assert.deepEqual(parseMLmodel(''), { flavors: [], signature: null, modelId: null });
});
