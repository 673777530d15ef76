// The trace page's assessments: the trace's feedback and expectations (the
// overridden ones marked), and a form that adds human feedback, thumbs up
// or down with a comment, through the V3 assessments API; a refusal is
// shown in words and the form stays filled.
import { mlflow3 } from './api.js';
import { h, fmtTime } from './util.js';
import { assessmentValue } from './trace-spans.js';

/** The words for a refused feedback. */
export function feedbackError(e) {
    if (e?.status === 403 || e?.code === 'PERMISSION_DENIED') {
        return `You do not have permission to add feedback to this trace. Ask the experiment's owner for EDIT on it. (${e.message})`;
    }
    if (e?.status === 401) return `Sign in again to add feedback. (${e.message})`;
    return `Could not add the feedback: ${e?.code ? `${e.code}: ` : ''}${e?.message || e}`;
}

function assessmentList(list) {
    if (!list.length) return h('p', { class: 'muted' }, 'No assessments yet.');
    return h('table', { class: 'grid assessments' },
        h('thead', {}, h('tr', {}, ['Name', 'Value', 'Comment', 'Source', 'Span', 'When'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, list.map((a) => h('tr', { dataset: { assessment: a.assessment_id }, class: a.valid === false ? 'overridden' : null },
            h('td', {}, a.assessment_name, a.expectation ? h('span', { class: 'muted' }, ' (expected)') : null),
            h('td', { class: 'value' }, assessmentValue(a)),
            h('td', { class: 'rationale' }, a.rationale || ''),
            h('td', {}, [a.source?.source_type, a.source?.source_id].filter(Boolean).join(' ')),
            h('td', {}, a.span_id ? h('code', {}, a.span_id.slice(0, 8)) : ''),
            h('td', { title: a.valid === false ? 'overridden by a later assessment' : '' }, fmtTime(Date.parse(a.create_time)),
                a.valid === false ? h('span', { class: 'muted' }, ' overridden') : null)))));
}

/**
 * Fills box with the assessments of info (a TraceInfoV3) and the feedback
 * form. spanId(): the selected span's id, if the feedback is about it.
 */
export function assessmentsCard(box, info, { spanId }) {
    const list = (info.assessments || []).slice().sort((a, b) => String(a.create_time).localeCompare(String(b.create_time)));
    const listBox = h('div', { class: 'assessment-list' }, assessmentList(list));
    const msg = h('div', { class: 'feedback-msg', role: 'status' });
    let value = null;
    const thumb = (v, label, text) => h('button', { type: 'button', class: `thumb thumb-${v ? 'up' : 'down'}`, 'aria-pressed': 'false', 'aria-label': label, title: label,
        onclick: (ev) => {
            value = v;
            for (const b of form.querySelectorAll('button.thumb')) b.setAttribute('aria-pressed', String(b === ev.currentTarget));
        } }, text);
    const name = h('input', { type: 'text', name: 'name', value: 'user_feedback', 'aria-label': 'feedback name', size: 14 });
    const comment = h('textarea', { name: 'comment', rows: 2, 'aria-label': 'comment', placeholder: 'Comment (optional)' });
    const onSpan = h('input', { type: 'checkbox', name: 'on-span' });
    const submit = h('button', { type: 'submit', class: 'primary' }, 'Add feedback');
    const form = h('form', { class: 'feedback-form', 'aria-label': 'add feedback', onsubmit: async (ev) => {
        ev.preventDefault();
        if (value === null) { msg.className = 'feedback-msg error'; msg.textContent = 'Choose thumbs up or thumbs down first.'; return; }
        if (!name.value.trim()) { msg.className = 'feedback-msg error'; msg.textContent = 'Give the feedback a name.'; return; }
        const assessment = {
            assessment_name: name.value.trim(), trace_id: info.trace_id,
            source: { source_type: 'HUMAN', source_id: 'exptrack dashboard' }, feedback: { value },
        };
        if (comment.value.trim()) assessment.rationale = comment.value.trim();
        const sp = onSpan.checked ? spanId() : '';
        if (sp) assessment.span_id = sp;
        submit.disabled = true;
        msg.className = 'feedback-msg';
        msg.textContent = 'Saving…';
        try {
            const r = await mlflow3.post(`/traces/${encodeURIComponent(info.trace_id)}/assessments`, { assessment });
            list.push(r.assessment);
            listBox.replaceChildren(assessmentList(list));
            msg.textContent = 'Feedback saved.';
            comment.value = '';
            value = null;
            for (const b of form.querySelectorAll('button.thumb')) b.setAttribute('aria-pressed', 'false');
            box.dataset.count = String(list.length);
        } catch (e) {
            msg.className = 'feedback-msg error';
            msg.setAttribute('role', 'alert');
            msg.textContent = feedbackError(e);
        } finally {
            submit.disabled = false;
        }
    } },
    h('div', { class: 'feedback-row' }, thumb(true, 'thumbs up', '👍 Yes'), thumb(false, 'thumbs down', '👎 No'), name,
        h('label', { class: 'muted' }, onSpan, ' about the selected span')),
    comment, h('div', { class: 'feedback-row' }, submit, msg));
    box.dataset.count = String(list.length);
    box.replaceChildren(h('h2', {}, 'Assessments'), listBox, form);
}
