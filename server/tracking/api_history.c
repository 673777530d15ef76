/* History across runs: MLflow's metrics/get-history-bulk-interval, and the
 * exptrack extensions GET /api/2.0/exptrack/metrics/history (downsampled,
 * several runs and keys) and GET /api/2.0/exptrack/experiments/keys; and
 * the streamed whole-series reply of metrics/get-history with its own
 * number encoders (api_history.h). Decode -> store -> encode; no SQL here. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "api_common.h"
#include "api_history.h"
#include "core/sbuf.h"
#include "store_history.h"
#include "store_search.h"
#include "core/validate.h"
#include "core/xalloc.h"

#define BULK_MAX_RUNS 100
#define BULK_MAX_STEPS 2500
#define BULK_MAX_PER_RUN 25000
#define HISTORY_MAX_KEYS 100
#define HISTORY_DEFAULT_POINTS 1000
#define HISTORY_MAX_POINTS 1000000
#define KEYS_MAX_EXPERIMENTS 100

/* Reads a repeated string parameter with 1..max values. */
static int read_list(const struct input *in, const char *field, size_t max, struct arena *arena,
                     const char ***out, size_t *n, struct reply *r)
{
    const json_t *arr;
    int rc = jx_array(in, field, &arr, r);
    if (rc == JX_BAD)
        return JX_BAD;
    *n = rc == JX_OK ? json_array_size(arr) : 0;
    if (*n == 0 || *n > max) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Invalid value for parameter '%s': give between 1 and %zu values", field, max);
        return JX_BAD;
    }
    *out = arena_alloc(arena, (*n + 1) * sizeof **out);
    for (size_t i = 0; i < *n; i++)
        if (jx_array_string(arr, i, field, &(*out)[i], r) != JX_OK)
            return JX_BAD;
    return JX_OK;
}

/* Keeps only ids that can exist (32 lowercase hex); others match nothing. */
static size_t keep_run_ids(const char **ids, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (validate_is_run_id(ids[i]))
            ids[k++] = ids[i];
    return k;
}

static int read_step_range(const struct input *in, int *has, int64_t *start, int64_t *end,
                           struct reply *r)
{
    int a = jx_int64(in, "start_step", start, r), b;
    if (a == JX_BAD || (b = jx_int64(in, "end_step", end, r)) == JX_BAD)
        return JX_BAD;
    if (a != b) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Invalid value for parameters 'start_step' and 'end_step': give both or "
                    "neither");
        return JX_BAD;
    }
    *has = a == JX_OK;
    if (*has && *start > *end) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Invalid value for parameter 'start_step': %lld is greater than end_step %lld",
                    (long long)*start, (long long)*end);
        return JX_BAD;
    }
    return JX_OK;
}

static int read_bounded(const struct input *in, const char *field, int64_t def, int64_t lo,
                        int64_t hi, int64_t *out, struct reply *r)
{
    int rc = jx_int64(in, field, out, r);
    if (rc == JX_BAD)
        return JX_BAD;
    if (rc == JX_ABSENT)
        *out = def;
    if (*out < lo || *out > hi) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Invalid value %lld for parameter '%s' supplied: it must be between %lld and "
                    "%lld",
                    (long long)*out, field, (long long)lo, (long long)hi);
        return JX_BAD;
    }
    return JX_OK;
}

