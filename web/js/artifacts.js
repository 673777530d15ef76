// A run's artifact tree (GET /mlflow/artifacts/list, one folder at a time)
// with download links and a size-capped preview of images, text, JSON, CSV
// (as a table) and Markdown (rendered to DOM nodes, never parsed as HTML).
import { mlflow, isMissingEndpoint } from './api.js';
import { h, errorBox } from './util.js';

const PREVIEW_CAP = 1024 * 1024; // bytes read for a text preview
const IMAGE_CAP = 20 * 1024 * 1024;
const CSV_ROWS = 500;
const IMAGE = /\.(png|jpe?g|gif|webp|svg|bmp|ico)$/i;
const TEXT = /\.(txt|log|py|ya?ml|toml|ini|cfg|sh|c|h|js|mjs|ts|java|r|sql|html?|xml|conf|env|md|markdown|json|jsonl|csv|tsv|MLmodel|requirements)$|(^|\/)(MLmodel|Dockerfile|LICENSE|README)$/i;

function artifactUrl(runId, path) {
    return `/get-artifact?${new URLSearchParams({ run_id: runId, path })}`;
}

function fmtSize(n) {
    if (n === undefined) return '';
    if (n < 1024) return `${n} B`;
    if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
    if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
    return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

/** Fills box with the artifact browser of a run. */
export async function artifactBrowser(box, runId, ctx) {
    const tree = h('ul', { class: 'art-tree', role: 'tree' });
    const preview = h('div', { class: 'art-preview' }, h('p', { class: 'muted' }, 'Select a file to preview it.'));
    let files;
    try {
        files = await list(runId, '');
    } catch (e) {
        box.replaceChildren(isMissingEndpoint(e) ? h('p', { class: 'muted' }, 'This server has no artifact API.') : errorBox(e, 'Artifacts'));
        return;
    }
    if (!ctx.alive()) return;
    if (!files.length) { box.replaceChildren(h('p', { class: 'muted' }, 'No artifacts.')); return; }
    fillDir(tree, runId, files, preview);
    box.replaceChildren(h('div', { class: 'art-layout' }, h('div', { class: 'art-side' }, tree), preview));
}

async function list(runId, path) {
    const r = await mlflow.get('/artifacts/list', { run_id: runId, path: path || undefined });
    return (r.files || []).slice().sort((a, b) => (b.is_dir - a.is_dir) || a.path.localeCompare(b.path));
}

function fillDir(ul, runId, files, preview) {
    ul.replaceChildren(...files.map((f) => {
        const name = f.path.split('/').pop();
        if (f.is_dir) {
            const sub = h('ul', { role: 'group', hidden: true });
            let loaded = false;
            const btn = h('button', { class: 'art-dir', 'aria-expanded': 'false', dataset: { path: f.path }, onclick: async () => {
                const open = sub.hidden;
                sub.hidden = !open;
                btn.setAttribute('aria-expanded', String(open));
                btn.textContent = `${open ? '▾' : '▸'} ${name}/`;
                if (open && !loaded) {
                    loaded = true;
                    sub.replaceChildren(h('li', { class: 'muted' }, 'Loading…'));
                    try { fillDir(sub, runId, await list(runId, f.path), preview); } catch (e) { sub.replaceChildren(h('li', {}, errorBox(e))); }
                }
            } }, `▸ ${name}/`);
            return h('li', { role: 'treeitem' }, btn, sub);
        }
        return h('li', { role: 'treeitem' }, h('button', { class: 'art-file', dataset: { path: f.path }, onclick: () => show(preview, runId, f) }, name),
            h('span', { class: 'muted' }, ` ${fmtSize(f.file_size)}`));
    }));
}

async function show(box, runId, f) {
    const url = artifactUrl(runId, f.path);
    const size = f.file_size ?? 0;
    const head = h('div', { class: 'art-head' }, h('strong', {}, f.path), h('span', { class: 'muted' }, ` ${fmtSize(size)} `),
        h('a', { class: 'button', href: url, download: f.path.split('/').pop() }, 'Download'));
    box.replaceChildren(head, h('p', { class: 'muted' }, 'Loading…'));
    let body;
    try {
        if (IMAGE.test(f.path)) {
            body = size > IMAGE_CAP ? h('p', { class: 'muted' }, 'Too large to preview.') : h('img', { src: url, alt: f.path, class: 'art-img' });
        } else if (TEXT.test(f.path) || size <= 64 * 1024) {
            const res = await fetch(url, { headers: size > PREVIEW_CAP ? { range: `bytes=0-${PREVIEW_CAP - 1}` } : {} });
            if (!res.ok) throw new Error(`HTTP ${res.status}: ${(await res.text()).slice(0, 300)}`);
            const buf = new Uint8Array(await res.arrayBuffer());
            const truncated = size > PREVIEW_CAP || buf.length > PREVIEW_CAP;
            const text = new TextDecoder('utf-8', { fatal: false }).decode(buf.subarray(0, PREVIEW_CAP));
            if (!TEXT.test(f.path) && text.includes('\u0000')) body = h('p', { class: 'muted' }, 'Binary file: no preview.');
            else body = render(f.path, text, truncated);
            if (truncated) body = h('div', {}, h('p', { class: 'muted' }, `Showing the first ${fmtSize(PREVIEW_CAP)}.`), body);
        } else {
            body = h('p', { class: 'muted' }, 'No preview for this type.');
        }
    } catch (e) {
        body = errorBox(e, 'Preview');
    }
    box.replaceChildren(head, body);
}

function render(path, text, truncated) {
    if (/\.json$/i.test(path) && !truncated) {
        try { return h('pre', { class: 'art-text json' }, JSON.stringify(JSON.parse(text), null, 2)); } catch { /* shown as text */ }
    }
    if (/\.(csv|tsv)$/i.test(path)) return csvTable(text, /\.tsv$/i.test(path) ? '\t' : ',');
    if (/\.(md|markdown)$/i.test(path)) return markdown(text);
    return h('pre', { class: 'art-text' }, text);
}

/** RFC 4180-ish CSV parser (quotes, doubled quotes, newlines in quotes). */
export function parseCsv(text, sep = ',', maxRows = CSV_ROWS + 1) {
    const rows = [];
    let row = [], field = '', q = false;
    for (let i = 0; i < text.length && rows.length < maxRows; i++) {
        const c = text[i];
        if (q) {
            if (c === '"' && text[i + 1] === '"') { field += '"'; i++; } else if (c === '"') q = false; else field += c;
        } else if (c === '"' && field === '') q = true;
        else if (c === sep) { row.push(field); field = ''; } else if (c === '\n' || c === '\r') {
            if (c === '\r' && text[i + 1] === '\n') i++;
            row.push(field); rows.push(row); row = []; field = '';
        } else field += c;
    }
    if (field !== '' || row.length) { row.push(field); rows.push(row); }
    return rows;
}

function csvTable(text, sep) {
    const rows = parseCsv(text, sep);
    if (!rows.length) return h('p', { class: 'muted' }, 'Empty.');
    const [head, ...rest] = rows;
    return h('div', { class: 'table-wrap' }, h('table', { class: 'grid csv' },
        h('thead', {}, h('tr', {}, ...head.map((c) => h('th', {}, c)))),
        h('tbody', {}, ...rest.slice(0, CSV_ROWS).map((r) => h('tr', {}, ...r.map((c) => h('td', {}, c)))))),
    rest.length > CSV_ROWS ? h('p', { class: 'muted' }, `First ${CSV_ROWS} rows.`) : null);
}

/** Inline Markdown: `code`, **bold**, *em*, [text](http link). Text nodes only. */
function inline(s) {
    const out = [];
    const re = /(`[^`]+`)|(\*\*[^*]+\*\*)|(\*[^*]+\*)|(\[[^\]]+\]\((https?:\/\/[^)\s]+)\))/g;
    let last = 0, m;
    while ((m = re.exec(s))) {
        if (m.index > last) out.push(s.slice(last, m.index));
        if (m[1]) out.push(h('code', {}, m[1].slice(1, -1)));
        else if (m[2]) out.push(h('strong', {}, m[2].slice(2, -2)));
        else if (m[3]) out.push(h('em', {}, m[3].slice(1, -1)));
        else out.push(h('a', { href: m[5], rel: 'noopener noreferrer', target: '_blank' }, m[4].slice(1, m[4].indexOf(']'))));
        last = re.lastIndex;
    }
    if (last < s.length) out.push(s.slice(last));
    return out;
}

/** A small, safe Markdown subset: headings, lists, code fences, quotes, paragraphs. */
export function markdown(text) {
    const root = h('div', { class: 'markdown' });
    const lines = text.split(/\r?\n/);
    let para = [], list = null;
    const flush = () => {
        if (para.length) root.append(h('p', {}, ...inline(para.join(' '))));
        para = [];
        list = null;
    };
    for (let i = 0; i < lines.length; i++) {
        const l = lines[i];
        let m;
        if (/^```/.test(l)) {
            flush();
            const code = [];
            while (++i < lines.length && !/^```/.test(lines[i])) code.push(lines[i]);
            root.append(h('pre', {}, h('code', {}, code.join('\n'))));
        } else if ((m = l.match(/^(#{1,6})\s+(.*)$/))) {
            flush();
            root.append(h(`h${Math.min(6, m[1].length + 2)}`, {}, ...inline(m[2])));
        } else if ((m = l.match(/^\s*([-*+]|\d+\.)\s+(.*)$/))) {
            if (para.length) { const keep = list; flush(); list = keep; }
            if (!list) { list = h(/\d/.test(m[1]) ? 'ol' : 'ul'); root.append(list); }
            list.append(h('li', {}, ...inline(m[2])));
        } else if ((m = l.match(/^>\s?(.*)$/))) {
            flush();
            root.append(h('blockquote', {}, ...inline(m[1])));
        } else if (!l.trim()) {
            flush();
        } else {
            list = null;
            para.push(l.trim());
        }
    }
    flush();
    return root;
}
