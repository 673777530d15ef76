// The dashboard's entry: a hash router. Every view's state lives in the URL
// (#/experiments, #/runs?exp=1&filter=..., #/run/<id>, #/compare?runs=a,b),
// so a link or a reload shows the same thing. Views render into #view.
// A view's module is imported when it is first shown, its whole module graph
// asked for at once (modulepreload) rather than one import level at a time,
// and the requests a view needs first that depend on the URL alone start
// here, before its module (and uPlot) is evaluated. The other views' modules
// are fetched once the first view is drawn, so moving between views is quick.
import { h, parseHash, errorBox, experimentIds } from './util.js';
import { mlflow, mlflow3, exptrack } from './api.js';
import { tracesRequest } from './traces-query.js';

/** Marks a promise handled (its awaiter still sees the rejection). */
const quiet = (p) => { p.catch(() => {}); return p; };

const UPLOT = '../vendor/uplot/uPlot.esm.js';
const CHART_MODULES = [
    './charts.js', './series.js', './history.js', './chart-options.js', './lazy.js', './limits.js',
    './follow.js', './artifacts.js', './live.js', UPLOT,
];
const REGISTRY_MODULES = ['./models.js', './registry.js', './markdown.js', './live.js', './limits.js'];
const views = {
    experiments: { load: () => import('./experiments.js'), modules: ['./experiments.js', './limits.js', './first-run.js'] },
    runs: {
        load: () => import('./runs.js'),
        modules: [
            './runs.js', './runs-query.js', './history.js', './series.js', './runs-columns.js', './runs-toolbar.js', './runs-table.js', './runs-bulk.js',
            './runs-keyboard.js', './runs-pager.js', './grid.js', './limits.js', './parcoords.js',
        ],
        // what an open panel (panel=charts|parcoords) adds to the page's
        // graph, fetched with the page's modules: runs-panel.js's static
        // imports and no more (tests/browser/preload.test.mjs), as every
        // module request before the charts are drawn costs the browser CPU
        panelModules: ['./runs-panel.js', './sweep-chart.js', './charts.js', './follow.js', UPLOT],
        // the keys its default columns are picked from, the search once they
        // are in and the chart view's coarse history reads once it is in, all
        // before runs.js and its graph are evaluated (runs-query.js)
        early: ({ params }) => {
            const ids = experimentIds(params);
            if (!ids.length) return {};
            const keys = quiet(exptrack.get('/experiments/keys', { experiment_id: ids }));
            return { keys, runs: quiet(import('./runs-query.js').then((q) => q.searchRuns(params, keys))) };
        },
    },
    // the run itself: the page's first request, and what its charts wait for
    run: {
        load: () => import('./run.js'),
        modules: ['./run.js', ...CHART_MODULES],
        early: ({ parts }) => ({ run: quiet(mlflow.get('/runs/get', { run_id: parts[1] })) }),
    },
    compare: { load: () => import('./compare.js'), modules: ['./compare.js', './run.js', ...CHART_MODULES] },
    // the model registry, prompts and logged models (#/model/<name>/<version> is the version page)
    models: { load: () => import('./models.js'), modules: REGISTRY_MODULES },
    model: {
        load: ({ parts }) => (parts.length > 2 ? import('./model-version.js') : import('./model.js')),
        // the model page's two reads (the model, its first page of versions): asked for with the page
        early: ({ parts, params }) => {
            if (parts.length !== 2 || params.get('tab') === 'audit' || (parts[1].includes("'") && parts[1].includes('"'))) return {};
            const name = parts[1], q = name.includes("'") ? '"' : "'";
            return {
                model: quiet(mlflow.get('/registered-models/get', { name })),
                versions: quiet(mlflow.get('/model-versions/search', {
                    filter: `name = ${q}${name}${q}`, order_by: ['version_number DESC'], max_results: 100, page_token: params.get('page') || undefined,
                })),
            };
        },
        modules: [...REGISTRY_MODULES, './model.js', './model-version.js', './mlmodel.js', './diff.js'],
    },
    prompts: { load: () => import('./prompts.js'), modules: [...REGISTRY_MODULES, './prompts.js'] },
    prompt: { load: () => import('./prompt.js'), modules: [...REGISTRY_MODULES, './prompt.js', './model.js', './diff.js'] },
    'logged-models': { load: () => import('./logged-models.js'), modules: ['./logged-models.js', './registry.js', './markdown.js'] },
    // one logged model: its read is asked for with the page
    'logged-model': {
        load: () => import('./logged-model.js'),
        modules: ['./logged-model.js', './logged-models.js', './model-version.js', './model.js', './models.js', './mlmodel.js', './diff.js', ...REGISTRY_MODULES,
            './charts.js', './series.js', UPLOT],
        early: ({ parts }) => (/^m-[0-9a-f]{32}$/.test(parts[1] || '') ? { model: quiet(mlflow.get(`/logged-models/${parts[1]}`)) } : {}),
    },
    // GenAI traces: an experiment's traces tab and one trace
    traces: {
        load: () => import('./traces.js'),
        modules: ['./traces.js', './traces-columns.js', './trace-spans.js', './runs-toolbar.js', './runs-pager.js'],
        // the table's page of traces, asked for with the page
        early: ({ params }) => {
            const ids = experimentIds(params);
            return ids.length ? { search: quiet(mlflow3.post('/traces/search', tracesRequest(ids[0], params))) } : {};
        },
    },
    trace: {
        load: () => import('./trace.js'),
        modules: ['./trace.js', './trace-spans.js', './trace-tree.js', './trace-assess.js', './json-view.js', './traces-columns.js', './registry.js', './markdown.js'],
        early: ({ parts }) => ({ trace: quiet(mlflow3.get('/traces/get', { trace_id: parts[1] || '', allow_partial: 'true' })) }),
    },
};
performance.mark('exptrack:modules-ready'); // the router's modules fetched and evaluated (bench waterfall)

