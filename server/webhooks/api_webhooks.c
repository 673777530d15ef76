/* Webhooks: create, list, get, update, delete and test, with the
 * contract's validation (mlflow-models-api.md 5.2). Decode -> store ->
 * encode; no SQL. The secret is accepted and never written back. */
#include "api.h"

#include <ctype.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uuid/uuid.h>

#include "core/input.h"
#include "core/jsonx.h"
#include "core/reply_store.h"
#include "core/store_status.h"
#include "delivery.h"
#include "secret_box.h"
#include "store_webhooks.h"
#include "webhook_url.h"

#define WEBHOOK_ROUTE "/mlflow/webhooks/"
#define MAX_NAME_LENGTH 63
#define MAX_URL_LENGTH 4096
#define MAX_DESCRIPTION_LENGTH 5000
#define MAX_SECRET_LENGTH 1024
#define MAX_EVENTS 100
#define PAGE_DEFAULT 100
#define PAGE_MAX 1000

/* WebhookEntity names, numbers 1.. (0 is ENTITY_UNSPECIFIED), and payload spellings. */
static const char *const entity_names[] = {
    "REGISTERED_MODEL", "MODEL_VERSION",  "MODEL_VERSION_TAG", "MODEL_VERSION_ALIAS",
    "PROMPT",           "PROMPT_VERSION", "PROMPT_TAG",        "PROMPT_VERSION_TAG",
    "PROMPT_ALIAS",     "BUDGET_POLICY"};
#define N_ENTITIES (sizeof entity_names / sizeof entity_names[0])
static const char *const entity_lower[N_ENTITIES] = {
    "registered_model", "model_version",  "model_version_tag", "model_version_alias",
    "prompt",           "prompt_version", "prompt_tag",        "prompt_version_tag",
    "prompt_alias",     "budget_policy"};

/* WebhookAction names, numbers 1.. (0 is ACTION_UNSPECIFIED). */
static const char *const action_names[] = {"CREATED", "UPDATED", "DELETED", "SET", "EXCEEDED"};
#define N_ACTIONS (sizeof action_names / sizeof action_names[0])
static const char *const action_lower[N_ACTIONS] = {"created", "updated", "deleted", "set",
                                                    "exceeded"};

#define A(i) (1u << (i))
/* The valid actions of each entity (bits: index into action_names). */
static const unsigned valid_actions[N_ENTITIES] = {
    A(0), A(0), A(3) | A(2), A(0) | A(2), A(0), A(0), A(3) | A(2), A(3) | A(2), A(0) | A(2), A(4)};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int index_of(const char *const *names, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], s) == 0)
            return (int)i;
    return -1;
}

/* Reads one {entity, action} object of a list (key names the list in
 * messages) into *out (static strings). */
static int read_event(const json_t *arr, size_t i, const char *key, struct webhook_event_pair *out,
                      struct reply *r)
{
    char where[96];
    struct input item;
    int e = 0, a = 0;

    if (jx_item(arr, i, key, where, sizeof where, &item, r) != JX_OK)
        return JX_BAD;
    int rc = jx_enum(&item, "entity", entity_names, (int)N_ENTITIES, &e, r);
    if (rc == JX_BAD)
        return JX_BAD;
    if (rc == JX_ABSENT || e < 1) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "%s.entity must be one of the WebhookEntity "
                    "names (REGISTERED_MODEL, MODEL_VERSION, ...)",
                    where);
        return JX_BAD;
    }
    rc = jx_enum(&item, "action", action_names, (int)N_ACTIONS, &a, r);
    if (rc == JX_BAD)
        return JX_BAD;
    if (rc == JX_ABSENT || a < 1) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "%s.action must be one of the WebhookAction names (CREATED, ...)", where);
        return JX_BAD;
    }
    if (!(valid_actions[e - 1] & A(a - 1))) {
        char valid[120] = "";
        for (size_t k = 0; k < N_ACTIONS; k++)
            if (valid_actions[e - 1] & A(k))
                snprintf(valid + strlen(valid), sizeof valid - strlen(valid), "%s'%s'",
                         valid[0] ? ", " : "", action_lower[k]);
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Invalid action '%s' for entity '%s'. Valid actions are: [%s]",
                    action_lower[a - 1], entity_lower[e - 1], valid);
        return JX_BAD;
    }
    out->entity = entity_lower[e - 1];
    out->action = action_lower[a - 1];
    return JX_OK;
}

