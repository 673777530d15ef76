/* A canonical text form of a parsed filter, fully parenthesised, with
 * entity types and attribute aliases resolved: what the data-driven parser
 * tests (tests/data/search/NAME.case) compare against. */
#include <stdio.h>

#include "search.h"
#include "common/sbuf.h"

static const char *entity_name(enum search_entity e)
{
    switch (e) {
    case SE_METRIC:
        return "metric";
    case SE_PARAM:
        return "param";
    case SE_TAG:
        return "tag";
    case SE_ATTR:
        return "attr";
    case SE_DATASET:
        return "dataset";
    }
    return "?";
}

static const char *attr_name(enum search_attr a)
{
    static const char *const names[] = {"",           "run_id",        "run_name",
                                        "status",     "user_id",       "artifact_uri",
                                        "start_time", "end_time",      "name",
                                        "digest",     "context",       "experiment_id",
                                        "name",       "creation_time", "last_update_time"};
    return (size_t)a < sizeof names / sizeof names[0] ? names[a] : "?";
}

static void render(struct sbuf *b, const struct search_node *n)
{
    if (n->kind != SN_CMP) {
        sbuf_addc(b, '(');
        render(b, n->left);
        sbuf_adds(b, n->kind == SN_AND ? " AND " : " OR ");
        render(b, n->right);
        sbuf_addc(b, ')');
        return;
    }
    const struct search_ident *id = &n->ident;
    const char *key = id->attr != SA_NONE ? attr_name(id->attr) : id->key;
    sbuf_addf(b, "%s:[%s] %s", entity_name(id->entity), key, search_op_name(n->op));
    if (n->value_kind == SV_NUMBER)
        sbuf_addf(b, " %s%s", n->text, n->is_integer ? "" : "f");
    else if (n->value_kind == SV_STRING)
        sbuf_addf(b, " '%s'", n->text);
    else if (n->value_kind == SV_LIST) {
        sbuf_adds(b, " (");
        for (size_t i = 0; i < n->nlist; i++)
            sbuf_addf(b, "%s'%s'", i ? ", " : "", n->list[i]);
        sbuf_addc(b, ')');
    }
}

size_t search_render(const struct search_node *node, char *buf, size_t size)
{
    struct sbuf b;
    sbuf_init(&b);
    if (node == NULL)
        sbuf_adds(&b, "(empty)");
    else
        render(&b, node);
    size_t need = b.len;
    if (size > 0)
        snprintf(buf, size, "%s", b.data);
    sbuf_cleanup(&b);
    return need;
}