const preloaded = new Set(['./util.js', './api.js', './session.js', './traces-query.js']); // index.html's
/** Starts fetching modules (paths relative to this one) not asked for yet. */
function preload(modules) {
    for (const m of modules) {
        if (preloaded.has(m)) continue;
        preloaded.add(m);
        document.head.append(h('link', { rel: 'modulepreload', href: new URL(m, import.meta.url).href }));
    }
}
let preloadedAll = false;
function preloadOtherViews() {
    if (preloadedAll) return;
    preloadedAll = true;
    const all = () => preload(Object.values(views).flatMap((v) => v.modules));
    if (window.requestIdleCallback) requestIdleCallback(all, { timeout: 2000 }); else setTimeout(all, 500);
}

let generation = 0;
let current = null; // {name, cleanup}

function setCrumbs(items) {
    const nav = document.getElementById('crumbs');
    nav.replaceChildren(...items.flatMap((c, i) => [
        i ? h('span', { class: 'sep' }, '›') : null,
        // each crumb may shrink, cut with an ellipsis (app.css); its whole text stays in the title
        c.href ? h('a', { class: 'crumb', href: c.href, title: c.text }, c.text) : h('span', { class: 'crumb', title: c.text, 'aria-current': 'page' }, c.text),
    ]).filter(Boolean));
}

// The top bar's section links (current one marked) and, on an experiment's
// runs, models and traces pages, the Runs | Models | Traces tabs above the view.
const SECTIONS = { experiments: 'experiments', runs: 'experiments', run: 'experiments', compare: 'experiments',
    'logged-models': 'experiments', 'logged-model': 'experiments', traces: 'experiments', trace: 'experiments', models: 'models', model: 'models', prompts: 'prompts', prompt: 'prompts' };
function topNav(name, params) {
    for (const a of document.querySelectorAll('#mainnav a')) {
        if (a.dataset.section === SECTIONS[name]) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
    }
    const sub = document.getElementById('subnav');
    if (!sub) return;
    const exps = experimentIds(params);
    if (!['runs', 'logged-models', 'traces'].includes(name) || exps.length !== 1) { sub.replaceChildren(); sub.hidden = true; return; }
    const tab = (text, view) => h('a', { href: `#/${view}?exp=${encodeURIComponent(exps[0])}`, 'aria-current': view === name ? 'page' : null }, text);
    sub.replaceChildren(h('nav', { class: 'tabs exp-tabs', 'aria-label': 'experiment sections' }, tab('Runs', 'runs'), tab('Models', 'logged-models'), tab('Traces', 'traces')));
    sub.hidden = false;
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
    topNav(name, params);
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
        preload(view.modules);
        if (view.panelModules && params.get('panel')) preload(view.panelModules);
        const mod = await view.load({ parts, params });
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
    preloadOtherViews();
}

window.addEventListener('hashchange', route);
document.addEventListener('keydown', (ev) => {
    if (ev.key === '/' && !/^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement?.tagName)) {
        const f = document.querySelector('[data-hotkey="/"]');
        if (f) { ev.preventDefault(); f.focus(); f.select?.(); }
    }
});
route();