void api_metrics_get_history_bulk_interval(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    struct arena arena;
    const char **run_ids, *key;
    size_t nruns, nseries = 0;
    int64_t start = 0, end = 0, max_steps;
    int has_range;
    struct series *series;

    arena_init(&arena);
    if (read_list(&in, "run_ids", BULK_MAX_RUNS, &arena, &run_ids, &nruns, r) != JX_OK ||
        jx_required_string(&in, "metric_key", &key, r) != JX_OK ||
        read_step_range(&in, &has_range, &start, &end, r) != JX_OK ||
        read_bounded(&in, "max_results", BULK_MAX_STEPS, 1, BULK_MAX_STEPS, &max_steps, r) != JX_OK)
        goto out;
    nruns = keep_run_ids(run_ids, nruns);
    int rc = nruns == 0 ? DB_OK
                        : store_history_bulk_interval(run_ids, nruns, key, has_range, start, end,
                                                      max_steps, BULK_MAX_PER_RUN, &arena, &series,
                                                      &nseries);
    if (rc != DB_OK) {
        api_store_error(r, rc, "metric history not found");
        goto out;
    }
    json_t *obj = json_object();
    if (nseries > 0) {
        json_t *list = json_array();
        for (size_t s = 0; s < nseries; s++) {
            for (size_t i = 0; i < series[s].n; i++) {
                json_t *m = api_metric_json(&series[s].points[i]);
                json_object_set_new(m, "run_id", json_string(run_ids[series[s].run_index]));
                json_array_append_new(list, m);
            }
        }
        json_object_set_new(obj, "metrics", list);
    }
    reply_json(r, obj);
out:
    arena_cleanup(&arena);
}

/* {"run_id", "key", "total_points", "steps", "timestamps", "values"}. */
static json_t *series_json(const struct series *s, const char *run_id, int64_t total)
{
    json_t *steps = json_array(), *stamps = json_array(), *values = json_array();
    for (size_t i = 0; i < s->n; i++) {
        json_array_append_new(steps, json_integer(s->points[i].step));
        json_array_append_new(stamps, json_integer(s->points[i].timestamp));
        json_array_append_new(values, jx_double_value(s->points[i].value));
    }
    return json_pack("{s:s, s:s, s:I, s:o, s:o, s:o}", "run_id", run_id, "key",
                     s->n ? s->points[0].key : "", "total_points", (json_int_t)total, "steps",
                     steps, "timestamps", stamps, "values", values);
}

void api_exptrack_metrics_history(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    struct arena arena;
    const char **run_ids, **keys;
    size_t nruns, nkeys, nseries = 0;
    int64_t max_points, *totals = NULL;
    struct series *series;

    arena_init(&arena);
    if (read_list(&in, "run_id", BULK_MAX_RUNS, &arena, &run_ids, &nruns, r) != JX_OK ||
        read_list(&in, "metric_key", HISTORY_MAX_KEYS, &arena, &keys, &nkeys, r) != JX_OK ||
        read_bounded(&in, "max_points", HISTORY_DEFAULT_POINTS, 4, HISTORY_MAX_POINTS, &max_points,
                     r) != JX_OK)
        goto out;
    nruns = keep_run_ids(run_ids, nruns);
    int rc = nruns == 0 ? DB_OK
                        : store_history_downsample(run_ids, nruns, keys, nkeys, max_points, &arena,
                                                   &series, &nseries, &totals);
    if (rc != DB_OK) {
        api_store_error(r, rc, "metric history not found");
        goto out;
    }
    json_t *list = json_array();
    for (size_t s = 0; s < nseries; s++)
        json_array_append_new(list,
                              series_json(&series[s], run_ids[series[s].run_index], totals[s]));
    reply_json(r, json_pack("{s:o}", "series", list));
out:
    arena_cleanup(&arena);
}

static json_t *string_list(const char **items, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, json_string(items[i]));
    return arr;
}

void api_exptrack_experiment_keys(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    struct arena arena;
    const char **ids_text, **metrics, **params, **tags;
    size_t nids, nm = 0, np = 0, nt = 0, n = 0;

    arena_init(&arena);
    if (read_list(&in, "experiment_id", KEYS_MAX_EXPERIMENTS, &arena, &ids_text, &nids, r) != JX_OK)
        goto out;
    int64_t *ids = arena_alloc(&arena, nids * sizeof *ids);
    for (size_t i = 0; i < nids; i++)
        if (ids_text[i][0] >= '0' && ids_text[i][0] <= '9' &&
            jx_parse_int64_text(ids_text[i], &ids[n]) == 0)
            n++;
    int rc = store_experiment_keys(ids, n, &arena, &metrics, &nm, &params, &np, &tags, &nt);
    if (rc != DB_OK) {
        api_store_error(r, rc, "experiment not found");
        goto out;
    }
    reply_json(r, json_pack("{s:o, s:o, s:o}", "metrics", string_list(metrics, nm), "params",
                            string_list(params, np), "tags", string_list(tags, nt)));
out:
    arena_cleanup(&arena);
}
/* ---- numbers: shortest round-trip doubles and fast integers ---- */

