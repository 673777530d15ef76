/* libFuzzer target for the trace search language (server/traces/filter.c)
 * and the OTLP/JSON span decoder (server/traces/api_traces_spans.c). The
 * first byte picks what the rest is: a filter (0), an order_by string (1)
 * or an ExportTraceServiceRequest in JSON (2). Checks that every accepted
 * comparison is complete, that an error always comes with a message, and
 * that a decoded batch is sorted, grouped and holds only valid ids, with
 * attributes and events text that is exactly what jansson's compact dump
 * of it writes (the decoder writes that text itself, without a tree, and
 * must keep the bytes the tree's dump stored before). */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "traces/api_traces_spans.h"
#include "traces/filter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_filter(const struct trace_filter *f)
{
    for (size_t i = 0; i < f->n; i++) {
        const struct trace_cond *c = &f->conds[i];
        int list = c->op == TO_IN || c->op == TO_NOT_IN;
        int null_test = c->op == TO_IS_NULL || c->op == TO_IS_NOT_NULL;
        if (list ? c->values == NULL || c->nvalues == 0
                 : !c->numeric && !null_test && c->value == NULL)
            abort();
        if (c->entity != TE_ATTR && (c->key == NULL || c->key[0] == '\0'))
            abort();
        if (null_test && c->entity == TE_ATTR)
            abort();
        if (c->numeric && (list || c->op == TO_LIKE || c->op == TO_ILIKE))
            abort();
    }
}

static int hex_id(const char *s, size_t n)
{
    if (strlen(s) != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

/* Aborts unless text parses and dumps back to itself, byte for byte. */
static void check_canonical(const char *text)
{
    json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
    if (v == NULL)
        abort();
    char *again = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (again == NULL || strcmp(again, text) != 0)
        abort();
    free(again);
    json_decref(v);
}

static void check_batch(const struct span_batch *b)
{
    size_t traces = 0;
    for (size_t i = 0; i < b->nspans; i++) {
        const struct trace_span *s = &b->spans[i];
        if (strncmp(s->trace_id, "tr-", 3) != 0 || !hex_id(s->trace_id + 3, 32) ||
            !hex_id(s->span_id, 16) || (s->parent_span_id && !hex_id(s->parent_span_id, 16)))
            abort();
        if (s->end_ns < s->start_ns || s->attributes == NULL || s->events == NULL)
            abort();
        check_canonical(s->attributes);
        check_canonical(s->events);
        if (i > 0) {
            int c = strcmp(b->spans[i - 1].trace_id, s->trace_id);
            if (c > 0 || (c == 0 && strcmp(b->spans[i - 1].span_id, s->span_id) >= 0))
                abort();
            traces += c != 0;
        } else {
            traces = 1;
        }
    }
    if (traces != b->ntraces)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    char *text = malloc(size);
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    char err[600] = "";
    struct arena arena;
    arena_init(&arena);
    switch (data[0] % 3) {
    case 0: {
        struct trace_filter f;
        if (trace_filter_parse(text, &arena, &f, err, sizeof err) == 0)
            check_filter(&f);
        else if (err[0] == '\0')
            abort();
        break;
    }
    case 1: {
        struct trace_order o;
        if (trace_order_parse(text, &arena, &o, err, sizeof err) != 0 && err[0] == '\0')
            abort();
        break;
    }
    default: {
        json_t *doc = json_loadb((const char *)data + 1, size - 1, 0, NULL);
        struct span_batch b;
        if (doc != NULL) {
            if (span_batch_decode(doc, &arena, &b, err, sizeof err) == 0)
                check_batch(&b);
            else if (err[0] == '\0')
                abort();
            json_decref(doc);
        }
        break;
    }
    }
    arena_cleanup(&arena);
    free(text);
    return 0;
}