/* Reads "events" (absent: JX_ABSENT; required: absent or empty is an error). */
static int read_events(const struct input *in, int required, struct arena *arena, struct webhook *w,
                       struct reply *r)
{
    const json_t *arr = NULL;
    int rc = jx_array(in, "events", &arr, r);
    if (rc == JX_BAD)
        return JX_BAD;
    size_t n = rc == JX_OK ? json_array_size(arr) : 0;
    if (n == 0) {
        if (!required)
            return JX_ABSENT;
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Missing value for required parameter 'events'. A webhook needs at least one "
                    "event.");
        return JX_BAD;
    }
    if (n > MAX_EVENTS) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE, "events may hold at most %d events",
                    MAX_EVENTS);
        return JX_BAD;
    }
    w->events = arena_alloc(arena, n * sizeof *w->events);
    for (size_t i = 0; i < n; i++)
        if (read_event(arr, i, "events", &w->events[i], r) != JX_OK)
            return JX_BAD;
    w->nevents = n;
    return JX_OK;
}

static int check_name(const char *name, struct reply *r)
{
    size_t n = strlen(name);
    int ok = n >= 1 && n <= MAX_NAME_LENGTH && isalnum((unsigned char)name[0]) &&
             isalnum((unsigned char)name[n - 1]);
    for (size_t i = 0; ok && i < n; i++)
        ok = isalnum((unsigned char)name[i]) || name[i] == '.' || name[i] == '_' || name[i] == '-';
    if (ok)
        return JX_OK;
    reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                "Invalid webhook name '%.100s'. The name must be 1 to %d characters: letters, "
                "digits, '.', '_' and '-', starting and ending with a letter or digit.",
                name, MAX_NAME_LENGTH);
    return JX_BAD;
}

static int check_length(const char *field, const char *value, size_t max, struct reply *r)
{
    if (value == NULL || strlen(value) <= max)
        return JX_OK;
    reply_error(r, ERR_INVALID_PARAMETER_VALUE, "%s is longer than %zu characters", field, max);
    return JX_BAD;
}

static int check_url(const char *url, struct reply *r)
{
    char why[600], pin[600];
    if (check_length("url", url, MAX_URL_LENGTH, r) != JX_OK)
        return JX_BAD;
    if (webhook_url_check(url, why, sizeof why, pin, sizeof pin) == 0)
        return JX_OK;
    reply_error(r, ERR_INVALID_PARAMETER_VALUE, "%s", why);
    return JX_BAD;
}

static int read_status(const struct input *in, const char **out, struct reply *r)
{
    static const char *const names[] = {"ACTIVE", "DISABLED"};
    int st = 0;
    int rc = jx_enum(in, "status", names, 2, &st, r);
    if (rc == JX_OK && (st < 1 || st > 2)) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE, "status must be ACTIVE or DISABLED");
        return JX_BAD;
    }
    if (rc == JX_OK)
        *out = names[st - 1];
    return rc;
}

static json_t *webhook_json(const struct webhook *w)
{
    json_t *events = json_array();
    for (size_t i = 0; i < w->nevents; i++) {
        int e = index_of(entity_lower, N_ENTITIES, w->events[i].entity);
        int a = index_of(action_lower, N_ACTIONS, w->events[i].action);
        if (e >= 0 && a >= 0)
            json_array_append_new(events, json_pack("{s:s, s:s}", "entity", entity_names[e],
                                                    "action", action_names[a]));
    }
    json_t *o = json_pack("{s:s, s:s, s:s, s:o, s:s, s:I, s:I}", "webhook_id", w->id, "name",
                          w->name, "url", w->url, "events", events, "status", w->status,
                          "creation_timestamp", (json_int_t)w->creation_time,
                          "last_updated_timestamp", (json_int_t)w->last_updated_time);
    if (w->description[0] != '\0')
        json_object_set_new(o, "description", json_string(w->description));
    return o;
}

