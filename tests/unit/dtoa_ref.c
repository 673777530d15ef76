/* The double encoder of core/json_writer.c as it was before issue 21
 * (commit 6acbad1), kept for tests only: the digit-by-digit Grisu2 that the
 * replies' text was defined by, so that test_dtoa and the dtoa benchmark can
 * compare the current encoder with it byte for byte. Not linked into
 * exptrackd. Do not change it: it is the reference. */
#include "dtoa_ref.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

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

/* 10^0 .. 10^19. */
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

/* Writes the decimal digits of u backwards, ending just before end;
 * returns where they start. */
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
    int shift = -hi.e;
    uint64_t one = (uint64_t)1 << shift, wp_w = hi.f - w.f;
    uint32_t p1 = (uint32_t)(hi.f >> shift);
    uint64_t p2 = hi.f & (one - 1);
    int kappa = 10, len = 0;
    while (kappa > 0 && p1 < p10[kappa - 1])
        kappa--;
    if (p2 > delta) {
        /* Whatever the digit, what is left after it is at least p2: no
         * stop inside the integral part, so its digits go out at once
         * (17-digit values, the common case, skip ten divisions). */
        char tmp[20], *end = tmp + sizeof tmp, *d = u64_digits(p1, end);
        len = p1 != 0 ? (int)(end - d) : 0;
        memcpy(buf, d, (size_t)len);
        kappa = 0;
    }
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

/* The number of decimal digits of u (1 for 0). */
static int u64_len(uint64_t u)
{
    u |= 1;
    int t = (64 - __builtin_clzll(u)) * 1233 >> 12; /* about log10(2^bits) */
    return t - (u < p10_64[t]) + 1;
}

static size_t ref_int64_text(char *out, int64_t v)
{
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    size_t n = 0;
    if (v < 0)
        out[n++] = '-';
    n += (size_t)u64_len(u);
    (void)u64_digits(u, out + n); /* straight into place: no scratch, no copy */
    return n;
}

size_t dtoa_ref_double_text(char *out, double v)
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
    return (size_t)n + ref_int64_text(out + n, point - 1);
}
