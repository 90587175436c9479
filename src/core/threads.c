/* Fixed worker pool with a generation counter (see threads.h). */
#include "threads.h"

#include <pthread.h>
#include <stdlib.h>

#include "error.h"

struct tpool {
    int threads;
    pthread_t *ids;
    pthread_mutex_t mu;
    pthread_cond_t start, done;
    unsigned long generation;  /* bumped for every tpool_for */
    int pending;               /* workers still running the current job */
    int quit;
    /* the current job */
    tpool_fn fn;
    void *ctx;
    int n;
};

typedef struct worker_arg {
    tpool *p;
    int tid;
} worker_arg;

static void run_chunk(tpool *p, int tid)
{
    int T = p->threads;
    int begin = (int)((long)p->n * tid / T), end = (int)((long)p->n * (tid + 1) / T);
    if (begin < end)
        p->fn(p->ctx, tid, begin, end);
}

static void *worker(void *arg)
{
    worker_arg *w = arg;
    tpool *p = w->p;
    int tid = w->tid;
    free(w);
    unsigned long seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (p->generation == seen && !p->quit)
            pthread_cond_wait(&p->start, &p->mu);
        if (p->quit)
            break;
        seen = p->generation;
        pthread_mutex_unlock(&p->mu);
        run_chunk(p, tid);
        pthread_mutex_lock(&p->mu);
        if (--p->pending == 0)
            pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

int tpool_create(tpool **out, int threads, err_t *e)
{
    *out = NULL;
    if (threads < 1 || threads > 256)
        return err_set(e, "thread count %d out of range (1..256)", threads);
    tpool *p = calloc(1, sizeof *p);
    if (!p)
        return err_set(e, "out of memory for a thread pool");
    p->threads = threads;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->start, NULL);
    pthread_cond_init(&p->done, NULL);
    p->ids = calloc(threads, sizeof *p->ids);
    if (!p->ids) {
        tpool_free(p);
        return err_set(e, "out of memory for a thread pool");
    }
    for (int t = 1; t < threads; t++) {
        worker_arg *w = malloc(sizeof *w);
        if (!w || (w->p = p, w->tid = t, pthread_create(&p->ids[t], NULL, worker, w) != 0)) {
            free(w);
            p->threads = t;   /* only workers 1..t-1 exist */
            tpool_free(p);
            return err_set(e, "cannot start worker thread %d of %d", t, threads);
        }
    }
    *out = p;
    return 0;
}

void tpool_free(tpool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->quit = 1;
    pthread_cond_broadcast(&p->start);
    pthread_mutex_unlock(&p->mu);
    for (int t = 1; t < p->threads; t++)
        pthread_join(p->ids[t], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->start);
    pthread_cond_destroy(&p->done);
    free(p->ids);
    free(p);
}

int tpool_threads(const tpool *p)
{
    return p->threads;
}

void tpool_for(tpool *p, int n, tpool_fn fn, void *ctx)
{
    if (n <= 0)
        return;
    if (p->threads == 1) {
        fn(ctx, 0, 0, n);
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->ctx = ctx;
    p->n = n;
    p->pending = p->threads - 1;
    p->generation++;
    pthread_cond_broadcast(&p->start);
    pthread_mutex_unlock(&p->mu);
    run_chunk(p, 0);
    pthread_mutex_lock(&p->mu);
    while (p->pending > 0)
        pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}