/* A double as f * 2^e with a 64-bit significand. */
struct dfp {
    uint64_t f;
    int e;
};

/* 10^k for k = -348, -340, ..., 340 as a significand with its top bit set
 * (rounded to nearest) and binary exponent; steps of 8 decimal exponents are
 * narrower than the window digit generation needs, so one always fits. */
static const struct dfp pow10_cache[] = {
    {0xfa8fd5a0081c0288u, -1220}, /* 1e-348 */
    {0xbaaee17fa23ebf76u, -1193}, /* 1e-340 */
    {0x8b16fb203055ac76u, -1166}, /* 1e-332 */
    {0xcf42894a5dce35eau, -1140}, /* 1e-324 */
    {0x9a6bb0aa55653b2du, -1113}, /* 1e-316 */
    {0xe61acf033d1a45dfu, -1087}, /* 1e-308 */
    {0xab70fe17c79ac6cau, -1060}, /* 1e-300 */
    {0xff77b1fcbebcdc4fu, -1034}, /* 1e-292 */
    {0xbe5691ef416bd60cu, -1007}, /* 1e-284 */
    {0x8dd01fad907ffc3cu, -980},  /* 1e-276 */
    {0xd3515c2831559a83u, -954},  /* 1e-268 */
    {0x9d71ac8fada6c9b5u, -927},  /* 1e-260 */
    {0xea9c227723ee8bcbu, -901},  /* 1e-252 */
    {0xaecc49914078536du, -874},  /* 1e-244 */
    {0x823c12795db6ce57u, -847},  /* 1e-236 */
    {0xc21094364dfb5637u, -821},  /* 1e-228 */
    {0x9096ea6f3848984fu, -794},  /* 1e-220 */
    {0xd77485cb25823ac7u, -768},  /* 1e-212 */
    {0xa086cfcd97bf97f4u, -741},  /* 1e-204 */
    {0xef340a98172aace5u, -715},  /* 1e-196 */
    {0xb23867fb2a35b28eu, -688},  /* 1e-188 */
    {0x84c8d4dfd2c63f3bu, -661},  /* 1e-180 */
    {0xc5dd44271ad3cdbau, -635},  /* 1e-172 */
    {0x936b9fcebb25c996u, -608},  /* 1e-164 */
    {0xdbac6c247d62a584u, -582},  /* 1e-156 */
    {0xa3ab66580d5fdaf6u, -555},  /* 1e-148 */
    {0xf3e2f893dec3f126u, -529},  /* 1e-140 */
    {0xb5b5ada8aaff80b8u, -502},  /* 1e-132 */
    {0x87625f056c7c4a8bu, -475},  /* 1e-124 */
    {0xc9bcff6034c13053u, -449},  /* 1e-116 */
    {0x964e858c91ba2655u, -422},  /* 1e-108 */
    {0xdff9772470297ebdu, -396},  /* 1e-100 */
    {0xa6dfbd9fb8e5b88fu, -369},  /* 1e-92 */
    {0xf8a95fcf88747d94u, -343},  /* 1e-84 */
    {0xb94470938fa89bcfu, -316},  /* 1e-76 */
    {0x8a08f0f8bf0f156bu, -289},  /* 1e-68 */
    {0xcdb02555653131b6u, -263},  /* 1e-60 */
    {0x993fe2c6d07b7facu, -236},  /* 1e-52 */
    {0xe45c10c42a2b3b06u, -210},  /* 1e-44 */
    {0xaa242499697392d3u, -183},  /* 1e-36 */
    {0xfd87b5f28300ca0eu, -157},  /* 1e-28 */
    {0xbce5086492111aebu, -130},  /* 1e-20 */
    {0x8cbccc096f5088ccu, -103},  /* 1e-12 */
    {0xd1b71758e219652cu, -77},   /* 1e-4 */
    {0x9c40000000000000u, -50},   /* 1e4 */
    {0xe8d4a51000000000u, -24},   /* 1e12 */
    {0xad78ebc5ac620000u, 3},     /* 1e20 */
    {0x813f3978f8940984u, 30},    /* 1e28 */
    {0xc097ce7bc90715b3u, 56},    /* 1e36 */
    {0x8f7e32ce7bea5c70u, 83},    /* 1e44 */
    {0xd5d238a4abe98068u, 109},   /* 1e52 */
    {0x9f4f2726179a2245u, 136},   /* 1e60 */
    {0xed63a231d4c4fb27u, 162},   /* 1e68 */
    {0xb0de65388cc8ada8u, 189},   /* 1e76 */
    {0x83c7088e1aab65dbu, 216},   /* 1e84 */
    {0xc45d1df942711d9au, 242},   /* 1e92 */
    {0x924d692ca61be758u, 269},   /* 1e100 */
    {0xda01ee641a708deau, 295},   /* 1e108 */
    {0xa26da3999aef774au, 322},   /* 1e116 */
    {0xf209787bb47d6b85u, 348},   /* 1e124 */
    {0xb454e4a179dd1877u, 375},   /* 1e132 */
    {0x865b86925b9bc5c2u, 402},   /* 1e140 */
    {0xc83553c5c8965d3du, 428},   /* 1e148 */
    {0x952ab45cfa97a0b3u, 455},   /* 1e156 */
    {0xde469fbd99a05fe3u, 481},   /* 1e164 */
    {0xa59bc234db398c25u, 508},   /* 1e172 */
    {0xf6c69a72a3989f5cu, 534},   /* 1e180 */
    {0xb7dcbf5354e9beceu, 561},   /* 1e188 */
    {0x88fcf317f22241e2u, 588},   /* 1e196 */
    {0xcc20ce9bd35c78a5u, 614},   /* 1e204 */
    {0x98165af37b2153dfu, 641},   /* 1e212 */
    {0xe2a0b5dc971f303au, 667},   /* 1e220 */
    {0xa8d9d1535ce3b396u, 694},   /* 1e228 */
    {0xfb9b7cd9a4a7443cu, 720},   /* 1e236 */
    {0xbb764c4ca7a44410u, 747},   /* 1e244 */
    {0x8bab8eefb6409c1au, 774},   /* 1e252 */
    {0xd01fef10a657842cu, 800},   /* 1e260 */
    {0x9b10a4e5e9913129u, 827},   /* 1e268 */
    {0xe7109bfba19c0c9du, 853},   /* 1e276 */
    {0xac2820d9623bf429u, 880},   /* 1e284 */
    {0x80444b5e7aa7cf85u, 907},   /* 1e292 */
    {0xbf21e44003acdd2du, 933},   /* 1e300 */
    {0x8e679c2f5e44ff8fu, 960},   /* 1e308 */
    {0xd433179d9c8cb841u, 986},   /* 1e316 */
    {0x9e19db92b4e31ba9u, 1013},  /* 1e324 */
    {0xeb96bf6ebadf77d9u, 1039},  /* 1e332 */
    {0xaf87023b9bf0ee6bu, 1066},  /* 1e340 */
};
#define POW10_FIRST (-348)
#define POW10_STEP 8

