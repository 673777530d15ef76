/* Identifier resolution and the per-field rules of mlflow-api.md §8.1/§8.2:
 * type spellings, attribute aliases, allowed comparators and value kinds. */
#include "search_ident.h"

#include <string.h>
#include <strings.h>

struct name_map {
    const char *name;
    int value;
};

static const struct name_map run_types[] = {
    {"metric", SE_METRIC},   {"metrics", SE_METRIC},   {"param", SE_PARAM}, {"params", SE_PARAM},
    {"parameter", SE_PARAM}, {"parameters", SE_PARAM}, {"tag", SE_TAG},     {"tags", SE_TAG},
    {"attribute", SE_ATTR},  {"attributes", SE_ATTR},  {"attr", SE_ATTR},   {"run", SE_ATTR},
    {"dataset", SE_DATASET}, {"datasets", SE_DATASET}, {NULL, 0},
};

/* experiments/search: only the singular "attribute." prefix (§8.2) */
static const struct name_map experiment_types[] = {
    {"attribute", SE_ATTR},
    {"tag", SE_TAG},
    {"tags", SE_TAG},
    {NULL, 0},
};

static const struct name_map run_attrs[] = {
    {"run_id", SA_RUN_ID},
    {"run_name", SA_RUN_NAME},
    {"run name", SA_RUN_NAME},
    {"Run name", SA_RUN_NAME},
    {"Run Name", SA_RUN_NAME},
    {"status", SA_STATUS},
    {"user_id", SA_USER_ID},
    {"artifact_uri", SA_ARTIFACT_URI},
    {"start_time", SA_START_TIME},
    {"created", SA_START_TIME},
    {"Created", SA_START_TIME},
    {"end_time", SA_END_TIME},
    {NULL, 0},
};

static const struct name_map dataset_attrs[] = {
    {"name", SA_DS_NAME},
    {"digest", SA_DS_DIGEST},
    {"context", SA_DS_CONTEXT},
    {NULL, 0},
};

static const struct name_map experiment_attrs[] = {
    {"name", SA_EXP_NAME},
    {"creation_time", SA_EXP_CREATION_TIME},
    {"last_update_time", SA_EXP_LAST_UPDATE_TIME},
    {"experiment_id", SA_EXP_ID},
    {NULL, 0},
};

static const char *const keywords[] = {"AND",   "OR", "NOT",  "IN", "LIKE",
                                       "ILIKE", "IS", "NULL", NULL};

static int lookup(const struct name_map *map, const char *s, size_t len, int *out)
{
    for (; map->name != NULL; map++) {
        if (strlen(map->name) == len && memcmp(map->name, s, len) == 0) {
            *out = map->value;
            return 0;
        }
    }
    return -1;
}

static int is_reserved(const struct token *t)
{
    for (size_t i = 0; keywords[i] != NULL; i++)
        if ((size_t)t->body_len == strlen(keywords[i]) &&
            strncasecmp(t->body, keywords[i], (size_t)t->body_len) == 0)
            return 1;
    return 0;
}

/* Resolves an attribute (or dataset field) name into out->attr. */
static int resolve_attr(const char *src, enum search_dialect dialect, enum ident_use use,
                        struct search_ident *out, struct search_error *err)
{
    int attr = SA_NONE;
    size_t len = strlen(out->key);
    const struct name_map *map = out->entity == SE_DATASET       ? dataset_attrs
                                 : dialect == SEARCH_EXPERIMENTS ? experiment_attrs
                                                                 : run_attrs;
    if (lookup(map, out->key, len, &attr) < 0 || (attr == SA_EXP_ID && use == IDENT_FILTER)) {
        if (out->entity == SE_DATASET)
            return search_fail(err, src, out->offset,
                               "unknown dataset field '%.100s' (expected name, digest or context)",
                               out->key);
        if (dialect == SEARCH_EXPERIMENTS)
            return search_fail(err, src, out->offset,
                               "unknown experiment attribute '%.100s' (expected name, "
                               "creation_time or last_update_time%s)",
                               out->key, use == IDENT_ORDER ? " or experiment_id" : "");
        return search_fail(err, src, out->offset,
                           "unknown attribute '%.100s' (expected run_id, run_name, status, "
                           "user_id, artifact_uri, start_time or end_time; metrics, params and "
                           "tags need a prefix such as metrics.%.100s)",
                           out->key, out->key);
    }
    out->attr = (enum search_attr)attr;
    return 0;
}

