/* Webhooks, their events and the outbox: all their SQL. The event list of
 * a webhook is read as one "entity.action,..." string in position order. */
#include "store_webhooks.h"

#include <stdio.h>
#include <string.h>

#include "common/sbuf.h"
#include "db/store.h"
#include "db/store_util.h"

#define WEBHOOK_COLUMNS                                                                            \
    "w.id::text, w.name, w.description, w.url, w.secret, w.status, w.creation_time,"               \
    " w.last_updated_time, w.secret_sealed, (SELECT coalesce(string_agg(e.entity || '.' || "       \
    "e.action, ','"                                                                                \
    " ORDER BY e.position), '') FROM webhook_events e WHERE e.webhook_id = w.id)"

/* Splits "entity.action,..." (arena copy) into pairs. */
static void parse_events(const char *text, struct arena *arena, struct webhook *out)
{
    size_t n = text[0] ? 1 : 0;
    for (const char *p = text; *p; p++)
        n += *p == ',';
    out->events = arena_alloc(arena, (n + 1) * sizeof *out->events);
    out->nevents = 0;
    char *copy = arena_strndup(arena, text, strlen(text));
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
        char *dot = strchr(tok, '.');
        if (dot == NULL)
            continue;
        *dot = '\0';
        out->events[out->nevents++] = (struct webhook_event_pair){tok, dot + 1};
    }
}

static void read_row(const PGresult *res, int row, struct arena *arena, struct webhook *out)
{
    out->id = su_str(res, row, 0, arena);
    out->name = su_str(res, row, 1, arena);
    out->description = su_str(res, row, 2, arena);
    out->url = su_str(res, row, 3, arena);
    out->secret = su_str(res, row, 4, arena);
    out->status = su_str(res, row, 5, arena);
    out->creation_time = su_int64(res, row, 6);
    out->last_updated_time = su_int64(res, row, 7);
    out->secret_sealed = PQgetvalue(res, row, 8)[0] == 't';
    parse_events(PQgetvalue(res, row, 9), arena, out);
}

/* Array literals of the entities and actions of w's events (initialised here). */
static void event_arrays(const struct webhook *w, struct sbuf *entities, struct sbuf *actions)
{
    sbuf_init(entities);
    sbuf_init(actions);
    sbuf_addc(entities, '{');
    sbuf_addc(actions, '{');
    for (size_t i = 0; i < w->nevents; i++) {
        su_array_text(entities, w->events[i].entity, i == 0);
        su_array_text(actions, w->events[i].action, i == 0);
    }
    sbuf_addc(entities, '}');
    sbuf_addc(actions, '}');
}

int store_webhook_create(const struct webhook *w)
{
    struct sbuf entities, actions;
    char t[24];

    event_arrays(w, &entities, &actions);
    const char *params[] = {w->id,
                            w->name,
                            w->description,
                            w->url,
                            w->secret,
                            w->status,
                            su_i64(t, w->creation_time),
                            entities.data,
                            actions.data,
                            w->secret_sealed ? "true" : "false"};
    int rc = db_exec("WITH w AS (INSERT INTO webhooks (id, name, description, url, secret, status,"
                     "   creation_time, last_updated_time, secret_sealed)"
                     "   VALUES ($1::uuid, $2, $3, $4, $5, $6, $7, $7, $10) RETURNING id)"
                     " INSERT INTO webhook_events (webhook_id, entity, action, position)"
                     " SELECT w.id, u.e, u.a, u.o FROM w,"
                     "   unnest($8::text[], $9::text[]) WITH ORDINALITY AS u(e, a, o)"
                     " ON CONFLICT DO NOTHING",
                     10, params, NULL);
    sbuf_cleanup(&entities);
    sbuf_cleanup(&actions);
    return rc;
}

int store_webhook_get(const char *id, struct arena *arena, struct webhook *out)
{
    PGresult *res = NULL;
    const char *params[] = {id};
    int rc = db_exec("SELECT " WEBHOOK_COLUMNS " FROM webhooks w"
                     " WHERE w.id = $1::uuid AND w.deleted_time IS NULL",
                     1, params, &res);
    if (rc != DB_OK)
        return rc;
    if (PQntuples(res) == 0)
        rc = DB_NOT_FOUND;
    else
        read_row(res, 0, arena, out);
    PQclear(res);
    return rc;
}