/* Product rounded to 64 bits (the low half rounds the high half up). */
static struct dfp dfp_mul(struct dfp a, struct dfp b)
{
    unsigned __int128 p = (unsigned __int128)a.f * b.f;
    uint64_t hi = (uint64_t)(p >> 64);
    hi += (uint64_t)p >> 63;
    return (struct dfp){hi, a.e + b.e + 64};
}

static struct dfp dfp_normalize(struct dfp x)
{
    int s = __builtin_clzll(x.f);
    return (struct dfp){x.f << s, x.e - s};
}

/* Strips digits from the end of buf while the shorter number is still
 * inside the interval and closer to the true value (Grisu's weeding). */
static void round_digits(char *buf, int len, uint64_t delta, uint64_t rest, uint64_t ten_kappa,
                         uint64_t wp_w)
{
    while (rest < wp_w && delta - rest >= ten_kappa &&
           (rest + ten_kappa < wp_w || wp_w - rest > rest + ten_kappa - wp_w)) {
        buf[len - 1]--;
        rest += ten_kappa;
    }
}

/* Digits of a number between the scaled boundaries lo and hi (exclusive,
 * already narrowed by the product error) as close as they allow to w:
 * writes them to buf, returns their count, adds the decimal exponent of the
 * last digit to *k. hi.e is in [-60, -32], so the integral part fits 32 bits. */