static void not_found(struct reply *r, int rc, const char *id)
{
    char msg[200];
    snprintf(msg, sizeof msg, "Webhook with ID %.60s not found.", id);
    reply_store_error(r, rc, msg);
}

static void reply_webhook(struct reply *r, const char *id)
{
    struct arena arena;
    struct webhook w;
    arena_init(&arena);
    int rc = store_webhook_get(id, &arena, &w);
    if (rc != DB_OK)
        not_found(r, rc, id);
    else
        reply_json(r, json_pack("{s:o}", "webhook", webhook_json(&w)));
    arena_cleanup(&arena);
}

/* The webhook id of a /webhooks/{id}[/suffix] path into id (37 bytes).
 * Returns JX_OK, or JX_BAD with 404 in r (no such route, or an id that
 * cannot exist). */
static int path_id(const struct request *req, const char *suffix, char id[37], struct reply *r)
{
    const char *rest = input_path_after(req, WEBHOOK_ROUTE);
    size_t n = rest ? strcspn(rest, "/") : 0;
    const char *tail = rest ? rest + n : "";
    if (rest == NULL || n == 0 || strcmp(tail, suffix) != 0) {
        reply_error(r, ERR_ENDPOINT_NOT_FOUND, "No API endpoint %s %.200s", req->method, req->path);
        return JX_BAD;
    }
    uuid_t u;
    char text[37];
    snprintf(text, sizeof text, "%.*s", (int)(n < 36 ? n : 36), rest);
    if (n != 36 || uuid_parse(text, u) != 0) {
        reply_error(r, ERR_RESOURCE_DOES_NOT_EXIST, "Webhook with ID %.60s not found.", text);
        return JX_BAD;
    }
    uuid_unparse_lower(u, id);
    return JX_OK;
}

/* With a key (--webhook-secret-key-file), replaces a non-empty w->secret by
 * its sealed form (a new string: free it with sealed_text) bound to w->id. */
static int seal_secret(struct webhook *w, struct reply *r)
{
    char *sealed;
    if (w->secret == NULL || w->secret[0] == '\0' || !secret_box_enabled())
        return JX_OK;
    if (secret_box_seal(w->secret, w->id, &sealed) != 0) {
        reply_store_error(r, DB_ERROR, "webhook not found");
        return JX_BAD;
    }
    w->secret = sealed;
    w->secret_sealed = 1;
    return JX_OK;
}

/* The string seal_secret allocated, or NULL. */
static char *sealed_text(const struct webhook *w)
{
    return w->secret_sealed ? (char *)w->secret : NULL;
}

void api_webhooks_create(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    struct arena arena;
    struct webhook w = {.description = "", .secret = "", .status = "ACTIVE"};
    char id[37];
    uuid_t u;

    arena_init(&arena);
    if (jx_required_string(&in, "name", &w.name, r) != JX_OK || check_name(w.name, r) != JX_OK ||
        jx_required_string(&in, "url", &w.url, r) != JX_OK || check_url(w.url, r) != JX_OK ||
        read_events(&in, 1, &arena, &w, r) != JX_OK)
        goto out;
    if (jx_string(&in, "description", &w.description, r) == JX_BAD ||
        check_length("description", w.description, MAX_DESCRIPTION_LENGTH, r) != JX_OK ||
        jx_string(&in, "secret", &w.secret, r) == JX_BAD ||
        check_length("secret", w.secret, MAX_SECRET_LENGTH, r) != JX_OK ||
        read_status(&in, &w.status, r) == JX_BAD)
        goto out;
    uuid_generate_random(u);
    uuid_unparse_lower(u, id);
    w.id = id;
    if (seal_secret(&w, r) != JX_OK)
        goto out;
    w.creation_time = w.last_updated_time = now_ms();
    int rc = store_webhook_create(&w);
    if (rc != DB_OK)
        reply_store_error(r, rc, "webhook not found");
    else
        reply_webhook(r, id);
out:
    free(sealed_text(&w));
    arena_cleanup(&arena);
}

