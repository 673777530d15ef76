/* Small helpers of the library: clocks, randomness for idempotency keys and
 * jitter, the thread-local last error, and MLflow's metric key rules. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

static _Thread_local char last_error[512];

int64_t et__util_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME_COARSE, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t et__util_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void et__util_deadline(struct timespec *ts, int64_t ms_from_now)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms_from_now / 1000;
    ts->tv_nsec += (ms_from_now % 1000) * 1000000;
    if (ts->tv_nsec >= 1000000000) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000;
    }
}

/* Fills buf from getrandom(); falls back to a time/pid mix if unavailable. */
static void random_bytes(unsigned char *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = getrandom(buf + got, n - got, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        got += (size_t)r;
    }
    if (got < n) {
        uint64_t x =
            (uint64_t)et__util_mono_ms() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)buf;
        for (size_t i = got; i < n; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            buf[i] = (unsigned char)x;
        }
    }
}

void et__util_random_hex32(char out[33])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char raw[16];

    random_bytes(raw, sizeof raw);
    for (int i = 0; i < 16; i++) {
        out[2 * i] = hex[raw[i] >> 4];
        out[2 * i + 1] = hex[raw[i] & 15];
    }
    out[32] = '\0';
}

uint64_t et__util_rand_below(uint64_t n)
{
    uint64_t x;
    if (n == 0)
        return 0;
    random_bytes((unsigned char *)&x, sizeof x);
    return x % n;
}

void et__util_set_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
}

const char *et_last_error(void)
{
    return last_error;
}

static int key_char_ok(unsigned char ch)
{
    /* \w also covers Unicode letters: accept every non-ASCII byte. */
    return ch >= 0x80 || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           (ch >= '0' && ch <= '9') || ch == '_' || ch == '/' || ch == '.' || ch == '-' ||
           ch == ' ' || ch == ':';
}

int et__util_check_key(const char *key)
{
    size_t n = 0;
    if (key == NULL || key[0] == '\0')
        return ET_EINVAL;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++, n++)
        if (!key_char_ok(*p))
            return ET_EINVAL;
    if (n > 250 || key[0] == '/' || key[n - 1] == '/' || strcmp(key, ".") == 0 ||
        strncmp(key, "..", 2) == 0 || strstr(key, "//") || strstr(key, "/./") ||
        strstr(key, "/../") || strncmp(key, "./", 2) == 0 ||
        (n >= 2 && strcmp(key + n - 2, "/.") == 0) || (n >= 3 && strcmp(key + n - 3, "/..") == 0))
        return ET_EINVAL;
    return ET_OK;
}

char *et__util_strdup(const char *s)
{
    if (s == NULL)
        return NULL;
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p != NULL)
        memcpy(p, s, n);
    return p;
}