int store_webhook_list(int64_t limit, int64_t offset, struct arena *arena, struct webhook **out,
                       size_t *n)
{
    PGresult *res = NULL;
    char l[24], o[24];
    const char *params[] = {su_i64(l, limit), su_i64(o, offset)};
    int rc = db_exec("SELECT " WEBHOOK_COLUMNS " FROM webhooks w WHERE w.deleted_time IS NULL"
                     " ORDER BY w.creation_time DESC, w.id LIMIT $1 OFFSET $2",
                     2, params, &res);
    if (rc != DB_OK)
        return rc;
    *n = (size_t)PQntuples(res);
    *out = arena_alloc(arena, (*n + 1) * sizeof **out);
    for (size_t i = 0; i < *n; i++)
        read_row(res, (int)i, arena, &(*out)[i]);
    PQclear(res);
    return DB_OK;
}

int store_webhook_update(const char *id, const struct webhook *patch)
{
    struct sbuf entities, actions;
    PGresult *res = NULL;
    char now[24];
    int rc;

    event_arrays(patch, &entities, &actions);
    const char *params[] = {id,
                            patch->name,
                            patch->description,
                            patch->url,
                            patch->secret,
                            patch->status,
                            su_i64(now, store_now_ms()),
                            patch->nevents ? entities.data : NULL,
                            patch->nevents ? actions.data : NULL,
                            patch->secret_sealed ? "true" : "false"};
    const char *upd[] = {params[0], params[1], params[2], params[3],
                         params[4], params[5], params[6], params[9]};
    if ((rc = db_begin()) != DB_OK)
        goto out;
    rc = db_exec("UPDATE webhooks SET name = coalesce($2, name),"
                 " description = coalesce($3, description), url = coalesce($4, url),"
                 " secret = coalesce($5, secret), status = coalesce($6, status),"
                 " secret_sealed = CASE WHEN $5 IS NULL THEN secret_sealed ELSE $8::boolean END,"
                 " last_updated_time = $7"
                 " WHERE id = $1::uuid AND deleted_time IS NULL RETURNING 1",
                 8, upd, &res);
    if (rc == DB_OK && PQntuples(res) == 0)
        rc = DB_NOT_FOUND;
    PQclear(res);
    if (rc == DB_OK && patch->nevents > 0)
        rc = db_exec("WITH d AS (DELETE FROM webhook_events WHERE webhook_id = $1::uuid)"
                     " SELECT 1",
                     1, params, NULL);
    if (rc == DB_OK && patch->nevents > 0) {
        const char *ins[] = {id, params[7], params[8]};
        rc = db_exec("INSERT INTO webhook_events (webhook_id, entity, action, position)"
                     " SELECT $1::uuid, u.e, u.a, u.o"
                     " FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS u(e, a, o)"
                     " ON CONFLICT DO NOTHING",
                     3, ins, NULL);
    }
    if (rc == DB_OK)
        rc = db_commit();
    if (rc != DB_OK)
        db_rollback();
out:
    sbuf_cleanup(&entities);
    sbuf_cleanup(&actions);
    return rc;
}

int store_webhook_delete(const char *id)
{
    PGresult *res = NULL;
    char now[24];
    const char *params[] = {id, su_i64(now, store_now_ms())};
    /* its deliveries not made yet are given up with it */
    int rc = db_exec("WITH w AS (UPDATE webhooks SET deleted_time = $2, last_updated_time = $2"
                     "   WHERE id = $1::uuid AND deleted_time IS NULL RETURNING id),"
                     " o AS (UPDATE webhook_outbox SET state = 'failed',"
                     "   last_error = 'webhook deleted', finished_time = clock_timestamp()"
                     "   WHERE webhook_id IN (SELECT id FROM w) AND state = 'pending')"
                     " SELECT 1 FROM w",
                     2, params, &res);
    if (rc == DB_OK && PQntuples(res) == 0)
        rc = DB_NOT_FOUND;
    PQclear(res);
    return rc;
}

/* The tags of the model ($1) or of its version ($2) as a JSON object,
 * leaving out the keys of the SQL array literal `skip`. */
#define MODEL_TAGS(skip)                                                                           \
    "(SELECT coalesce(jsonb_object_agg(t.key, t.value), '{}') FROM registered_model_tags t"        \
    " WHERE t.name = $1 AND t.key <> ALL ('" skip "'::text[]))"