void api_webhooks_list(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    struct arena arena;
    struct webhook *list;
    const char *token = NULL;
    int64_t limit = PAGE_DEFAULT, offset = 0;
    size_t n;

    arena_init(&arena);
    int rc = jx_int64(&in, "max_results", &limit, r);
    if (rc == JX_BAD)
        goto out;
    if (limit < 1 || limit > PAGE_MAX) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE, "max_results must be between 1 and %d.",
                    PAGE_MAX);
        goto out;
    }
    if (jx_string(&in, "page_token", &token, r) == JX_BAD)
        goto out;
    if (token != NULL && token[0] != '\0' && input_page_token_decode(token, &offset) != 0) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE, "Invalid page token");
        goto out;
    }
    rc = store_webhook_list(limit + 1, offset, &arena, &list, &n);
    if (rc != DB_OK) {
        reply_store_error(r, rc, "webhook not found");
        goto out;
    }
    json_t *o = json_object();
    json_t *arr = json_array();
    for (size_t i = 0; i < n && i < (size_t)limit; i++)
        json_array_append_new(arr, webhook_json(&list[i]));
    json_object_set_new(o, "webhooks", arr);
    if (n > (size_t)limit) {
        char *next = input_page_token_encode(offset + limit);
        json_object_set_new(o, "next_page_token", json_string(next));
        free(next);
    }
    reply_json(r, o);
out:
    arena_cleanup(&arena);
}

void api_webhooks_get(const struct request *req, struct reply *r)
{
    char id[37];
    if (path_id(req, "", id, r) == JX_OK)
        reply_webhook(r, id);
}

/* A string field that changes only when present and non-empty. */
static int optional_text(const struct input *in, const char *key, size_t max, const char **out,
                         struct reply *r)
{
    const char *v = NULL;
    if (jx_string(in, key, &v, r) == JX_BAD || check_length(key, v, max, r) != JX_OK)
        return JX_BAD;
    *out = v != NULL && v[0] != '\0' ? v : NULL;
    return JX_OK;
}

void api_webhooks_update(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    struct arena arena;
    struct webhook patch = {0};
    char id[37];

    arena_init(&arena);
    if (path_id(req, "", id, r) != JX_OK)
        goto out;
    if (optional_text(&in, "name", MAX_NAME_LENGTH + 1, &patch.name, r) != JX_OK ||
        (patch.name && check_name(patch.name, r) != JX_OK) ||
        optional_text(&in, "url", MAX_URL_LENGTH, &patch.url, r) != JX_OK ||
        (patch.url && check_url(patch.url, r) != JX_OK) ||
        optional_text(&in, "description", MAX_DESCRIPTION_LENGTH, &patch.description, r) != JX_OK ||
        optional_text(&in, "secret", MAX_SECRET_LENGTH, &patch.secret, r) != JX_OK ||
        read_status(&in, &patch.status, r) == JX_BAD ||
        read_events(&in, 0, &arena, &patch, r) == JX_BAD)
        goto out;
    patch.id = id;
    if (seal_secret(&patch, r) != JX_OK)
        goto out;
    int rc = store_webhook_update(id, &patch);
    if (rc != DB_OK)
        not_found(r, rc, id);
    else
        reply_webhook(r, id);
out:
    free(sealed_text(&patch));
    arena_cleanup(&arena);
}

void api_webhooks_delete(const struct request *req, struct reply *r)
{
    char id[37];
    if (path_id(req, "", id, r) != JX_OK)
        return;
    int rc = store_webhook_delete(id);
    if (rc != DB_OK)
        not_found(r, rc, id);
    else
        reply_json(r, json_object());
}

