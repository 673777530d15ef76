// One trace: its overview, token and latency rollups, tags and metadata,
// assessments (and a feedback form), and the span tree beside its timeline
// (trace-tree.js); the selected span's inputs, outputs, attributes and
// events in collapsible JSON viewers (json-view.js) built when chosen.
// URL: #/trace/<trace_id>?span=<span id>&fold=<span id>,<span id>
// The trace links to its source run (metadata mlflow.sourceRun) and to the
// runs linked to it by link-to-run (exptrack/traces/runs), named by their run
// names; the run page lists the run's traces (both kinds).
// While the trace is IN_PROGRESS the page follows it: the trace writes of its
// experiment (live.js watchTraces) reload it, debounced, and a changed trace
// is drawn again (selection and folds kept, from the URL); once it is OK or
// ERROR the page stops watching.
import { mlflow, mlflow3, exptrack } from './api.js';
import { h, href, withParams, parseHash, fmtTime, relTime, fmtDuration, errorBox, debounce, afterPaint, fmtCount } from './util.js';
import { watchTraces } from './live.js';
import {
    normalizeSpans, buildTree, rollups, traceTokens, durationMs, traceName, traceExperiment, decodeAttr, spanTokens,
} from './trace-spans.js';
import { stateBadge } from './traces-columns.js';
import { spanTree } from './trace-tree.js';
import { jsonView, lazyJson, LAZY_MIN } from './json-view.js';
import { assessmentsCard } from './trace-assess.js';

const IO_KEYS = new Set(['mlflow.spanInputs', 'mlflow.spanOutputs']);

