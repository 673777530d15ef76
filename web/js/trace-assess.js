// The trace page's assessments: the trace's feedback and expectations (the
// overridden ones marked), each editable in place (PATCH), replaceable by an
// override (a new assessment naming it in `overrides`) or deleted after a
// confirmation; and a form that adds human feedback, thumbs up or down with
// a comment, recorded under the signed-in user's name. All through the V3
// assessments API; a refusal is shown in words and the form stays filled.
import { call, mlflow3, exptrack } from './api.js';
import { h, fmtTime } from './util.js';
import { assessmentValue } from './trace-spans.js';
import { confirmChange } from './registry.js';

/** The source_id of feedback when no user is known (a server without --auth). */
export const ANONYMOUS_SOURCE = 'exptrack dashboard';

let whoami = null; // Promise<string|null>: the signed-in user's name, asked once per page load

/**
 * The signed-in user's name (GET exptrack/users/current), or null without
 * --auth or on a server without that route. Asked once per page load.
 */
export function currentUser() {
    whoami ??= exptrack.get('/users/current').then((r) => (r.authentication && r.user?.username) || null, () => null);
    return whoami;
}

function refusedWords(e, what) {
    if (e?.status === 403 || e?.code === 'PERMISSION_DENIED') {
        return `You do not have permission to ${what} this trace. Ask the experiment's owner for EDIT on it. (${e.message})`;
    }
    if (e?.status === 401) return `Sign in again to ${what} this trace. (${e.message})`;
    return null;
}

/** The words for a refused feedback. */
export function feedbackError(e) {
    return refusedWords(e, 'add feedback to') || `Could not add the feedback: ${e?.code ? `${e.code}: ` : ''}${e?.message || e}`;
}

/** The words for a refused edit, override or delete of an assessment. */
export function changeError(e) {
    return refusedWords(e, 'change the assessments of') || `Could not change the assessment: ${e?.code ? `${e.code}: ` : ''}${e?.message || e}`;
}

const assessPath = (traceId, id = '') => `/mlflow/traces/${encodeURIComponent(traceId)}/assessments${id ? `/${encodeURIComponent(id)}` : ''}`;

function sourceText(a) {
    const s = a.source || {};
    if (s.source_type === 'HUMAN' && s.source_id) return s.source_id;
    return [s.source_type, s.source_id].filter(Boolean).join(' ');
}

/** The kind of value an assessment holds and that value: {kind: 'feedback'|'expectation'|'issue', value}. */
function valueOf(a) {
    if (a.feedback) return { kind: 'feedback', value: a.feedback.value };
    if (a.expectation) return { kind: 'expectation', value: a.expectation.value ?? a.expectation.serialized_value?.value };
    return { kind: 'issue', value: a.issue?.issue_name };
}

/** Parses the text of a value input: JSON when it reads as JSON, else the text itself. */
function parseValue(text) {
    const t = text.trim();
    try { return JSON.parse(t); } catch { return t; }
}

/** Two thumbs buttons that set value through pick(v); returns [up, down]. */
function thumbs(current, pick) {
    const mk = (v, label, text) => h('button', { type: 'button', class: `thumb thumb-${v ? 'up' : 'down'}`, 'aria-pressed': String(current === v), 'aria-label': label, title: label,
        onclick: (ev) => {
            pick(v);
            for (const b of ev.currentTarget.parentElement.querySelectorAll('button.thumb')) b.setAttribute('aria-pressed', String(b === ev.currentTarget));
        } }, text);
    return [mk(true, 'thumbs up', '✓ Yes'), mk(false, 'thumbs down', '✗ No')];
}

/**
 * Fills box with the assessments of info (a TraceInfoV3) and the feedback
 * form. spanId(): the selected span's id, if the feedback is about it.
 */
