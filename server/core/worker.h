/* Start, wake, stop and join for the server's background threads (log
 * flusher, change-feed sender, group-commit writers and completer, header
 * reaper): one way to do the flag-signal-join dance. The lock and condition
 * stay the owner's, because they guard the owner's queue too; this file
 * only owns the threads and the stop flag. Not a thread pool, no queue. */
#ifndef ET_SERVER_CORE_WORKER_H
#define ET_SERVER_CORE_WORKER_H

#include <pthread.h>
#include <time.h>

/* Most threads one worker runs (group commit: a writer and a standby). */
#define WORKER_MAX_THREADS 4

struct worker {
    pthread_mutex_t *mu; /* the owner's lock: guards its queue and the fields below */
    pthread_cond_t *cv;  /* the owner's "work or stop" condition; may be NULL */
    pthread_t threads[WORKER_MAX_THREADS];
    int nthreads; /* started and not yet joined */
    int stopping; /* a stop was asked: finish what is queued and return */
};

/* Static initialiser over the owner's lock and condition (cv may be NULL). */
#define WORKER_INIT(mu_, cv_)                                                                      \
    {                                                                                              \
        .mu = (mu_), .cv = (cv_)                                                                   \
    }

/* Starts one more thread running fn(arg) and clears the stop flag. Call
 * with *w->mu held: the caller can publish its own state together with the
 * start, and the new thread, which should begin by taking *w->mu, runs only
 * once the caller unlocks. Returns 0, or -1 when the thread cannot be
 * created (or WORKER_MAX_THREADS run already); nothing is started then. */
int worker_start(struct worker *w, void *(*fn)(void *), void *arg)
    __attribute__((warn_unused_result));

/* Whether a stop was asked. Read with *w->mu held; threads loop on it. */
static inline int worker_stopping(const struct worker *w)
{
    return w->stopping;
}

/* Whether any thread was started and not yet joined. With *w->mu held. */
static inline int worker_running(const struct worker *w)
{
    return w->nthreads > 0;
}

/* Waits, with *w->mu held (it is released while waiting), for a signal on
 * *w->cv or a stop, or until deadline (CLOCK_REALTIME, as from
 * worker_deadline; NULL waits without one). Returns worker_stopping(w).
 * Wake-ups may be spurious: callers re-check their own condition. Returns at
 * once when a stop was asked already. */
int worker_wait(struct worker *w, const struct timespec *deadline);

/* The CLOCK_REALTIME time ms milliseconds from now, for worker_wait. */
void worker_deadline(struct timespec *out, long ms);

/* Stops the threads: sets the stop flag and broadcasts *w->cv under *w->mu,
 * then joins every thread, then forgets them. Call without *w->mu held. The
 * threads are expected to drain their work and return once they see the
 * flag; an owner that waits elsewhere (a second condition, a pipe) wakes
 * those waits itself before calling this. Returns 1 when threads were
 * joined, 0 when none ran (then nothing is done). */
int worker_stop(struct worker *w);

#endif
