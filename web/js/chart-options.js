// What the chart pages show and how, as pure functions: the x axis, log and
// smoothing options read from the URL, and metric keys grouped into sections.

/** Groups metric keys by the prefix before the first '/': [[prefix, keys]], '' first. */
export function groupKeys(keys) {
    const m = new Map();
    for (const k of [...keys].sort()) {
        const i = k.indexOf('/');
        const g = i > 0 ? k.slice(0, i) : '';
        if (!m.has(g)) m.set(g, []);
        m.get(g).push(k);
    }
    return [...m.entries()].sort((a, b) => (a[0] === '' ? -1 : b[0] === '' ? 1 : a[0].localeCompare(b[0])));
}

/** The shared chart controls (x axis, log, smoothing) read from URL params. */
export function chartOptions(params) {
    const xmode = ['step', 'wall', 'rel'].includes(params.get('x')) ? params.get('x') : 'step';
    const log = params.get('log') === '1';
    const smoothing = Math.min(0.99, Math.max(0, Number(params.get('smooth')) || 0));
    return { xmode, log, smoothing };
}