static int gen_digits(struct dfp w, struct dfp hi, uint64_t delta, char *buf, int *k)
{
    static const uint32_t p10[] = {1,      10,      100,      1000,      10000,
                                   100000, 1000000, 10000000, 100000000, 1000000000};
    static const uint64_t p10_64[] = {1,
                                      10,
                                      100,
                                      1000,
                                      10000,
                                      100000,
                                      1000000,
                                      10000000,
                                      100000000,
                                      1000000000,
                                      10000000000u,
                                      100000000000u,
                                      1000000000000u,
                                      10000000000000u,
                                      100000000000000u,
                                      1000000000000000u,
                                      10000000000000000u,
                                      100000000000000000u,
                                      1000000000000000000u,
                                      10000000000000000000u};
    int shift = -hi.e;
    uint64_t one = (uint64_t)1 << shift, wp_w = hi.f - w.f;
    uint32_t p1 = (uint32_t)(hi.f >> shift);
    uint64_t p2 = hi.f & (one - 1);
    int kappa = 10, len = 0;
    while (kappa > 0 && p1 < p10[kappa - 1])
        kappa--;
    while (kappa > 0) {
        uint32_t d = p1 / p10[kappa - 1];
        p1 %= p10[kappa - 1];
        if (d != 0 || len != 0)
            buf[len++] = (char)('0' + d);
        kappa--;
        uint64_t rest = ((uint64_t)p1 << shift) + p2;
        if (rest <= delta) {
            *k += kappa;
            round_digits(buf, len, delta, rest, (uint64_t)p10[kappa] << shift, wp_w);
            return len;
        }
    }
    for (;;) {
        p2 *= 10;
        delta *= 10;
        char d = (char)(p2 >> shift);
        if (d != 0 || len != 0)
            buf[len++] = (char)('0' + d);
        p2 &= one - 1;
        kappa--;
        if (p2 < delta) {
            *k += kappa;
            round_digits(buf, len, delta, p2, one, -kappa < 20 ? wp_w * p10_64[-kappa] : 0);
            return len;
        }
    }
}

/* Shortest (in practice) digits of a finite v > 0 that read back as v:
 * v = digits * 10^*k. Returns the digit count (1..17). */
static int shortest_digits(double v, char *buf, int *k)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    uint64_t frac = bits & (((uint64_t)1 << 52) - 1);
    int bexp = (int)(bits >> 52 & 0x7ff);
    struct dfp x =
        bexp ? (struct dfp){frac | (uint64_t)1 << 52, bexp - 1075} : (struct dfp){frac, -1074};
    /* the rounding interval's ends: halfway to the neighbours */
    struct dfp hi = dfp_normalize((struct dfp){(x.f << 1) + 1, x.e - 1});
    struct dfp lo = frac == 0 && bexp > 1 ? (struct dfp){(x.f << 2) - 1, x.e - 2}
                                          : (struct dfp){(x.f << 1) - 1, x.e - 1};
    lo.f <<= lo.e - hi.e;
    lo.e = hi.e;
    struct dfp w = dfp_normalize(x);
    /* a cached power c with -60 <= c.e + w.e + 64 <= -32 */
    int i = (int)((-61 - w.e) * 0.30102999566398114 - POW10_FIRST) / POW10_STEP;
    while (pow10_cache[i].e + w.e + 64 < -60)
        i++;
    while (pow10_cache[i].e + w.e + 64 > -32)
        i--;
    struct dfp c = pow10_cache[i];
    struct dfp sw = dfp_mul(w, c), shi = dfp_mul(hi, c), slo = dfp_mul(lo, c);
    /* each product may be one unit off: stay strictly inside */
    shi.f--;
    slo.f++;
    *k = -(POW10_FIRST + i * POW10_STEP);
    return gen_digits(sw, shi, shi.f - slo.f, buf, k);
}

