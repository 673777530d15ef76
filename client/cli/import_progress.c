/* Progress of import and export: counters shared by the worker threads, a
 * one-line bar redrawn on a terminal (experiments, runs, points, bytes,
 * rate, ETA) or a plain line every 5 seconds otherwise, and the summary. */
#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "import.h"

int64_t iprog_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void iprog_init(struct iprog *p)
{
    memset(p, 0, sizeof *p);
    pthread_mutex_init(&p->mu, NULL);
    p->started_ms = p->last_print_ms = iprog_now_ms();
    p->tty = isatty(STDERR_FILENO);
}

/* Prints the current line; caller holds p->mu. */
static void print_line(struct iprog *p, int final)
{
    double secs = (double)(iprog_now_ms() - p->started_ms) / 1000.0;
    double rate = secs > 0 ? (double)p->points / secs : 0;
    char eta[32] = "";
    int64_t done = p->runs + p->runs_skipped;
    if (p->runs_total > 0 && done > 0 && !final) {
        double left = secs / (double)done * (double)(p->runs_total - done);
        snprintf(eta, sizeof eta, " ETA %.0fs", left);
    }
    if (p->tty && !final) {
        int width = 24, fill = p->runs_total > 0 ? (int)(width * done / p->runs_total) : 0;
        char bar[32];
        for (int i = 0; i < width; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[width] = '\0';
        fprintf(stderr, "\r[%s] exp %lld runs %lld/%lld points %lld (%.0f/s) %.1f MiB%s   ", bar,
                (long long)p->experiments, (long long)done, (long long)p->runs_total,
                (long long)p->points, rate, (double)p->bytes / 1048576.0, eta);
    } else {
        fprintf(stderr,
                "%sexptrack: %.1fs experiments %lld runs %lld/%lld points %lld (%.0f/s) files "
                "%lld bytes %lld%s\n",
                p->tty ? "\r" : "", secs, (long long)p->experiments, (long long)done,
                (long long)p->runs_total, (long long)p->points, rate, (long long)p->files,
                (long long)p->bytes, eta);
    }
    fflush(stderr);
}

void iprog_add(struct iprog *p, int64_t runs, int64_t points, int64_t files, int64_t bytes)
{
    pthread_mutex_lock(&p->mu);
    p->runs += runs;
    p->points += points;
    p->files += files;
    p->bytes += bytes;
    int64_t now = iprog_now_ms();
    if (now - p->last_print_ms >= (p->tty ? 250 : 5000)) {
        p->last_print_ms = now;
        print_line(p, 0);
    }
    pthread_mutex_unlock(&p->mu);
}

void iprog_skip(struct iprog *p, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&p->mu);
    size_t used = strlen(p->skips);
    if (used + strlen(line) + 2 < sizeof p->skips)
        snprintf(p->skips + used, sizeof p->skips - used, "%s\n", line);
    pthread_mutex_unlock(&p->mu);
}

void iprog_summary(struct iprog *p, const char *verb, int dry_run, int json)
{
    pthread_mutex_lock(&p->mu);
    print_line(p, 1);
    double secs = (double)(iprog_now_ms() - p->started_ms) / 1000.0;
    if (json) {
        printf(
            "{\"%s\": {\"dry_run\": %s, \"experiments\": %lld, \"runs\": %lld, "
            "\"runs_skipped\": %lld, \"points\": %lld, \"params\": %lld, \"tags\": %lld, "
            "\"files\": %lld, \"files_skipped\": %lld, \"bytes\": %lld, \"logged_models\": %lld, "
            "\"remapped\": %lld, \"failed\": %lld, \"seconds\": %.3f}}\n",
            verb, dry_run ? "true" : "false", (long long)p->experiments, (long long)p->runs,
            (long long)p->runs_skipped, (long long)p->points, (long long)p->params,
            (long long)p->tags, (long long)p->files, (long long)p->files_skipped,
            (long long)p->bytes, (long long)p->logged_models, (long long)p->remapped,
            (long long)p->failed, secs);
    } else {
        printf("%s%s: %lld experiments, %lld runs (%lld already done), %lld points, %lld "
               "params, %lld tags, %lld files (%lld already present), %lld bytes, %lld logged "
               "models, %lld ids remapped, %lld failed, %.1f s\n",
               dry_run ? "dry run: would " : "", verb, (long long)p->experiments,
               (long long)p->runs, (long long)p->runs_skipped, (long long)p->points,
               (long long)p->params, (long long)p->tags, (long long)p->files,
               (long long)p->files_skipped, (long long)p->bytes, (long long)p->logged_models,
               (long long)p->remapped, (long long)p->failed, secs);
    }
    if (p->skips[0])
        fprintf(stderr, "skipped:\n%s", p->skips);
    pthread_mutex_unlock(&p->mu);
}

int ipathf(char *buf, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(buf, n, fmt, ap);
    va_end(ap);
    return len < 0 || (size_t)len >= n ? -1 : 0;
}
