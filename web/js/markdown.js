// Safe Markdown for descriptions: the text is escaped first, then a small
// subset is recognised on the escaped text: headings (#..###), paragraphs,
// bullet and numbered lists, fenced and inline code, **bold**, *italic* and
// links whose target is http(s), mailto or a hash route. Raw HTML stays text.
// Pure (string in, HTML string out), so node tests can import it.

const ESC = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes s for HTML text and attribute values. */
export function escapeHtml(s) {
    return String(s).replace(/[&<>"']/g, (c) => ESC[c]);
}

/** Whether a link target (already escaped) may become an href. */
function safeHref(url) {
    return /^(https?:\/\/|mailto:|#\/)/i.test(url);
}

/** Inline spans of one escaped line: code first (its content is left alone). */
function inline(escaped) {
    const parts = escaped.split(/(`[^`]+`)/);
    return parts.map((p, i) => {
        if (i % 2) return `<code>${p.slice(1, -1)}</code>`;
        return p
            .replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, (m, text, url) => {
                if (!safeHref(url)) return m;
                const away = url.startsWith('#') ? '' : ' rel="noopener noreferrer" target="_blank"'; // a hash route stays in the tab
                return `<a href="${url}"${away}>${text}</a>`;
            })
            .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>')
            .replace(/(^|[^*])\*([^*\s][^*]*)\*/g, '$1<em>$2</em>');
    }).join('');
}

/** Renders Markdown text as safe HTML (every user character escaped). */
export function markdownToHtml(text) {
    const lines = String(text ?? '').replace(/\r\n?/g, '\n').split('\n');
    const out = [];
    let para = [], list = null, fence = null;
    const flushPara = () => { if (para.length) out.push(`<p>${para.map(inline).join('<br>')}</p>`); para = []; };
    const flushList = () => { if (list) out.push(`<${list.tag}>${list.items.map((x) => `<li>${inline(x)}</li>`).join('')}</${list.tag}>`); list = null; };
    for (const raw of lines) {
        const line = escapeHtml(raw);
        if (fence) {
            if (/^\s*```/.test(raw)) { out.push(`<pre><code>${fence.join('\n')}</code></pre>`); fence = null; } else fence.push(line);
            continue;
        }
        if (/^\s*```/.test(raw)) { flushPara(); flushList(); fence = []; continue; }
        let m;
        if ((m = /^(#{1,3})\s+(.*)$/.exec(line))) {
            flushPara(); flushList();
            const level = m[1].length + 2; // h3..h5 inside a page
            out.push(`<h${level}>${inline(m[2])}</h${level}>`);
        } else if ((m = /^\s*[-*+]\s+(.*)$/.exec(line)) || (m = /^\s*\d+[.)]\s+(.*)$/.exec(line))) {
            flushPara();
            const tag = /^\s*\d/.test(line) ? 'ol' : 'ul';
            if (list && list.tag !== tag) flushList();
            if (!list) list = { tag, items: [] };
            list.items.push(m[1]);
        } else if (!line.trim()) {
            flushPara(); flushList();
        } else {
            flushList();
            para.push(line);
        }
    }
    if (fence) out.push(`<pre><code>${fence.join('\n')}</code></pre>`);
    flushPara(); flushList();
    return out.join('\n');
}
