// The dashboard's entry: a hash router. Every view's state lives in the URL
// (#/experiments, #/runs?exp=1&filter=..., #/run/<id>, #/compare?runs=a,b),
// so a link or a reload shows the same thing. Views render into #view.
import { h, parseHash, errorBox } from './util.js';
import * as experiments from './experiments.js';
import * as runs from './runs.js';
import * as run from './run.js';
import * as compare from './compare.js';

const views = { experiments, runs, run, compare };
performance.mark('exptrack:modules-ready'); // every static module fetched and evaluated (bench waterfall)

let generation = 0;
let current = null; // {name, cleanup}

function setCrumbs(items) {
    const nav = document.getElementById('crumbs');
    nav.replaceChildren(...items.flatMap((c, i) => [
        i ? h('span', { class: 'sep' }, '›') : null,
        c.href ? h('a', { href: c.href }, c.text) : h('span', {}, c.text),
    ]).filter(Boolean));
}

async function route() {
    const gen = ++generation;
    const { parts, params } = parseHash();
    const name = parts[0] || 'experiments';
    const view = views[name];
    const root = document.getElementById('view');
    const ctx = {
        alive: () => gen === generation,
        crumbs: setCrumbs,
        onCleanup: (fn) => cleanups.push(fn),
    };
    const cleanups = [];
    if (current?.cleanup) for (const fn of current.cleanup) { try { fn(); } catch { /* ignore */ } }
    current = { name, cleanup: cleanups };
    if (!view) {
        setCrumbs([]);
        root.replaceChildren(h('div', { class: 'error' }, `No page ${location.hash}.`),
            h('p', {}, h('a', { href: '#/experiments' }, 'Go to the experiments')));
        return;
    }
    // loading state: the old page dims (and a bar runs) until the new one is drawn
    root.setAttribute('aria-busy', 'true');
    try {
        await view.render(root, { parts, params }, ctx);
    } catch (e) {
        if (!ctx.alive() || e?.name === 'AbortError') return;
        console.error(e);
        root.replaceChildren(errorBox(e, 'This page could not be shown'));
    } finally {
        if (ctx.alive()) root.removeAttribute('aria-busy');
    }
    if (ctx.alive()) document.body.dataset.view = name;
}

window.addEventListener('hashchange', route);
document.addEventListener('keydown', (ev) => {
    if (ev.key === '/' && !/^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement?.tagName)) {
        const f = document.querySelector('[data-hotkey="/"]');
        if (f) { ev.preventDefault(); f.focus(); f.select?.(); }
    }
});
route();