/* The fixed example payload of an event (a new reference). */
static json_t *example_payload(const struct webhook_event_pair *ev)
{
    int prompt = strncmp(ev->entity, "prompt", 6) == 0;
    const char *name = prompt ? "example_prompt" : "example_model";
    json_t *tags = json_pack("{s:s}", "example_key", "example_value");
    const char *e = ev->entity, *a = ev->action;

    if (strcmp(e, "registered_model") == 0 || strcmp(e, "prompt") == 0)
        return json_pack("{s:s, s:o, s:s}", "name", name, "tags", tags, "description",
                         prompt ? "An example prompt" : "An example registered model");
    if (strcmp(e, "model_version") == 0)
        return json_pack("{s:s, s:s, s:s, s:s, s:o, s:s}", "name", name, "version", "1", "source",
                         "models:/m-0123456789abcdef0123456789abcdef", "run_id",
                         "0123456789abcdef0123456789abcdef", "tags", tags, "description",
                         "An example model version");
    if (strcmp(e, "prompt_version") == 0)
        return json_pack("{s:s, s:s, s:s, s:o, s:s}", "name", name, "version", "1", "template",
                         "Hello, {{ name }}!", "tags", tags, "description",
                         "An example prompt version");
    json_decref(tags);
    if (strcmp(e, "model_version_tag") == 0 || strcmp(e, "prompt_version_tag") == 0) {
        json_t *o =
            json_pack("{s:s, s:s, s:s}", "name", name, "version", "1", "key", "example_key");
        if (strcmp(a, "set") == 0)
            json_object_set_new(o, "value", json_string("example_value"));
        return o;
    }
    if (strcmp(e, "prompt_tag") == 0) {
        json_t *o = json_pack("{s:s, s:s}", "name", name, "key", "example_key");
        if (strcmp(a, "set") == 0)
            json_object_set_new(o, "value", json_string("example_value"));
        return o;
    }
    if (strcmp(e, "model_version_alias") == 0 || strcmp(e, "prompt_alias") == 0) {
        json_t *o = json_pack("{s:s, s:s}", "name", name, "alias", "example_alias");
        if (strcmp(a, "created") == 0)
            json_object_set_new(o, "version", json_string("1"));
        return o;
    }
    return json_pack("{s:s, s:s}", "budget_policy_id", "example_budget_policy", "message",
                     "An example budget policy was exceeded");
}

/* Now as ISO-8601 UTC with microseconds and "+00:00" into out (>= 40 bytes). */
static void iso_now(char *out, size_t len)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(out, len, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, len - n, ".%06d+00:00", (int)(ts.tv_nsec / 1000));
}

void api_webhooks_test(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    struct arena arena;
    struct webhook w;
    struct webhook_event_pair ev;
    struct webhook_result res;
    char id[37], when[40];

    arena_init(&arena);
    if (path_id(req, "/test", id, r) != JX_OK)
        goto out;
    const json_t *given = json_object_get(in.obj, "event");
    if (given != NULL && !json_is_null(given)) {
        json_t *one = json_array();
        json_array_append(one, (json_t *)given);
        int rc = read_event(one, 0, "event", &ev, r);
        json_decref(one);
        if (rc != JX_OK)
            goto out;
    }
    int rc = store_webhook_get(id, &arena, &w);
    if (rc != DB_OK) {
        not_found(r, rc, id);
        goto out;
    }
    if (given == NULL || json_is_null(given)) {
        if (w.nevents == 0) {
            reply_error(r, ERR_INVALID_PARAMETER_VALUE, "Webhook %s has no events", id);
            goto out;
        }
        ev = w.events[0];
    }
    iso_now(when, sizeof when);
    json_t *body = json_pack("{s:s, s:s, s:s, s:o}", "entity", ev.entity, "action", ev.action,
                             "timestamp", when, "data", example_payload(&ev));
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    char *secret = NULL;
    if (w.secret_sealed && secret_box_open(w.secret, w.id, &secret) != 0) {
        memset(&res, 0, sizeof res);
        snprintf(
            res.error, sizeof res.error,
            "the webhook's secret cannot be decrypted (is --webhook-secret-key-file the key it "
            "was stored with?)");
    } else {
        webhook_send(w.url, secret ? secret : w.secret, text ? text : "{}", &res);
    }
    if (secret != NULL)
        OPENSSL_cleanse(secret, strlen(secret));
    free(secret);
    free(text);
    json_t *result;
    if (res.sent) {
        /* the receiver's bytes need not be UTF-8: then the body is left out */
        json_t *text_body = json_string(res.body);
        result =
            json_pack("{s:b, s:i, s:o}", "success", res.status < 400, "response_status",
                      (int)res.status, "response_body", text_body ? text_body : json_string(""));
    } else {
        char msg[600];
        snprintf(msg, sizeof msg, "Failed to test webhook: %s", res.error);
        result = json_pack("{s:b, s:s}", "success", 0, "error_message", msg);
    }
    reply_json(r, json_pack("{s:o}", "result", result));
out:
    arena_cleanup(&arena);
}