#define VERSION_TAGS(skip)                                                                         \
    "(SELECT coalesce(jsonb_object_agg(t.key, t.value), '{}') FROM model_version_tags t"           \
    " WHERE t.name = $1 AND t.version = $2::bigint AND t.key <> ALL ('" skip "'::text[]))"

/* What each change fires: the model event (NULL: none) and the prompt
 * event, their action, and each one's payload over $1 name, $2 version
 * (text), $3 key or alias, $4 value, m (the model row) and v (the version
 * row, NULL when the change has no version). */
struct change_sql {
    const char *model_entity;
    const char *prompt_entity;
    const char *action;
    const char *model_payload;
    const char *prompt_payload;
};

static const struct change_sql changes[] = {
    [WEBHOOK_MODEL_CREATED] =
        {"registered_model", "prompt", "created",
         "jsonb_build_object('name', $1::text, 'tags', " MODEL_TAGS(
             "{}") ", 'description', m.description)",
         "jsonb_build_object('name', $1::text, 'tags', " MODEL_TAGS(
             "{mlflow.prompt.is_prompt,_mlflow_prompt_type}") ", 'description', m.description)"},
    [WEBHOOK_VERSION_CREATED] =
        {"model_version", "prompt_version", "created",
         "jsonb_build_object('name', $1::text, 'version', $2::text, 'source', v.source,"
         " 'run_id', nullif(v.run_id, ''), 'tags', " VERSION_TAGS(
             "{}") ", 'description', nullif(v.description, ''))",
         "jsonb_build_object('name', $1::text, 'version', $2::text, 'template',"
         " (SELECT t.value FROM model_version_tags t WHERE t.name = $1 AND t.version = "
         "$2::bigint AND t.key = 'mlflow.prompt.text'), 'tags', " VERSION_TAGS(
             "{mlflow.prompt.is_prompt,_mlflow_prompt_type,mlflow.prompt.text}") ","
                                                                                 " 'description', "
                                                                                 "nullif(v."
                                                                                 "description, "
                                                                                 "''))"},
    [WEBHOOK_VERSION_TAG_SET] = {"model_version_tag", "prompt_version_tag", "set",
                                 "jsonb_build_object('name', $1::text, 'version', $2::text,"
                                 " 'key', $3::text, 'value', $4::text)",
                                 NULL},
    [WEBHOOK_VERSION_TAG_DELETED] = {"model_version_tag", "prompt_version_tag", "deleted",
                                     "jsonb_build_object('name', $1::text, 'version', $2::text,"
                                     " 'key', $3::text)",
                                     NULL},
    [WEBHOOK_MODEL_TAG_SET] = {NULL, "prompt_tag", "set", NULL,
                               "jsonb_build_object('name', $1::text, 'key', $3::text,"
                               " 'value', $4::text)"},
    [WEBHOOK_MODEL_TAG_DELETED] = {NULL, "prompt_tag", "deleted", NULL,
                                   "jsonb_build_object('name', $1::text, 'key', $3::text)"},
    [WEBHOOK_ALIAS_CREATED] = {"model_version_alias", "prompt_alias", "created",
                               "jsonb_build_object('name', $1::text, 'alias', $3::text,"
                               " 'version', $2::text)",
                               NULL},
    [WEBHOOK_ALIAS_DELETED] = {"model_version_alias", "prompt_alias", "deleted",
                               "jsonb_build_object('name', $1::text, 'alias', $3::text)", NULL},
};