/* Decimal digits of u into the end of a 20-byte scratch; returns the start. */
static char *u64_digits(uint64_t u, char *end)
{
    static const char pairs[] = "00010203040506070809101112131415161718192021222324"
                                "25262728293031323334353637383940414243444546474849"
                                "50515253545556575859606162636465666768697071727374"
                                "75767778798081828384858687888990919293949596979899";
    char *p = end;
    while (u >= 100) {
        unsigned d = (unsigned)(u % 100) * 2;
        u /= 100;
        *--p = pairs[d + 1];
        *--p = pairs[d];
    }
    if (u >= 10) {
        *--p = pairs[u * 2 + 1];
        *--p = pairs[u * 2];
    } else {
        *--p = (char)('0' + u);
    }
    return p;
}

size_t api_history_int64(char *out, int64_t v)
{
    char tmp[20], *end = tmp + sizeof tmp;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    char *p = u64_digits(u, end);
    size_t n = 0;
    if (v < 0)
        out[n++] = '-';
    memcpy(out + n, p, (size_t)(end - p));
    return n + (size_t)(end - p);
}

size_t api_history_double(char *out, double v)
{
    char digits[24];
    int k, n = 0;

    if (isnan(v)) {
        memcpy(out, "\"NaN\"", 5);
        return 5;
    }
    if (isinf(v)) {
        const char *s = v > 0 ? "\"Infinity\"" : "\"-Infinity\"";
        size_t len = strlen(s);
        memcpy(out, s, len);
        return len;
    }
    if (signbit(v)) {
        out[n++] = '-';
        v = -v;
    }
    if (v == 0) {
        memcpy(out + n, "0.0", 3);
        return (size_t)n + 3;
    }
    int len = shortest_digits(v, digits, &k);
    int point = len + k; /* v = 0.digits * 10^point */
    if (point > 0 && point <= 21) {
        if (k >= 0) { /* an integer: digits, zeros, ".0" */
            memcpy(out + n, digits, (size_t)len);
            n += len;
            memset(out + n, '0', (size_t)k);
            n += k;
            memcpy(out + n, ".0", 2);
            return (size_t)n + 2;
        }
        memcpy(out + n, digits, (size_t)point);
        n += point;
        out[n++] = '.';
        memcpy(out + n, digits + point, (size_t)(len - point));
        return (size_t)(n + len - point);
    }
    if (point <= 0 && point > -6) {
        out[n++] = '0';
        out[n++] = '.';
        memset(out + n, '0', (size_t)-point);
        n -= point;
        memcpy(out + n, digits, (size_t)len);
        return (size_t)(n + len);
    }
    out[n++] = digits[0];
    if (len > 1) {
        out[n++] = '.';
        memcpy(out + n, digits + 1, (size_t)(len - 1));
        n += len - 1;
    }
    out[n++] = 'e';
    return (size_t)n + api_history_int64(out + n, point - 1);
}

/* ---- get-history of a whole series, streamed ---- */

/* A streamed get-history reply: while one page is encoded the next is read
 * (store_history.h); the encoded text is sent in the pieces libmicrohttpd
 * asks for. Memory: two pages of points and one of text. */
struct history_stream {
    struct history_cursor *cursor;
    char *prefix; /* ",{\"key\":<key as JSON>,\"value\":" */
    size_t prefix_len;
    char *out; /* encoded, not yet sent: out[sent..len) */
    size_t len, sent, cap;
    int first;  /* no point encoded yet (its prefix has no comma) */
    int done;   /* the closing "]}" is in out */
    int failed; /* a page read failed: cut the body after what is in out */
};

/* Longest text of one point after its prefix: value, two integers, names. */
#define POINT_MAX_TEXT 112

