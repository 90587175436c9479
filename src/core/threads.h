/* A small fixed pool of worker threads for data-parallel loops over a batch.
 * tpool_for(p, n, fn, ctx) splits [0, n) into one contiguous chunk per thread
 * (chunk t is [n*t/T, n*(t+1)/T)), runs chunk 0 on the calling thread and the
 * others on the workers, and returns when all are done.  The split depends
 * only on n and the thread count, so results are deterministic for a given
 * thread count.  A pool of 1 thread runs everything on the caller. */
#ifndef DRMM_THREADS_H
#define DRMM_THREADS_H

struct err_t;
typedef struct tpool tpool;

/* fn processes items [begin, end) as thread tid (0 <= tid < threads). */
typedef void (*tpool_fn)(void *ctx, int tid, int begin, int end);

int  tpool_create(tpool **p, int threads, struct err_t *e);
void tpool_free(tpool *p);
int  tpool_threads(const tpool *p);
void tpool_for(tpool *p, int n, tpool_fn fn, void *ctx);

#endif
