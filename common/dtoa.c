/* The digits of a double (core/dtoa.h): Grisu2 with 64-bit cached powers of
 * ten, as exptrack has always written them, but with the digits found by
 * arithmetic on the whole scaled value instead of one loop turn per digit.
 *
 * Grisu2 scales v's rounding interval by a cached power of ten so that its
 * upper end hi is a 64-bit fixed-point number with 32-60 fraction bits,
 * narrows it by one unit at each end for the product's error, and writes
 * the digits of hi up to the first position where the rest of hi is inside
 * the interval (shorter is never possible inside the narrowed interval),
 * then lowers the last digit while that brings it closer to v ("weeding").
 * The old loop did that a digit at a time. Here the stop position is
 * computed from the interval's width (the first fraction position whose unit
 * fits in it always qualifies; earlier ones are tried while they qualify,
 * usually one or two, trailing zeros in blocks), the fraction digits up to
 * it come out of one 128-bit product, the weeding runs on the digits as one
 * integer, and the digits are written eight at a time. Every comparison is the loop's
 * own, on the same exact integers, so the digits are the same; the rare
 * case the shortcut does not cover (a subnormal whose interval is wider
 * than one unit of the integral part) still runs the loop. */
#include "dtoa.h"

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
const uint64_t dtoa_pow10[20] = {1,
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

const char dtoa_digit_pairs[201] = "00010203040506070809101112131415161718192021222324"
                                   "25262728293031323334353637383940414243444546474849"
                                   "50515253545556575859606162636465666768697071727374"
                                   "75767778798081828384858687888990919293949596979899";

/* Writes the 8 decimal digits of v (< 10^8), zero-padded, at p. v * 2^48 /
 * 10^6, rounded up, holds the first pair in its top bits and the rest as a
 * binary fraction, which each multiplication by 100 moves up by a pair; the
 * rounding error stays below every pair's step for all v < 10^8 (checked
 * against printf for each of them when this was written). */
static inline void put8(uint32_t v, char *p)
{
    const uint64_t mask = ((uint64_t)1 << 48) - 1;
    uint64_t t = (uint64_t)v * 281474977u; /* ceil(2^48 / 10^6) */
    memcpy(p, dtoa_digit_pairs + 2 * (t >> 48), 2);
    t = (t & mask) * 100;
    memcpy(p + 2, dtoa_digit_pairs + 2 * (t >> 48), 2);
    t = (t & mask) * 100;
    memcpy(p + 4, dtoa_digit_pairs + 2 * (t >> 48), 2);
    t = (t & mask) * 100;
    memcpy(p + 6, dtoa_digit_pairs + 2 * (t >> 48), 2);
}

/* Writes the len (1..19) decimal digits of u (< 10^len) at buf (>=
 * DTOA_DIGITS_MAX bytes; the bytes after the digits are scratch): blocks of
 * eight right-aligned in a scratch line, then one copy of fixed size. */
static void put_digits(uint64_t u, int len, char *buf)
{
    char line[48];
    if (len <= 8) {
        put8((uint32_t)u, line + 16);
    } else {
        uint64_t hi = u / 100000000;
        put8((uint32_t)(u - hi * 100000000), line + 16);
        if (len <= 16) {
            put8((uint32_t)hi, line + 8);
        } else {
            uint64_t top = hi / 100000000;
            put8((uint32_t)(hi - top * 100000000), line + 8);
            put8((uint32_t)top, line);
        }
    }
    memcpy(buf, line + 24 - len, DTOA_DIGITS_MAX);
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
 * last digit to *k. hi.e is in [-60, -32], so the integral part fits 32 bits.
 * Grisu2's digit loop, one digit a turn: the reference the shortcuts below
 * must agree with, and what runs where they do not apply. */
static int gen_digits_loop(struct dfp w, struct dfp hi, uint64_t delta, char *buf, int *k)
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
        len = p1 != 0 ? dtoa_u64_len(p1) : 0;
        put_digits(p1, len, buf);
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
            round_digits(buf, len, delta, p2, one, -kappa < 20 ? wp_w * dtoa_pow10[-kappa] : 0);
            return len;
        }
    }
}

/* The digits when the stop falls among the fraction bits of hi (its
 * fraction p2 is more than the interval's width delta, so no stop in the
 * integral part p1): those of floor(hi * 10^j) for the least j >= 1 whose
 * rest is below delta * 10^j, weeded towards w. Returns 0 (nothing
 * written) if the digits would not fit 19, which Grisu2 never needs. */