function kvTable(rows) {
    return h('table', { class: 'kv' }, h('tbody', {}, rows.filter(Boolean).map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', {}, v)))));
}

/**
 * The trace and its spans: traces/get (early: the same request app.js
 * started with the page), or the info alone when the spans cannot be read.
 */
async function load(id, early) {
    try {
        return (await (early ?? mlflow3.get('/traces/get', { trace_id: id, allow_partial: 'true' }))).trace;
    } catch (e) {
        if (e.status !== 404) throw e;
        const info = (await mlflow3.get(`/traces/${encodeURIComponent(id)}`)).trace.trace_info;
        return { trace_info: info, spans: [] };
    }
}

/**
 * The runs a trace names (exptrack/traces/runs): {source, linked[]}, each
 * {run_id, name, gone}; names the server leaves out (runs of other
 * experiments) are read with runs/get, which checks their experiment.
 * On an older server or a refused read: the source run by runs/get alone.
 */
async function linkedRuns(traceId, sourceId) {
    let rows;
    try {
        rows = (await exptrack.get('/traces/runs', { trace_id: traceId })).runs || [];
    } catch {
        rows = sourceId ? [{ run_id: sourceId, source: true, linked: false, experiment_id: '?' }] : [];
    }
    const named = await Promise.all(rows.map(async (x) => {
        let name = x.run_name || '';
        if (!name && x.experiment_id) {
            try { name = (await mlflow.get('/runs/get', { run_id: x.run_id })).run?.info?.run_name || ''; } catch { /* the id stands in */ }
        }
        const gone = !x.experiment_id ? ' (no such run)' : x.lifecycle_stage === 'deleted' ? ' (deleted)' : '';
        return { ...x, name, gone };
    }));
    return { source: named.find((x) => x.source) || null, linked: named.filter((x) => x.linked && !x.source) };
}

/** early.trace: the traces/get request app.js started with the page, if any. */
export async function render(root, { parts, params, early }, ctx) {
    const id = parts[1] || '';
    // data-ready on #view: the span rows are drawn (tests and the bench wait for it)
    delete root.dataset.ready;
    ctx.onCleanup(() => delete root.dataset.ready);
    let trace;
    try {
        trace = await load(id, early?.trace);
    } catch (e) {
        if (!ctx.alive()) return;
        ctx.crumbs([{ text: 'Experiments', href: '#/experiments' }, { text: id }]);
        root.replaceChildren(e?.status === 403 || e?.code === 'PERMISSION_DENIED'
            ? h('div', { class: 'error', role: 'alert' }, `You do not have permission to read this trace. Ask the owner of its experiment for READ on it. (${e.message})`)
            : errorBox(e, 'Could not load the trace'));
        return;
    }
    if (!ctx.alive()) return;
    const info = trace.trace_info;
    const exp = traceExperiment(info);
    const name = traceName(info);
    const crumbs = (expName) => ctx.crumbs([{ text: 'Experiments', href: '#/experiments' }, { text: expName, href: href('/runs', { exp }) },
        { text: 'Traces', href: href('/traces', { exp }) }, { text: name }]);
    crumbs(`#${exp}`);
    mlflow.get('/experiments/get', { experiment_id: exp }).then((r) => { if (ctx.alive()) crumbs(r.experiment.name); }, () => {});
    document.title = `${name} · trace · exptrack`;

    performance.mark('exptrack:trace-data'); // bench waterfall: the trace read and parsed
    const spans = normalizeSpans(trace.spans);
    const tree = buildTree(spans);
    const roll = rollups(spans);
    const tokens = traceTokens(info) || (roll.tokens.total ? roll.tokens : null);
    const start = Date.parse(info.request_time);
    const latency = durationMs(info.execution_duration);
    const run = info.trace_metadata?.['mlflow.sourceRun'];

    // the source run by name, its id kept in the title; the id alone until then or when unreadable
    const runLink = run ? h('a', { class: 'source-run', href: href(`/run/${run}`), title: run }, h('code', {}, run)) : null;
    const linkedBox = h('span', { class: 'linked-runs muted' }, '…');
    linkedRuns(info.trace_id, run).then(({ source, linked }) => {
        if (!ctx.alive()) return;
        if (runLink && source?.name) {
            runLink.replaceChildren(source.name, h('span', { class: 'muted' }, ` (${run.slice(0, 8)})`));
            const button = root.querySelector('.page-head a.source-run-button');
            if (button) button.textContent = `Run: ${source.name}`;
        }
        if (runLink) runLink.dataset.runName = source?.name || '';
        linkedBox.classList.toggle('muted', !linked.length);
        linkedBox.dataset.count = String(linked.length);
        linkedBox.replaceChildren(...(linked.length ? [h('ul', { class: 'run-list' }, linked.map((x) => h('li', {},
            h('a', { class: 'linked-run', href: href(`/run/${x.run_id}`), title: x.run_id, dataset: { runId: x.run_id } },
                x.name || h('code', {}, x.run_id.slice(0, 8))),
            x.gone ? h('span', { class: 'muted' }, x.gone) : null)))] : ['none']));
    });
    const overview = h('section', { class: 'card trace-overview' }, h('h2', {}, 'Overview'), kvTable([
        ['Trace ID', h('code', {}, info.trace_id)],
        ['Status', stateBadge(info.state)],
        ['Started', h('span', {}, fmtTime(start), fmtTime(start).startsWith(relTime(start)) ? '' : h('span', { class: 'muted' }, ` (${relTime(start)})`))],
        ['Latency', latency === null ? '' : fmtDuration(latency)],
        ['Run', run ? runLink : h('span', { class: 'muted' }, 'none')],
        ['Linked runs', linkedBox],
        info.client_request_id ? ['Client request', h('code', {}, info.client_request_id)] : null,
        ['Request', h('span', { class: 'preview-text' }, info.request_preview || '')],
        ['Response', h('span', { class: 'preview-text' }, info.response_preview || '')],
    ]));
    // the figures a reader wants first, one line above the span tree; the span types in a card below it
    const rollStrip = h('section', { class: 'trace-rollups', 'aria-label': 'tokens and latency' },
        h('div', { class: 'rollup-figures' },
            figure('Latency', latency === null ? '—' : fmtDuration(latency), 'latency'),
            figure('Tokens', tokens ? fmtCount(tokens.total) : '—', 'tokens', tokens ? `input ${fmtCount(tokens.input)}, output ${fmtCount(tokens.output)}` : ''),
            figure('Spans', fmtCount(roll.count), 'spans'),
            figure('Errors', fmtCount(roll.errors), `errors${roll.errors ? ' has-errors' : ''}`)));
    const typesCard = roll.types.length ? h('section', { class: 'card trace-span-types' }, h('h2', {}, 'Span types'),
        h('div', { class: 'span-types-wrap' }, h('table', { class: 'grid span-types' },
            h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Span type'), h('th', { scope: 'col', class: 'num' }, 'Spans'),
                h('th', { scope: 'col', class: 'num' }, 'Time (sum)'), h('th', { scope: 'col', class: 'num' }, 'Errors'))),
            h('tbody', {}, roll.types.slice(0, 12).map((t) => h('tr', { dataset: { type: t.type } }, h('td', {}, t.type), h('td', { class: 'num' }, fmtCount(t.count)),
                h('td', { class: 'num' }, fmtDuration(t.ms) || '0 ms'), h('td', { class: `num${t.errors ? ' error-text' : ''}` }, String(t.errors)))))))) : null;
    const tagRows = Object.entries(info.tags || {}).sort(([a], [b]) => a.localeCompare(b));
    const metaRows = Object.entries(info.trace_metadata || {}).sort(([a], [b]) => a.localeCompare(b));
    const tagsCard = h('section', { class: 'card trace-tags' }, h('h2', {}, `Tags (${tagRows.length})`), kvTable(tagRows.map(([k, v]) => [k, v])),
        h('details', {}, h('summary', {}, `Metadata (${metaRows.length})`), kvTable(metaRows.map(([k, v]) => [k, v]))));
    const assessBox = h('section', { class: 'card trace-assessments', id: 'trace-assessments', tabindex: '-1' });
    const treeBox = h('div', { class: 'span-pane' });
    const detail = h('section', { class: 'span-detail', 'aria-label': 'selected span' });

    // the span tree and the chosen span come first (issue 17): the figures one line above them,
    // the assessments under the tree beside the span's details (below them on a phone; the head's
    // "Feedback" button goes there), then the other cards
    const toFeedback = () => {
        assessBox.scrollIntoView({ block: 'start' });
        (assessBox.querySelector('.feedback-form button.thumb') || assessBox).focus({ preventScroll: true });
    };
    root.replaceChildren(
        h('div', { class: 'page-head' }, h('h1', {}, name), stateBadge(info.state), h('span', { class: 'spacer' }),
            h('span', { class: 'head-actions' },
                h('button', { type: 'button', class: 'to-feedback', 'aria-controls': 'trace-assessments', title: 'the assessments and the feedback form, below the spans', onclick: toFeedback }, 'Feedback'),
                run ? h('a', { class: 'button source-run-button', href: href(`/run/${run}`), title: `the run that made this trace (${run})` }, 'Source run') : null,
                h('a', { class: 'button', href: href('/traces', { exp }) }, 'All traces'))),
        rollStrip,
        h('div', { class: 'trace-layout' }, treeBox, detail, assessBox),
        h('div', { class: 'run-grid trace-grid' }, overview, tagsCard, typesCard));

    let selected = params.get('span') || '';
    assessmentsCard(assessBox, info, { spanId: () => selected });
    if (info.state === 'IN_PROGRESS') follow(root, id, trace, { parts }, ctx);
    if (!spans.length) {
        treeBox.replaceChildren(h('p', { class: 'empty' }, 'No spans are stored for this trace.'));
        detail.hidden = true;
        root.dataset.ready = '1';
        return;
    }
    if (!tree.byId.has(selected)) selected = tree.roots[0]?.id || '';
    const folded = new Set((params.get('fold') || '').split(',').filter((x) => tree.byId.has(x)));
    // the URL follows the selection after the span is painted: history.replaceState took 1-18 ms
    // of a click under load (a message to the browser process), and arrow keys held down write it once
    let urlPending = false;
    const writeUrl = () => {
        urlPending = false;
        if (ctx.alive()) withParams({ span: selected }, { silent: true });
    };
    const view = spanTree(treeBox, tree, {
        folded, selected,
        onSelect: (sid) => {
            selected = sid;
            showSpan(detail, tree.byId.get(sid), tree, pick);
            if (!urlPending) { urlPending = true; afterPaint(writeUrl); }
        },
        onFold: (f) => withParams({ fold: [...f].join(',') || undefined }, { silent: true }),
    });
    const pick = (sid) => view.select(sid);
    performance.mark('exptrack:trace-tree'); // the tree's rows drawn
    showSpan(detail, tree.byId.get(selected), tree, pick);
    performance.mark('exptrack:trace-ready');
    root.dataset.ready = '1';
}

