/* libFuzzer target for the logged-model search language
 * (server/logged_models/filter.c) and the mlflow.modelVersions normalizer
 * (model_versions.c). The first byte picks what the rest is: a filter (0),
 * an order_by field name (1) or a tag value (2). Checks that every accepted
 * comparison is complete, that an error always comes with a message, and
 * that a normalized tag value normalizes to itself. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "logged_models/filter.h"
#include "logged_models/model_versions.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_filter(const struct lm_filter *f)
{
    for (size_t i = 0; i < f->n; i++) {
        const struct lm_cond *c = &f->conds[i];
        int list = c->op == LMO_IN || c->op == LMO_NOT_IN;
        if (list ? c->values == NULL || c->nvalues == 0 : !c->numeric && c->value == NULL)
            abort();
        if (c->entity != LME_ATTR && (c->key == NULL || c->key[0] == '\0'))
            abort();
        if (c->numeric && (list || c->op == LMO_LIKE || c->op == LMO_ILIKE))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    char *text = malloc(size);
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    char err[600] = "";
    switch (data[0] % 3) {
    case 0: {
        struct arena arena;
        struct lm_filter f;
        arena_init(&arena);
        if (lm_filter_parse(text, &arena, &f, err, sizeof err) == 0)
            check_filter(&f);
        else if (err[0] == '\0')
            abort();
        arena_cleanup(&arena);
        break;
    }
    case 1: {
        struct lm_order_field o;
        if (lm_order_field_parse(text, &o, err, sizeof err) != 0 && err[0] == '\0')
            abort();
        break;
    }
    default: {
        char *once = lm_model_versions_normalize(text);
        if (once != NULL) {
            char *twice = lm_model_versions_normalize(once);
            if (twice == NULL || strcmp(once, twice) != 0)
                abort();
            free(twice);
        }
        free(once);
        break;
    }
    }
    free(text);
    return 0;
}