/* Reads the key after "type." : the rest of the word, or a quoted name. */
static int read_key(const char *src, const struct token_list *toks, int *pos, const char *dot,
                    const struct token *word, struct arena *arena, struct search_ident *out,
                    struct search_error *err)
{
    size_t rest = (size_t)(word->body + word->body_len - (dot + 1));
    if (rest > 0) {
        out->key = arena_strndup(arena, dot + 1, rest);
        return 0;
    }
    const struct token *t = &toks->tok[*pos];
    if (t->kind != TK_BACKTICK && t->kind != TK_DQSTRING)
        return search_fail(err, src, t->offset,
                           "expected a key after '%.*s' (quote keys with spaces or dashes in "
                           "backquotes: %.*s`my key`)",
                           word->body_len > 40 ? 40 : word->body_len, word->body,
                           word->body_len > 40 ? 40 : word->body_len, word->body);
    (*pos)++;
    if (t->body_len == 0)
        return search_fail(err, src, t->offset, "empty key after '%.*s'",
                           word->body_len > 40 ? 40 : word->body_len, word->body);
    out->key = arena_strndup(arena, t->body, (size_t)t->body_len);
    return 0;
}

/* Resolves "type" of "type.key" into out->entity. */
static int resolve_type(const char *src, enum search_dialect dialect, const struct token *word,
                        size_t type_len, struct search_ident *out, struct search_error *err)
{
    int entity;
    const struct name_map *types = dialect == SEARCH_EXPERIMENTS ? experiment_types : run_types;
    if (lookup(types, word->body, type_len, &entity) == 0) {
        out->entity = (enum search_entity)entity;
        return 0;
    }
    if (dialect == SEARCH_EXPERIMENTS)
        return search_fail(err, src, word->offset,
                           "unknown field type '%.*s' (expected attribute., tag. or tags.)",
                           (int)(type_len > 60 ? 60 : type_len), word->body);
    return search_fail(err, src, word->offset,
                       "unknown field type '%.*s' (expected metrics., params., tags., "
                       "attributes. or datasets.)",
                       (int)(type_len > 60 ? 60 : type_len), word->body);
}

int ident_parse(const char *src, const struct token_list *toks, int *pos,
                enum search_dialect dialect, enum ident_use use, struct arena *arena,
                struct search_ident *out, struct search_error *err)
{
    const struct token *t = &toks->tok[*pos];
    char found[64];

    memset(out, 0, sizeof *out);
    out->offset = t->offset;
    out->entity = SE_ATTR;
    const struct token *next = t->kind != TK_EOF ? &toks->tok[*pos + 1] : t;
    if (t->kind == TK_BACKTICK && next->kind == TK_WORD && next->body[0] == '.' &&
        next->offset == t->offset + t->len) {
        /* `params`.lr or `params`.`lr`: MLflow takes a backquoted type too */
        *pos += 2;
        if (resolve_type(src, dialect, t, (size_t)t->body_len, out, err) < 0 ||
            read_key(src, toks, pos, next->body, next, arena, out, err) < 0)
            return -1;
    } else if (t->kind == TK_BACKTICK || t->kind == TK_DQSTRING) {
        (*pos)++;
        out->key = arena_strndup(arena, t->body, (size_t)t->body_len);
    } else if (t->kind == TK_WORD && !is_reserved(t)) {
        (*pos)++;
        const char *dot = memchr(t->body, '.', (size_t)t->body_len);
        if (dot == NULL) {
            out->key = arena_strndup(arena, t->body, (size_t)t->body_len);
        } else {
            if (resolve_type(src, dialect, t, (size_t)(dot - t->body), out, err) < 0 ||
                read_key(src, toks, pos, dot, t, arena, out, err) < 0)
                return -1;
        }
    } else {
        return search_fail(err, src, t->offset,
                           "expected an identifier such as metrics.acc, params.lr or "
                           "attributes.status, found %s",
                           search_token_text(t, src, found, sizeof found));
    }
    if (out->entity == SE_ATTR || out->entity == SE_DATASET)
        if (resolve_attr(src, dialect, use, out, err) < 0)
            return -1;
    if (use == IDENT_ORDER && out->entity == SE_DATASET)
        return search_fail(err, src, out->offset, "cannot order by dataset fields");
    if (use == IDENT_ORDER && dialect == SEARCH_EXPERIMENTS && out->entity == SE_TAG)
        return search_fail(err, src, out->offset,
                           "cannot order experiments by tags (expected name, experiment_id, "
                           "creation_time or last_update_time)");
    return 0;
}

