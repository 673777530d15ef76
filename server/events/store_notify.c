/* The SQL of live-update notifications: one statement that resolves each
 * run's experiment and calls pg_notify for every change, and one that
 * announces the experiments whose traces or logged models changed. */
#include "store_notify.h"

#include "db/db.h"
#include "common/sbuf.h"
#include "db/store_util.h"

static const char notify_sql[] = "SELECT pg_notify('" STORE_NOTIFY_CHANNEL "',"
                                 "  '{\"run_id\":\"' || replace(r.run_uuid::text, '-', '') ||"
                                 "  '\",\"experiment_id\":\"' || r.experiment_id ||"
                                 "  '\",\"kind\":\"' || c.kind || '\"}')"
                                 " FROM unnest($1::uuid[], $2::text[]) AS c(uuid, kind)"
                                 " JOIN runs r ON r.run_uuid = c.uuid";

int store_notify_runs(const char *const *run_ids, const char *const *kinds, size_t n)
{
    struct sbuf ids, ks;
    PGresult *res = NULL;

    if (n == 0)
        return DB_OK;
    sbuf_init(&ids);
    sbuf_init(&ks);
    sbuf_addc(&ids, '{');
    sbuf_addc(&ks, '{');
    for (size_t i = 0; i < n; i++) {
        su_array_text(&ids, run_ids[i], i == 0);
        su_array_text(&ks, kinds[i], i == 0);
    }
    sbuf_addc(&ids, '}');
    sbuf_addc(&ks, '}');
    const char *params[] = {ids.data, ks.data};
    int rc = db_exec(notify_sql, 2, params, &res);
    PQclear(res);
    sbuf_cleanup(&ids);
    sbuf_cleanup(&ks);
    return rc;
}

int store_notify_experiments(const int64_t *experiment_ids, size_t n, int models)
{
    struct sbuf ids;
    PGresult *res = NULL;
    char one[24];

    if (n == 0)
        return DB_OK;
    sbuf_init(&ids);
    sbuf_addc(&ids, '{');
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            sbuf_addc(&ids, ',');
        sbuf_adds(&ids, su_i64(one, experiment_ids[i]));
    }
    sbuf_addc(&ids, '}');
    const char *params[] = {ids.data, models ? "models:" : ""};
    int rc = db_exec("SELECT pg_notify('" STORE_TRACES_CHANNEL "', $2 || e::text)"
                     " FROM unnest($1::bigint[]) AS e",
                     2, params, &res);
    PQclear(res);
    sbuf_cleanup(&ids);
    return rc;
}
