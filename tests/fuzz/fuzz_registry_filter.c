/* libFuzzer target for the model registry's filter and order_by parser
 * (server/registry/filter.c). The first byte picks the search (models or
 * versions) and whether the text is a filter or an order_by clause; the
 * rest is the text. Checks that every accepted comparison is complete and
 * that an error always comes with a message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "registry/filter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_filter(const struct reg_filter *f)
{
    for (size_t i = 0; i < f->n; i++) {
        const struct reg_cond *c = &f->conds[i];
        if (c->op == RO_IN ? c->values == NULL && c->nvalues > 0 : c->value == NULL)
            abort();
        if (c->field == RF_TAG && (c->tag_key == NULL || c->tag_key[0] == '\0'))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    enum reg_kind kind = (data[0] & 1) ? REG_VERSIONS : REG_MODELS;
    char *text = malloc(size);
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    char err[512] = "";
    if (data[0] & 2) {
        struct reg_order order = {0};
        for (int i = 0; i < 3; i++)
            if (filter_order_add(kind, text, &order, err, sizeof err) != 0 && err[0] == '\0')
                abort();
        filter_order_finish(kind, &order);
        if (order.n > sizeof order.key / sizeof order.key[0])
            abort();
    } else {
        struct arena arena;
        struct reg_filter f;
        arena_init(&arena);
        if (filter_parse(kind, text, &arena, &f, err, sizeof err) == 0)
            check_filter(&f);
        else if (err[0] == '\0')
            abort();
        arena_cleanup(&arena);
    }
    free(text);
    return 0;
}