static int is_time_attr(enum search_attr a)
{
    return a == SA_START_TIME || a == SA_END_TIME || a == SA_EXP_CREATION_TIME ||
           a == SA_EXP_LAST_UPDATE_TIME;
}

enum ident_value ident_value_kind(const struct search_ident *id)
{
    if (id->entity == SE_METRIC)
        return IV_NUMBER;
    if (id->entity == SE_ATTR && is_time_attr(id->attr))
        return IV_NUMBER;
    return IV_STRING;
}

static const char *allowed_ops(const struct search_ident *id, unsigned *mask)
{
#define B(op) (1u << (op))
    const unsigned numeric = B(SO_EQ) | B(SO_NE) | B(SO_LT) | B(SO_LE) | B(SO_GT) | B(SO_GE);
    const unsigned text = B(SO_EQ) | B(SO_NE) | B(SO_LIKE) | B(SO_ILIKE);
    const unsigned null = B(SO_IS_NULL) | B(SO_IS_NOT_NULL);
    const unsigned list = B(SO_IN) | B(SO_NOT_IN);
#undef B
    switch (id->entity) {
    case SE_METRIC:
        *mask = numeric | null;
        return "=, !=, <, <=, >, >=, IS NULL or IS NOT NULL";
    case SE_PARAM:
    case SE_TAG:
        *mask = text | null;
        return "=, !=, LIKE, ILIKE, IS NULL or IS NOT NULL";
    case SE_DATASET:
        *mask = text | list;
        return "=, !=, LIKE, ILIKE, IN or NOT IN";
    case SE_ATTR:
        break;
    }
    if (id->attr == SA_END_TIME) {
        *mask = numeric | null;
        return "=, !=, <, <=, >, >=, IS NULL or IS NOT NULL";
    }
    if (is_time_attr(id->attr)) {
        *mask = numeric;
        return "=, !=, <, <=, >, >=";
    }
    if (id->attr == SA_RUN_ID) {
        *mask = text | list;
        return "=, !=, LIKE, ILIKE, IN or NOT IN";
    }
    *mask = text;
    return "=, !=, LIKE or ILIKE";
}

int ident_check_op(const char *src, int op_offset, const struct search_ident *id, enum search_op op,
                   struct search_error *err)
{
    unsigned mask;
    const char *list = allowed_ops(id, &mask);
    if (mask & (1u << op))
        return 0;
    const char *what = id->entity == SE_METRIC    ? "metrics"
                       : id->entity == SE_PARAM   ? "params"
                       : id->entity == SE_TAG     ? "tags"
                       : id->entity == SE_DATASET ? "dataset fields"
                                                  : "this attribute";
    return search_fail(
        err, src, op_offset, "comparator '%s' is not allowed for %s%s%.100s%s (use %s)",
        search_op_name(op), what, id->entity == SE_ATTR ? " '" : "",
        id->entity == SE_ATTR ? id->key : "", id->entity == SE_ATTR ? "'" : "", list);
}

const char *search_op_name(enum search_op op)
{
    static const char *const names[] = {
        "=", "!=", "<", "<=", ">", ">=", "LIKE", "ILIKE", "IN", "NOT IN", "IS NULL", "IS NOT NULL"};
    return (size_t)op < sizeof names / sizeof names[0] ? names[op] : "?";
}
