// What a server (or experiment) without runs shows instead of an empty
// table: how to send it a first run, with this server's address filled in,
// from the MLflow clients (MLFLOW_TRACKING_URI), from C (libexptrack) and
// from the `exptrack` CLI. Every snippet has a copy button.
import { h } from './util.js';

/** A POSIX shell word for s: single-quoted unless it needs no quotes. */
export function shellWord(s) {
    return /^[A-Za-z0-9_./:@-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`;
}

/** A C string literal for s. */
function cString(s) {
    return `"${[...s].map((ch) => (ch === '"' || ch === '\\' ? `\\${ch}` : ch.charCodeAt(0) < 32 ? ' ' : ch)).join('')}"`;
}

/** A Python string literal for s. */
function pyString(s) {
    return JSON.stringify(s); // a JSON string is a valid Python literal
}

/** Copies text to the clipboard: the async API, else a selected textarea and execCommand. */
async function copyText(text) {
    try {
        await navigator.clipboard.writeText(text);
        return true;
    } catch {
        const ta = h('textarea', { 'aria-hidden': 'true', style: 'position:fixed;left:-9999px' });
        ta.value = text;
        document.body.append(ta);
        ta.select();
        let ok = false;
        try { ok = document.execCommand('copy'); } catch { ok = false; }
        ta.remove();
        return ok;
    }
}

function snippet(label, text) {
    const msg = h('span', { class: 'copy-msg', role: 'status' });
    const button = h('button', { type: 'button', class: 'copy', 'aria-label': `copy: ${label}`, onclick: async () => {
        msg.textContent = (await copyText(text)) ? 'Copied' : 'Select the text and copy it';
        setTimeout(() => { msg.textContent = ''; }, 2500);
    } }, 'Copy');
    return h('div', { class: 'snippet' }, h('div', { class: 'snippet-head' }, h('span', {}, label), h('span', { class: 'spacer' }), msg, button),
        h('pre', {}, h('code', {}, text)));
}

/**
 * The first-run panel. origin: this server's URL (location.origin);
 * experiment: the experiment the commands log to ('' for the default one).
 */
export function firstRun({ origin, experiment = '' }) {
    const exp = experiment || 'my-first-experiment';
    const env = `MLFLOW_TRACKING_URI=${origin}`;
    const python = [
        'import mlflow',
        '',
        `mlflow.set_experiment(${pyString(exp)})`,
        'with mlflow.start_run(run_name="first-run"):',
        '    mlflow.log_param("lr", 0.01)',
        '    for step in range(100):',
        '        mlflow.log_metric("loss", 1 / (step + 1), step=step)',
    ].join('\n');
    const c = [
        '#include <exptrack.h>',
        '',
        'int main(void)',
        '{',
        '    et_client *c;',
        '    et_run *run;',
        '    if (et_client_new(NULL, &c) != ET_OK) /* the URL from $EXPTRACK_URL */',
        '        return 1;',
        `    if (et_run_start(c, ${cString(exp)}, "first-run", &run) != ET_OK)`,
        '        return 1;',
        '    et_log_param(run, "lr", "0.01");',
        '    for (int64_t step = 0; step < 100; step++)',
        '        et_log_metric(run, "loss", 1.0 / (double)(step + 1), step);',
        '    et_run_end(run, ET_RUN_FINISHED);',
        '    et_client_free(c);',
        '    return 0;',
        '}',
    ].join('\n');
    const build = [
        `export EXPTRACK_URL=${origin}`,
        'cc train.c $(pkg-config --cflags --libs exptrack) -o train && ./train',
    ].join('\n');
    const cli = [
        `export EXPTRACK_URL=${origin}`,
        `RUN=$(exptrack runs create --experiment ${shellWord(exp)} --name first-run)`,
        'exptrack log param "$RUN" lr 0.01',
        'exptrack log metric "$RUN" loss 0.5 --step 0',
        'exptrack runs end "$RUN"',
    ].join('\n');
    return h('section', { class: 'card first-run', 'aria-labelledby': 'first-run-title' },
        h('h2', { id: 'first-run-title' }, 'No runs yet: log your first one'),
        h('p', {}, 'Point any MLflow client at this server by setting one variable in the shell that runs your training:'),
        snippet('MLflow clients (Python, R, Java, JavaScript)', env),
        h('details', { open: true }, h('summary', {}, 'A first run from Python'), snippet('train.py (pip install mlflow)', python)),
        h('details', {}, h('summary', {}, 'From C, with libexptrack'), snippet('train.c', c), snippet('build and run', build)),
        h('details', {}, h('summary', {}, 'From the shell, with the exptrack CLI'), snippet('exptrack CLI', cli)),
        h('p', { class: 'muted' }, 'The run appears here as soon as it starts; its charts fill in while it trains.'));
}