int store_webhook_enqueue(enum webhook_change change, const char *name, int64_t version,
                          const char *key, const char *value, int *queued)
{
    struct sbuf sql;
    PGresult *res = NULL;
    char v[24];

    *queued = 0;
    if (change <= WEBHOOK_CHANGE_NONE || change >= sizeof changes / sizeof changes[0])
        return DB_OK;
    const struct change_sql *c = &changes[change];
    const char *model_payload = c->model_payload ? c->model_payload : "NULL::jsonb";
    /* the prompt variants of tag and alias events carry the same fields */
    const char *prompt_payload = c->prompt_payload ? c->prompt_payload : model_payload;
    sbuf_init(&sql);
    sbuf_addf(&sql,
              "WITH m AS (SELECT rm.description, EXISTS (SELECT 1 FROM registered_model_tags p"
              "   WHERE p.name = rm.name AND p.key = 'mlflow.prompt.is_prompt'"
              "   AND lower(p.value) = 'true') AS prompt,"
              "   $3::text AS unused_key, $4::text AS unused_value" /* every event binds all four */
              "   FROM registered_models rm WHERE rm.name = $1),"
              " ev AS (SELECT CASE WHEN m.prompt THEN '%s' ELSE %s%s%s END AS entity,"
              "   CASE WHEN m.prompt THEN %s ELSE %s END AS payload"
              "   FROM m LEFT JOIN model_versions v ON v.name = $1"
              "   AND v.version = $2::bigint)"
              " INSERT INTO webhook_outbox (webhook_id, entity, action, payload)"
              " SELECT w.id, ev.entity, '%s', ev.payload FROM ev"
              " JOIN webhook_events e ON e.entity = ev.entity AND e.action = '%s'"
              " JOIN webhooks w ON w.id = e.webhook_id AND w.status = 'ACTIVE'"
              "   AND w.deleted_time IS NULL"
              " ORDER BY w.creation_time RETURNING 1",
              c->prompt_entity, c->model_entity ? "'" : "",
              c->model_entity ? c->model_entity : "NULL", c->model_entity ? "'" : "",
              prompt_payload, model_payload, c->action, c->action);
    const char *params[] = {name, version > 0 ? su_i64(v, version) : NULL, key, value};
    int rc = db_exec(sql.data, 4, params, &res);
    if (rc == DB_OK)
        *queued = PQntuples(res);
    PQclear(res);
    sbuf_cleanup(&sql);
    return rc;
}

/* Takes the next due delivery: one short statement, so the row lock lasts
 * only while it runs; the lease keeps other workers off the row while this
 * one delivers it. Prepared: an idle worker runs it once a second. */
static const char claim_sql[] =
    "UPDATE webhook_outbox o SET attempts = o.attempts + 1,"
    "   next_attempt = clock_timestamp() + make_interval(secs => $1::int)"
    " FROM webhooks w"
    " WHERE o.id = (SELECT id FROM webhook_outbox WHERE state = 'pending'"
    "   AND next_attempt <= clock_timestamp() ORDER BY next_attempt, id"
    "   LIMIT 1 FOR UPDATE SKIP LOCKED) AND w.id = o.webhook_id"
    " RETURNING o.id, o.attempts, w.url, w.secret, w.secret_sealed, w.id::text,"
    "   jsonb_build_object('entity', o.entity, 'action', o.action, 'timestamp',"
    "   to_char(o.event_time AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US') || '+00:00',"
    "   'data', o.payload)::text";

int store_webhook_claim(int lease_s, struct arena *arena, struct webhook_delivery *out)
{
    PGresult *res = NULL;
    char lease[24];
    const char *params[] = {su_i64(lease, lease_s)};
    int rc = db_exec_prepared("webhook_claim", claim_sql, 1, params, &res);
    if (rc != DB_OK)
        return rc;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return DB_NOT_FOUND;
    }
    out->id = su_int64(res, 0, 0);
    out->attempts = (int)su_int64(res, 0, 1);
    out->url = su_str(res, 0, 2, arena);
    out->secret = su_str(res, 0, 3, arena);
    out->secret_sealed = PQgetvalue(res, 0, 4)[0] == 't';
    out->webhook_id = su_str(res, 0, 5, arena);
    out->body = su_str(res, 0, 6, arena);
    PQclear(res);
    return DB_OK;
}

int store_webhook_finish(int64_t id, enum webhook_outcome outcome, int http_status,
                         const char *error, int64_t retry_ms)
{
    static const char *const states[] = {"delivered", "pending", "failed"};
    char i[24], st[24], ms[24];
    const char *params[] = {su_i64(i, id), states[outcome],
                            http_status ? su_i64(st, http_status) : NULL, error,
                            su_i64(ms, retry_ms)};
    return db_exec("UPDATE webhook_outbox SET state = $2, last_status = $3::int, last_error = $4,"
                   " next_attempt = clock_timestamp() + make_interval(secs => $5::bigint / 1000.0),"
                   " finished_time = CASE WHEN $2 = 'pending' THEN NULL ELSE clock_timestamp() END"
                   " WHERE id = $1::bigint",
                   5, params, NULL);
}

int store_webhook_prune(int days)
{
    char d[24];
    const char *params[] = {su_i64(d, days)};
    return db_exec("DELETE FROM webhook_outbox WHERE state = 'delivered'"
                   " AND finished_time < clock_timestamp() - make_interval(days => $1::int)",
                   1, params, NULL);
}
