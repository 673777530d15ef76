/* libcurl glue: one request on a reused easy handle (so its connection is
 * kept alive), retry classification, backoff with jitter, and the mapping
 * of MLflow error bodies to ET_E* codes. No JSON building here. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    struct et_dbuf *b = ud;
    return et__dbuf_add(b, p, size * n) == ET_OK ? size * n : 0;
}

void et__http_auth(CURL *h)
{
    /* The MLflow clients' variables, so one environment serves both. */
    const char *user = getenv("MLFLOW_TRACKING_USERNAME");
    const char *pass = getenv("MLFLOW_TRACKING_PASSWORD");
    const char *token = getenv("MLFLOW_TRACKING_TOKEN");

    if (user != NULL && user[0] && pass != NULL) {
        curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(h, CURLOPT_USERNAME, user);
        curl_easy_setopt(h, CURLOPT_PASSWORD, pass);
    } else if (token != NULL && token[0]) {
        curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER);
        curl_easy_setopt(h, CURLOPT_XOAUTH2_BEARER, token);
    }
}

int et__http_setup(CURL *h, const char *url, const char *method, const char *body, size_t len,
                   const char *idem_key, int timeout_ms, struct et_dbuf *reply,
                   struct curl_slist **hdrs_out)
{
    struct curl_slist *hdrs = NULL, *tmp;
    char idem[80];

    *hdrs_out = NULL;
    reply->len = 0;
    if (reply->data)
        reply->data[0] = '\0';
    curl_easy_reset(h);
    hdrs = curl_slist_append(NULL, "Accept: application/json");
    if (hdrs == NULL)
        return ET_ENOMEM;
    if (body != NULL) {
        if ((tmp = curl_slist_append(hdrs, "Content-Type: application/json")) == NULL)
            goto fail;
        hdrs = tmp;
        /* No "Expect: 100-continue" round trip before each batch body. */
        if ((tmp = curl_slist_append(hdrs, "Expect:")) == NULL)
            goto fail;
        hdrs = tmp;
    }
    if (idem_key != NULL && idem_key[0]) {
        snprintf(idem, sizeof idem, "Idempotency-Key: %s", idem_key);
        if ((tmp = curl_slist_append(hdrs, idem)) == NULL)
            goto fail;
        hdrs = tmp;
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    et__http_auth(h);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, reply);
    if (body != NULL) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    *hdrs_out = hdrs;
    return ET_OK;
fail:
    curl_slist_free_all(hdrs);
    return ET_ENOMEM;
}

int et__http_outcome(CURL *h, CURLcode cc, const char *method, const char *url, long *status)
{
    *status = 0;
    if (cc != CURLE_OK) {
        et__util_set_error("%s %s: %s", method, url, curl_easy_strerror(cc));
        return cc == CURLE_OUT_OF_MEMORY ? ET_ENOMEM : ET_ENETWORK;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    return ET_OK;
}

int et__http_request(CURL *h, const char *url, const char *method, const char *body, size_t len,
                     const char *idem_key, int timeout_ms, struct http_reply *rep)
{
    struct curl_slist *hdrs;

    rep->status = 0;
    int rc = et__http_setup(h, url, method, body, len, idem_key, timeout_ms, &rep->body, &hdrs);
    if (rc != ET_OK)
        return rc;
    rc = et__http_outcome(h, curl_easy_perform(h), method, url, &rep->status);
    curl_slist_free_all(hdrs);
    return rc;
}

int et__http_retryable(long status)
{
    return status == 0 || status == 429 || status >= 500;
}

int64_t et__http_backoff_ms(int attempt)
{
    int64_t cap = 100;
    for (int i = 1; i < attempt && cap < 10000; i++)
        cap *= 2;
    if (cap > 10000)
        cap = 10000;
    /* "Full jitter": uniform in [cap/2, cap] keeps a floor so we do not hammer. */
    return cap / 2 + (int64_t)et__util_rand_below((uint64_t)cap / 2 + 1);
}

int et__http_error_code(const struct http_reply *rep)
{
    const char *code = "", *msg = "";
    json_t *j = NULL;

    if (rep->body.data != NULL)
        j = json_loadb(rep->body.data, rep->body.len, 0, NULL);
    if (json_is_object(j)) {
        const char *c2 = json_string_value(json_object_get(j, "error_code"));
        const char *m2 = json_string_value(json_object_get(j, "message"));
        code = c2 ? c2 : "";
        msg = m2 ? m2 : "";
    }
    et__util_set_error("HTTP %ld %s: %.400s", rep->status, code, msg);
    /* code points into j: decide before letting go of it. */
    int rc = ET_EREJECTED;
    if (rep->status == 404 || strcmp(code, "RESOURCE_DOES_NOT_EXIST") == 0)
        rc = ET_ENOTFOUND;
    else if (strcmp(code, "RESOURCE_ALREADY_EXISTS") == 0)
        rc = ET_EEXISTS;
    else if (et__http_retryable(rep->status))
        rc = ET_ESERVER;
    json_decref(j);
    return rc;
}