const FOLLOW_DEBOUNCE_MS = 300;

/** What a reload compares: a trace that differs in these is drawn again. */
function fingerprint(t) {
    const i = t.trace_info;
    return JSON.stringify([i.state, i.execution_duration, i.response_preview, (t.spans || []).length, Object.keys(i.tags || {}).length, (i.assessments || []).length]);
}

/**
 * Follows an IN_PROGRESS trace: each trace write of its experiment reloads
 * it (debounced); a changed trace renders the page again in the same view
 * (which follows on while it is still IN_PROGRESS). A reload waits while the
 * user types in the page (the feedback form). Stops with the view.
 */
function follow(root, id, trace, { parts }, ctx) {
    const exp = traceExperiment(trace.trace_info);
    const seen = fingerprint(trace);
    let stop = () => {};
    const reload = debounce(async () => {
        if (!ctx.alive()) return;
        if (root.contains(document.activeElement) && /^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement.tagName)) { reload(); return; }
        let next;
        try { next = await load(id); } catch { return; } // a failed reload keeps what is shown; the next event retries
        if (!ctx.alive() || fingerprint(next) === seen) return;
        stop();
        render(root, { parts, params: parseHash().params, early: { trace: Promise.resolve({ trace: next }) } }, ctx);
    }, FOLLOW_DEBOUNCE_MS);
    stop = watchTraces(exp, reload, { openResync: true }); // a write before the stream opened is read then
    ctx.onCleanup(() => stop());
    root.querySelector('.page-head')?.append(h('span', { class: 'live', title: 'this trace is in progress: its spans update without a reload' }, 'live'));
}