static int frac_digits(uint32_t p1, uint64_t p2, int shift, uint64_t delta, uint64_t wp_w,
                       char *buf, int *k)
{
    uint64_t one = (uint64_t)1 << shift;
    /* The least j with delta * 10^j >= one: its rest (below one) is below
     * delta * 10^j, so it stops there if not before. g = shift - bits of
     * delta (delta < 2^(shift - g)) needs 10^j > 2^g, so j is at least
     * floor(g log10 2) + 1 (78913 / 2^18 is just under log10 2). */
    int g = shift - (64 - __builtin_clzll(delta));
    int j = (int)(((unsigned)g * 78913u) >> 18) + 1;
    /* j never passes that least one, so delta * 10^j < 10 * one < 2^64 */
    while (delta * dtoa_pow10[j] < one)
        j++;
    int n1 = dtoa_u64_len(p1);
    if (n1 + j > 19)
        return 0;
    unsigned __int128 x = (unsigned __int128)p2 * dtoa_pow10[j];
    uint64_t f = (uint64_t)(x >> shift); /* the j fraction digits */
    uint64_t rest = (uint64_t)x & (one - 1);
    uint64_t dl = delta * dtoa_pow10[j];
    /* A zero last digit always makes the stop one earlier (the rest and
     * the width both divide by ten exactly): short decimals (0.0375) have
     * many, so they go in blocks; one test when there are none. */
    if (j > 2 && f % 100 == 0) {
        while (j > 8 && f % 100000000 == 0) {
            f /= 100000000;
            rest /= 100000000;
            dl /= 100000000;
            j -= 8;
        }
        if (j > 4 && f % 10000 == 0) {
            f /= 10000;
            rest /= 10000;
            dl /= 10000;
            j -= 4;
        }
        if (j > 2 && f % 100 == 0) {
            f /= 100;
            rest /= 100;
            dl /= 100;
            j -= 2;
        }
    }
    /* Earlier stops: at j - 1 the rest is (rest + last digit * one) / 10,
     * exactly, and the width dl / 10; the loop stops at the first j whose
     * rest is below the width, and a stop at j - 1 implies one at j. */
    while (j > 1) {
        uint64_t r = (rest + (f % 10) * one) / 10;
        if (r >= dl / 10)
            break;
        rest = r;
        dl /= 10;
        f /= 10;
        j--;
    }
    uint64_t d = p1 * dtoa_pow10[j] + f;
    /* Weeding as round_digits does it; the last digit never wraps below 0
     * (that would have been an earlier stop), so lowering the integer is
     * lowering the digit. */
    uint64_t wpw = wp_w * dtoa_pow10[j];
    while (rest < wpw && dl - rest >= one && (rest + one < wpw || wpw - rest > rest + one - wpw)) {
        d--;
        rest += one;
    }
    int len = n1 + j;
    put_digits(d, len, buf);
    *k -= j;
    return len;
}

/* The digits when the fraction p2 of hi is within the width delta and delta
 * is less than one unit of the integral part p1: any nonzero digit left in
 * p1 makes the rest at least one, so the loop stops after the last nonzero
 * digit of p1, and weeding by a whole power of ten of units cannot move
 * inside a width below one. The digits are p1 without its trailing zeros. */
static int int_digits(uint32_t p1, char *buf, int *k)
{
    int tz = 0;
    if (p1 % 10000 == 0) {
        p1 /= 10000;
        tz += 4;
    }
    if (p1 % 10000 == 0) {
        p1 /= 10000;
        tz += 4;
    }
    if (p1 % 100 == 0) {
        p1 /= 100;
        tz += 2;
    }
    while (p1 % 10 == 0) {
        p1 /= 10;
        tz++;
    }
    int len = dtoa_u64_len(p1);
    put_digits(p1, len, buf);
    *k += tz;
    return len;
}

int dtoa_digits(double v, char *buf, int *k)
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
    /* A cached power c with -60 <= c.e + w.e + 64 <= -32, the one Grisu2
     * has always used: its old search started from floor((-61 - w.e) log10
     * 2) + 348 over 8, which was always one short, stepped up while c.e was
     * too small and never had to step down. Starting one higher and only
     * stepping up picks the same power for every w.e in [-1137, 960] (all
     * of them checked when this was written), and (x * 78913) >> 18 is
     * floor(x log10 2) there without a conversion to double. */
    int i = (((-61 - w.e) * 78913 >> 18) - POW10_FIRST) / POW10_STEP + 1;
    while (pow10_cache[i].e + w.e + 64 < -60)
        i++;
    struct dfp c = pow10_cache[i];
    struct dfp sw = dfp_mul(w, c), shi = dfp_mul(hi, c), slo = dfp_mul(lo, c);
    /* each product may be one unit off: stay strictly inside */
    shi.f--;
    slo.f++;
    *k = -(POW10_FIRST + i * POW10_STEP);
    uint64_t delta = shi.f - slo.f;
    int shift = -shi.e;
    uint64_t one = (uint64_t)1 << shift;
    uint32_t p1 = (uint32_t)(shi.f >> shift);
    uint64_t p2 = shi.f & (one - 1);
    if (p2 > delta) {
        int len = frac_digits(p1, p2, shift, delta, shi.f - sw.f, buf, k);
        if (len > 0)
            return len;
    } else if (delta < one && p1 != 0) {
        return int_digits(p1, buf, k);
    }
    return gen_digits_loop(sw, shi, delta, buf, k);
}
