/* A trace read's body rendered as it is sent (span_stream.h). */
#include "span_stream.h"

#include <stdlib.h>
#include <string.h>

#include "common/sbuf.h"
#include "common/xalloc.h"
#include "span_writer.h"

/* One piece of the body: literal text (cursor NULL) or a cursor's spans. */
struct segment {
    size_t off, len; /* the text, in the stream's texts */
    struct span_cursor *cursor;
    int otlp;
};

struct span_stream {
    struct sbuf texts; /* every literal piece, one after the other */
    struct segment *segs;
    size_t nsegs, cap;
    size_t at;            /* the segment being written */
    size_t written;       /* spans of segs[at] written so far */
    struct sbuf out;      /* rendered, not yet sent: out[sent..len) */
    size_t sent;          /* bytes of out already handed over */
    struct span_writer w; /* writes into out */
};

struct span_stream *span_stream_new(void)
{
    struct span_stream *s = xcalloc(1, sizeof *s);
    sbuf_init(&s->texts);
    sbuf_init(&s->out);
    span_writer_init(&s->w, &s->out);
    return s;
}

static struct segment *push(struct span_stream *s)
{
    if (s->nsegs == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 8;
        s->segs = xrealloc(s->segs, s->cap * sizeof *s->segs);
    }
    struct segment *g = &s->segs[s->nsegs++];
    memset(g, 0, sizeof *g);
    return g;
}

void span_stream_text(struct span_stream *s, const char *text)
{
    size_t len = strlen(text);
    struct segment *last = s->nsegs > 0 ? &s->segs[s->nsegs - 1] : NULL;
    if (last != NULL && last->cursor == NULL) {
        last->len += len; /* texts are contiguous: widen the last piece */
    } else {
        struct segment *g = push(s);
        g->off = s->texts.len;
        g->len = len;
    }
    sbuf_add(&s->texts, text, len);
}

void span_stream_spans(struct span_stream *s, struct span_cursor *c, int otlp)
{
    struct segment *g = push(s);
    g->cursor = c;
    g->otlp = otlp;
}

/* Renders into out until it holds at least want bytes or the body ends. */
static void fill(struct span_stream *s, size_t want)
{
    while (s->out.len < want && s->at < s->nsegs) {
        struct segment *g = &s->segs[s->at];
        if (g->cursor == NULL) {
            sbuf_add(&s->out, s->texts.data + g->off, g->len);
            s->at++;
            continue;
        }
        struct trace_span span;
        if (!store_spans_next(g->cursor, &span)) {
            store_spans_close(g->cursor); /* its rows are no longer needed */
            g->cursor = NULL;
            g->len = 0;
            s->written = 0;
            s->at++;
            continue;
        }
        if (s->written++ > 0)
            sbuf_addc(&s->out, ',');
        if (g->otlp)
            span_writer_otlp(&s->w, &span);
        else
            span_writer_file(&s->w, &span);
    }
}

ssize_t span_stream_read(void *state, uint64_t pos, char *buf, size_t max)
{
    struct span_stream *s = state;

    (void)pos;
    if (s->out.len - s->sent < max) {
        /* Less than a full piece is rendered: keep the rest of the last
         * span (the overshoot of the previous fill) at the front and
         * render more behind it. Handing that rest over alone made every
         * other chunk of the reply a few hundred bytes: twice the chunks,
         * callbacks and send() calls, and small TCP segments. */
        size_t rest = s->out.len - s->sent;
        if (rest > 0) {
            memmove(s->out.data, s->out.data + s->sent, rest);
            s->out.data[rest] = '\0';
            s->out.len = rest;
        } else {
            sbuf_reset(&s->out);
        }
        s->sent = 0;
        fill(s, max);
        if (s->out.len == 0)
            return 0;
    }
    size_t take = s->out.len - s->sent < max ? s->out.len - s->sent : max;
    memcpy(buf, s->out.data + s->sent, take);
    s->sent += take;
    return (ssize_t)take;
}

void span_stream_free(void *state)
{
    struct span_stream *s = state;
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->nsegs; i++)
        store_spans_close(s->segs[i].cursor);
    free(s->segs);
    span_writer_cleanup(&s->w);
    sbuf_cleanup(&s->texts);
    sbuf_cleanup(&s->out);
    free(s);
}