/* Appends the points of one page to out (grown once per page). */
static void encode_points(struct history_stream *h, const struct metric *pts, size_t n)
{
    size_t need = h->len + n * (h->prefix_len + POINT_MAX_TEXT) + 16;
    if (need > h->cap) {
        h->cap = need;
        h->out = xrealloc(h->out, h->cap);
    }
    char *p = h->out + h->len;
    for (size_t i = 0; i < n; i++) {
        const char *pre = h->first ? h->prefix + 1 : h->prefix;
        size_t pre_len = h->first ? h->prefix_len - 1 : h->prefix_len;
        h->first = 0;
        memcpy(p, pre, pre_len);
        p += pre_len;
        p += api_history_double(p, pts[i].value);
        memcpy(p, ",\"timestamp\":", 13);
        p += 13;
        p += api_history_int64(p, pts[i].timestamp);
        memcpy(p, ",\"step\":", 8);
        p += 8;
        p += api_history_int64(p, pts[i].step);
        *p++ = '}';
    }
    h->len = (size_t)(p - h->out);
}

/* Encodes the next page while the one after it is read; at the end of the
 * series closes the JSON. */
static void encode_next_page(struct history_stream *h)
{
    const struct metric *pts;
    size_t n;
    store_history_next(h->cursor, &pts, &n);
    encode_points(h, pts, n);
    if (store_history_settle(h->cursor) != DB_OK) {
        h->failed = 1;
        return;
    }
    if (n == 0) {
        memcpy(h->out + h->len, "]}", 2);
        h->len += 2;
        h->done = 1;
    }
}

static void history_stream_free(void *state)
{
    struct history_stream *h = state;
    if (h == NULL)
        return;
    store_history_close(h->cursor);
    free(h->prefix);
    free(h->out);
    free(h);
}

static ssize_t history_stream_read(void *state, uint64_t pos, char *buf, size_t max)
{
    struct history_stream *h = state;

    (void)pos;
    while (h->sent == h->len) {
        if (h->done)
            return 0;
        if (h->failed)
            return -1; /* the client sees a cut body: a 200 cannot become an error now */
        h->len = h->sent = 0;
        encode_next_page(h);
    }
    size_t take = h->len - h->sent < max ? h->len - h->sent : max;
    memcpy(buf, h->out + h->sent, take);
    h->sent += take;
    return (ssize_t)take;
}

/* ",{"key":<key>,"value":" with the key escaped as a JSON string. */
static char *point_prefix(const char *key, size_t *len)
{
    json_t *k = json_string(key);
    char *key_json = k != NULL ? json_dumps(k, JSON_ENCODE_ANY) : NULL;
    json_decref(k);
    struct sbuf b;
    sbuf_init(&b);
    sbuf_adds(&b, ",{\"key\":");
    sbuf_adds(&b, key_json != NULL ? key_json : "\"\"");
    sbuf_adds(&b, ",\"value\":");
    free(key_json);
    *len = b.len;
    return sbuf_take(&b);
}

void api_history_stream(const char *run_id, const char *key, struct reply *r)
{
    struct history_cursor *cursor = NULL;

    int rc = store_history_open(run_id, key, &cursor);
    if (rc == DB_NOT_FOUND) {
        reply_json(r, json_object()); /* MLflow's answer for an unknown run or key */
        return;
    }
    if (rc != DB_OK) {
        api_store_error(r, rc, "metric history not found");
        return;
    }
    struct history_stream *h = xcalloc(1, sizeof *h);
    h->cursor = cursor;
    h->first = 1;
    h->prefix = point_prefix(key, &h->prefix_len);
    h->cap = 64;
    h->out = xmalloc(h->cap);
    memcpy(h->out, "{\"metrics\":[", 12);
    h->len = 12;
    encode_next_page(h);
    if (h->failed || (h->done && h->first)) { /* an error, or no point at all */
        rc = store_history_settle(cursor);
        history_stream_free(h);
        if (rc != DB_OK)
            api_store_error(r, rc, "metric history not found");
        else
            reply_json(r, json_object());
        return;
    }
    reply_stream(r, "application/json", -1, history_stream_read, history_stream_free, h);
}
