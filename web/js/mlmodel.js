// Reading an MLmodel file (YAML written by MLflow) just enough for the
// version page: the flavors' names, and the signature's inputs, outputs and
// params, which MLflow stores as JSON inside single-quoted YAML scalars.
// Pure; node tests import it.

/** Unquotes a YAML scalar (single or double quoted, or plain; folded lines joined by spaces). */
function scalar(text) {
    const t = text.trim();
    if (t.startsWith("'")) return t.slice(1, t.endsWith("'") ? -1 : undefined).replace(/''/g, "'");
    if (t.startsWith('"')) { try { return JSON.parse(t); } catch { return t.slice(1, -1); } }
    return t;
}

/** The top-level block of key (its indented lines), or null. */
function block(lines, key) {
    const start = lines.findIndex((l) => l === `${key}:` || l.startsWith(`${key}: `) || l.startsWith(`${key}:\t`));
    if (start < 0) return null;
    const out = [];
    for (let i = start + 1; i < lines.length && (/^\s/.test(lines[i]) || !lines[i].trim()); i++) out.push(lines[i]);
    return out;
}

/** A block's keys one level down, with their (multi-line) values joined. */
function children(lines) {
    const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => l.length - l.trimStart().length));
    const out = new Map();
    let key = null;
    for (const l of lines) {
        const ind = l.length - l.trimStart().length;
        const m = /^(\s*)([A-Za-z0-9_.-]+):(\s*(.*))?$/.exec(l);
        if (m && ind === indent) { key = m[2]; out.set(key, m[4] ?? ''); } else if (key !== null && l.trim()) out.set(key, `${out.get(key)} ${l.trim()}`);
    }
    return out;
}

function schema(value) {
    if (value === undefined) return null;
    const s = scalar(value);
    if (!s || s === 'null') return null;
    try { const v = JSON.parse(s); return Array.isArray(v) ? v : null; } catch { return null; }
}

/**
 * Parses an MLmodel text. Returns {flavors: [names], signature: {inputs,
 * outputs, params} (arrays of column specs, or null each), modelId}.
 */
export function parseMLmodel(text) {
    const lines = String(text ?? '').replace(/\r\n?/g, '\n').split('\n');
    const flavorsBlock = block(lines, 'flavors');
    const flavors = flavorsBlock && flavorsBlock.some((l) => l.trim()) ? [...children(flavorsBlock).keys()] : [];
    const sigBlock = block(lines, 'signature');
    let signature = null;
    if (sigBlock && sigBlock.some((l) => l.trim())) {
        const c = children(sigBlock);
        signature = { inputs: schema(c.get('inputs')), outputs: schema(c.get('outputs')), params: schema(c.get('params')) };
    }
    const idLine = lines.find((l) => l.startsWith('model_id:'));
    return { flavors, signature, modelId: idLine ? scalar(idLine.slice(9)) : null };
}

/** One signature column as table cells: [name, type, shape or '', required]. */
export function columnRow(col, i) {
    const type = col.type === 'tensor' ? `tensor ${col['tensor-spec']?.dtype ?? ''}`.trim() : col.type === 'array' ? `array<${col.items?.type ?? '?'}>` : String(col.type ?? '?');
    const shape = col['tensor-spec']?.shape ? JSON.stringify(col['tensor-spec'].shape) : col.shape ? JSON.stringify(col.shape) : '';
    return [col.name ?? `(${i})`, type, shape, col.required === false ? 'optional' : 'required', col.default !== undefined ? JSON.stringify(col.default) : ''];
}
