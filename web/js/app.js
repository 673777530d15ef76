// The dashboard's entry: a hash router. Every view's state lives in the URL
// (#/experiments, #/runs?exp=1&filter=..., #/run/<id>, #/compare?runs=a,b),
// so a link or a reload shows the same thing. Views render into #view.
// A view's module is imported when it is first shown (index.html preloads
// them all, in parallel), and the requests a view needs first that depend on
// the URL alone start here, before its module (and uPlot) is evaluated.
import { h, parseHash, errorBox, experimentIds } from './util.js';
import { mlflow, exptrack } from './api.js';

/** Marks a promise handled (its awaiter still sees the rejection). */
const quiet = (p) => { p.catch(() => {}); return p; };

const views = {
    experiments: { load: () => import('./experiments.js') },
    // the keys its default columns are picked from: the search waits for them
    runs: {
        load: () => import('./runs.js'),
        early: ({ params }) => {
            const ids = experimentIds(params);
            return ids.length ? { keys: quiet(exptrack.get('/experiments/keys', { experiment_id: ids })) } : {};
        },
    },
    // the run itself: the page's first request, and what its charts wait for
    run: { load: () => import('./run.js'), early: ({ parts }) => ({ run: quiet(mlflow.get('/runs/get', { run_id: parts[1] })) }) },
    compare: { load: () => import('./compare.js') },
};
performance.mark('exptrack:modules-ready'); // the router's modules fetched and evaluated (bench waterfall)

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
    const view = Object.hasOwn(views, name) ? views[name] : null;
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
        const early = view.early?.({ parts, params });
        const mod = await view.load();
        if (!ctx.alive()) return;
        performance.mark(`exptrack:view-ready:${name}`);
        await mod.render(root, { parts, params, early }, ctx);
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