function figure(label, value, cls, title = '') {
    return h('div', { class: `figure ${cls}`, title }, h('div', { class: 'figure-value' }, value), h('div', { class: 'figure-label muted' }, label));
}

// span -> Map(attribute key -> its value for the viewer): a span chosen again is not parsed or scanned again
const shownValues = new WeakMap();

/**
 * An attribute's value for the viewer, once per span and key: a long JSON
 * attribute of MLflow's is parsed only as far as it is drawn (json-view.js
 * lazyJson, whose scan is kept with it), others as decodeAttr.
 */
function attrValue(s, k) {
    let m = shownValues.get(s);
    if (!m) shownValues.set(s, (m = new Map()));
    if (!m.has(k)) {
        const v = s.attrs[k];
        m.set(k, typeof v === 'string' && v.length >= LAZY_MIN && k.startsWith('mlflow.') ? lazyJson(v) : decodeAttr(k, v));
    }
    return m.get(k);
}

/** The selected span (pick(id) selects another): what it is, then its inputs, outputs, attributes and events, each in a JSON viewer. */
function showSpan(detail, s, tree, pick) {
    if (!s) { detail.replaceChildren(); return; }
    const value = (k) => attrValue(s, k);
    const attrs = {};
    for (const k of Object.keys(s.attrs)) if (!IO_KEYS.has(k)) attrs[k] = value(k);
    const has = (k) => Object.hasOwn(s.attrs, k);
    const tok = spanTokens(s);
    const section = (title, cls, content, open = true) => h('details', { class: `span-section ${cls}`, open }, h('summary', {}, title), content);
    const exc = s.events.filter((e) => e.name === 'exception');
    // another span starts at its top, not where the last one was scrolled to (a write: no layout read)
    if (detail.dataset.span !== s.id) detail.scrollTop = 0;
    detail.dataset.span = s.id;
    detail.replaceChildren(...[
        h('div', { class: 'span-head' }, h('h2', {}, s.name), s.type ? h('span', { class: 'span-type' }, s.type) : null,
            s.error ? h('span', { class: 'badge state-error' }, 'ERROR') : null),
        s.error ? h('div', { class: 'error span-error-msg', role: 'note' }, s.message || 'This span ended with an error.',
            exc.length ? h('div', {}, String(exc[0].attrs['exception.type'] || ''), ' ', String(exc[0].attrs['exception.message'] || '')) : null) : null,
        kvTable([
            ['Span ID', h('code', {}, s.id)],
            ['Parent', s.parent ? h('a', { href: '#', onclick: (ev) => { ev.preventDefault(); pick(s.parent); } }, h('code', {}, s.parent)) : h('span', { class: 'muted' }, 'root')],
            ['Starts at', `+${fmtDuration(s.start - tree.t0) || '0 ms'}`],
            ['Duration', fmtDuration(s.end - s.start) || '0 ms'],
            tok ? ['Tokens', `${fmtCount(tok.total)} (input ${fmtCount(tok.input)}, output ${fmtCount(tok.output)})`] : null,
        ]),
        section('Inputs', 'span-inputs', has('mlflow.spanInputs') ? jsonView(value('mlflow.spanInputs')) : h('p', { class: 'muted' }, 'None.')),
        section('Outputs', 'span-outputs', has('mlflow.spanOutputs') ? jsonView(value('mlflow.spanOutputs')) : h('p', { class: 'muted' }, 'None.')),
        section(`Attributes (${Object.keys(attrs).length})`, 'span-attributes', jsonView(attrs)),
        section(`Events (${s.events.length})`, 'span-events', s.events.length ? h('ol', { class: 'span-event-list' }, s.events.map((e) => h('li', { class: e.name === 'exception' ? 'exception' : null },
            h('strong', {}, e.name), h('span', { class: 'muted' }, ` +${fmtDuration(e.time - tree.t0) || '0 ms'}`), jsonView(e.attrs, { open: 0 })))) : h('p', { class: 'muted' }, 'None.'), s.events.length > 0),
    ].filter(Boolean));
}
