/* The background threads' start and stop (core/worker.h): a stop flag set
 * and broadcast under the owner's lock, then a join. Nothing else. */
#include "worker.h"

int worker_start(struct worker *w, void *(*fn)(void *), void *arg)
{
    if (w->nthreads == WORKER_MAX_THREADS)
        return -1;
    if (pthread_create(&w->threads[w->nthreads], NULL, fn, arg) != 0)
        return -1;
    w->nthreads++;
    w->stopping = 0;
    return 0;
}

int worker_wait(struct worker *w, const struct timespec *deadline)
{
    if (w->stopping || w->cv == NULL)
        return w->stopping;
    if (deadline != NULL)
        (void)pthread_cond_timedwait(w->cv, w->mu, deadline);
    else
        pthread_cond_wait(w->cv, w->mu);
    return w->stopping;
}

void worker_deadline(struct timespec *out, long ms)
{
    clock_gettime(CLOCK_REALTIME, out);
    out->tv_sec += ms / 1000;
    out->tv_nsec += ms % 1000 * 1000000L;
    if (out->tv_nsec >= 1000000000L) {
        out->tv_sec++;
        out->tv_nsec -= 1000000000L;
    }
}

int worker_stop(struct worker *w)
{
    pthread_mutex_lock(w->mu);
    int n = w->nthreads;
    if (n > 0) {
        w->stopping = 1;
        if (w->cv != NULL)
            pthread_cond_broadcast(w->cv);
    }
    pthread_mutex_unlock(w->mu);
    if (n == 0)
        return 0;
    /* only the stopping thread changes the thread list: join outside the lock */
    for (int i = 0; i < n; i++)
        pthread_join(w->threads[i], NULL);
    pthread_mutex_lock(w->mu);
    w->nthreads = 0;
    pthread_mutex_unlock(w->mu);
    return 1;
}