export function assessmentsCard(box, info, { spanId }) {
    let list = (info.assessments || []).slice();
    const traceId = info.trace_id;
    const listBox = h('div', { class: 'assessment-list' });
    const listMsg = h('div', { class: 'assess-msg', role: 'status' });
    let editing = ''; // the assessment whose row is open for editing

    const show = () => {
        list.sort((a, b) => String(a.create_time).localeCompare(String(b.create_time)));
        box.dataset.count = String(list.length);
        listBox.replaceChildren(table());
    };
    // Reads the trace's assessments again (an override changes another row's validity).
    const reload = async () => {
        const r = await mlflow3.get(`/traces/${encodeURIComponent(traceId)}`);
        list = (r.trace?.trace_info?.assessments || []).slice();
        show();
    };
    const say = (text, error = false) => {
        listMsg.className = `assess-msg${error ? ' error' : ''}`;
        listMsg.setAttribute('role', error ? 'alert' : 'status');
        listMsg.textContent = text;
    };

    function table() {
        if (!list.length) return h('p', { class: 'muted' }, 'No assessments yet.');
        return h('table', { class: 'grid assessments' },
            h('thead', {}, h('tr', {}, ['Name', 'Value', 'Comment', 'Source', 'Span', 'When', ''].map((t) => h('th', { scope: 'col' }, t ? t : h('span', { class: 'sr-only' }, 'Actions'))))),
            h('tbody', {}, list.flatMap((a) => {
                const row = h('tr', { dataset: { assessment: a.assessment_id }, class: a.valid === false ? 'overridden' : null },
                    h('td', { class: 'name' }, a.assessment_name, a.expectation ? h('span', { class: 'muted' }, ' (expected)') : null),
                    h('td', { class: 'value' }, assessmentValue(a)),
                    h('td', { class: 'rationale' }, a.rationale || ''),
                    h('td', { class: 'source' }, sourceText(a)),
                    h('td', {}, a.span_id ? h('code', {}, a.span_id.slice(0, 8)) : ''),
                    h('td', { title: a.valid === false ? 'overridden by a later assessment' : '' }, fmtTime(Date.parse(a.create_time)),
                        a.valid === false ? h('span', { class: 'muted' }, ' overridden') : null),
                    h('td', { class: 'actions' },
                        h('button', { type: 'button', class: 'small edit-assessment', 'aria-expanded': String(editing === a.assessment_id), 'aria-label': `edit ${a.assessment_name}`,
                            onclick: () => { editing = editing === a.assessment_id ? '' : a.assessment_id; show(); listBox.querySelector('.assessment-editor input, .assessment-editor button.thumb[aria-pressed=true], .assessment-editor textarea')?.focus(); } }, 'Edit'),
                        h('button', { type: 'button', class: 'small danger delete-assessment', 'aria-label': `delete ${a.assessment_name}`, onclick: () => remove(a) }, 'Delete')));
                return editing === a.assessment_id ? [row, editor(a)] : [row];
            })));
    }

    // The row under an assessment that edits its value and comment: Save
    // changes it (PATCH); Override records a new assessment that replaces it
    // (the old one stays, marked overridden).
    function editor(a) {
        const { kind, value } = valueOf(a);
        let next = value;
        const boolean = kind === 'feedback' && typeof value === 'boolean';
        const valueInput = boolean ? null : h('input', { type: 'text', class: 'edit-value', 'aria-label': 'value', value: typeof value === 'string' ? value : JSON.stringify(value ?? null) });
        const comment = h('textarea', { class: 'edit-comment', rows: 2, 'aria-label': 'comment', value: a.rationale || '', placeholder: 'Comment (optional)' });
        const msg = h('div', { class: 'assess-msg', role: 'status' });
        const fields = () => {
            const v = valueInput ? parseValue(valueInput.value) : next;
            const body = kind === 'issue' ? { issue: { issue_name: String(v) } } : { [kind]: { value: v } };
            return { body, rationale: comment.value.trim() };
        };
        const run = async (btn, fn, done) => {
            for (const b of ed.querySelectorAll('button')) b.disabled = true;
            msg.className = 'assess-msg';
            msg.textContent = 'Saving…';
            try {
                await fn();
                editing = '';
                await reload();
                say(done);
            } catch (e) {
                msg.className = 'assess-msg error';
                msg.setAttribute('role', 'alert');
                msg.textContent = changeError(e);
                for (const b of ed.querySelectorAll('button')) b.disabled = false;
                btn.focus();
            }
        };
        const save = h('button', { type: 'submit', class: 'primary save-assessment' }, 'Save');
        const override = h('button', { type: 'button', class: 'override-assessment', title: 'keep this assessment, marked overridden, and record the new value as yours' }, 'Override');
        const cancel = h('button', { type: 'button', class: 'cancel-edit', onclick: () => { editing = ''; show(); } }, 'Cancel');
        save.addEventListener('click', (ev) => {
            ev.preventDefault();
            const { body, rationale } = fields();
            const mask = [kind === 'issue' ? null : kind, 'rationale'].filter(Boolean);
            run(save, () => call('PATCH', assessPath(traceId, a.assessment_id), {
                base: '/api/3.0', body: { assessment: { ...body, rationale }, update_mask: mask.join(',') },
            }), `${a.assessment_name} changed.`);
        });
        override.addEventListener('click', () => {
            const { body, rationale } = fields();
            run(override, async () => {
                const assessment = {
                    assessment_name: a.assessment_name, trace_id: traceId, overrides: a.assessment_id,
                    source: { source_type: 'HUMAN', source_id: (await currentUser()) || ANONYMOUS_SOURCE }, ...body,
                };
                if (a.span_id) assessment.span_id = a.span_id;
                if (rationale) assessment.rationale = rationale;
                await call('POST', assessPath(traceId), { base: '/api/3.0', body: { assessment } });
            }, `${a.assessment_name} overridden.`);
        });
        const ed = h('tr', { class: 'assessment-editor', dataset: { editing: a.assessment_id } },
            h('td', { colspan: 7 }, h('div', { class: 'feedback-row' },
                h('span', { class: 'muted' }, `Edit ${a.assessment_name}:`),
                boolean ? thumbs(value, (v) => { next = v; }) : valueInput, comment),
            h('div', { class: 'feedback-row' }, save, override, cancel, msg)));
        ed.addEventListener('keydown', (ev) => { if (ev.key === 'Escape') { ev.stopPropagation(); editing = ''; show(); box.querySelector(`tr[data-assessment="${a.assessment_id}"] .edit-assessment`)?.focus(); } });
        return ed;
    }

    async function remove(a) {
        const done = await confirmChange({
            title: 'Delete this assessment?',
            body: h('p', {}, `${a.assessment_name} (${assessmentValue(a)}${sourceText(a) ? `, by ${sourceText(a)}` : ''}) is removed from this trace for good.`,
                a.overrides ? ' The assessment it overrode stays marked overridden.' : ''),
            confirmText: 'Delete',
            action: () => call('DELETE', assessPath(traceId, a.assessment_id), { base: '/api/3.0' }),
            errorText: changeError,
        });
        if (!done) return;
        if (editing === a.assessment_id) editing = '';
        try { await reload(); } catch { list = list.filter((x) => x.assessment_id !== a.assessment_id); show(); }
        say(`${a.assessment_name} deleted.`);
    }

    const msg = h('div', { class: 'feedback-msg', role: 'status' });
    let value = null;
    const name = h('input', { type: 'text', name: 'name', value: 'user_feedback', 'aria-label': 'feedback name', size: 14 });
    const comment = h('textarea', { name: 'comment', rows: 2, 'aria-label': 'comment', placeholder: 'Comment (optional)' });
    const onSpan = h('input', { type: 'checkbox', name: 'on-span' });
    const submit = h('button', { type: 'submit', class: 'primary' }, 'Add feedback');
    const who = h('span', { class: 'muted feedback-as' });
    currentUser().then((u) => { if (u) who.textContent = `as ${u}`; });
    const form = h('form', { class: 'feedback-form', 'aria-label': 'add feedback', onsubmit: async (ev) => {
        ev.preventDefault();
        if (value === null) { msg.className = 'feedback-msg error'; msg.textContent = 'Choose thumbs up or thumbs down first.'; return; }
        if (!name.value.trim()) { msg.className = 'feedback-msg error'; msg.textContent = 'Give the feedback a name.'; return; }
        submit.disabled = true;
        msg.className = 'feedback-msg';
        msg.textContent = 'Saving…';
        const assessment = {
            assessment_name: name.value.trim(), trace_id: traceId,
            source: { source_type: 'HUMAN', source_id: (await currentUser()) || ANONYMOUS_SOURCE }, feedback: { value },
        };
        if (comment.value.trim()) assessment.rationale = comment.value.trim();
        const sp = onSpan.checked ? spanId() : '';
        if (sp) assessment.span_id = sp;
        try {
            const r = await mlflow3.post(`/traces/${encodeURIComponent(traceId)}/assessments`, { assessment });
            list.push(r.assessment);
            show();
            msg.textContent = 'Feedback saved.';
            comment.value = '';
            value = null;
            for (const b of form.querySelectorAll('button.thumb')) b.setAttribute('aria-pressed', 'false');
        } catch (e) {
            msg.className = 'feedback-msg error';
            msg.setAttribute('role', 'alert');
            msg.textContent = feedbackError(e);
        } finally {
            submit.disabled = false;
        }
    } },
    h('div', { class: 'feedback-row' }, thumbs(null, (v) => { value = v; }), name,
        h('label', { class: 'muted' }, onSpan, ' about the selected span')),
    comment, h('div', { class: 'feedback-row' }, submit, who, msg));
    show();
    box.replaceChildren(h('h2', {}, 'Assessments'), listBox, listMsg, form);
}
