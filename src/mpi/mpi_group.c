/* MPI_COMM_WORLD as a training group (see mpi_group.h).  The sum is
 * MPI_Reduce to rank 0 followed by MPI_Bcast rather than MPI_Allreduce:
 * MPI does not promise that an allreduce gives every rank the same bits
 * (the order of the additions may differ per rank), and the members must
 * apply identical gradients to keep identical models. */
#include "mpi_group.h"

#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

#include "error.h"

static void mpi_sum(double *v, int count, void *ctx)
{
    (void)ctx;
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    /* MPI's default error handler aborts the job on a failure */
    MPI_Reduce(rank == 0 ? MPI_IN_PLACE : v, rank == 0 ? v : NULL, count, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);
    MPI_Bcast(v, count, MPI_DOUBLE, 0, MPI_COMM_WORLD);
}

int mpi_group_init(int *argc, char ***argv, train_group *g, err_t *e)
{
    /* A rank waiting in a sum yields its core instead of spinning (unless the
       user chose otherwise): a step has a few dozen sums, and on a machine
       shared with other work, or with more ranks than cores, spinning keeps
       the rank that is still computing off the core (Open MPI's option;
       other MPIs ignore the variable). */
    setenv("OMPI_MCA_mpi_yield_when_idle", "1", 0);
    if (MPI_Init(argc, argv) != MPI_SUCCESS)
        return err_set(e, "MPI_Init failed: run under mpirun (see README, Running on a cluster)");
    *g = (train_group){.sum = mpi_sum, .kind = "MPI ranks"};
    MPI_Comm_rank(MPI_COMM_WORLD, &g->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g->size);
    return 0;
}

int mpi_group_finish(const train_group *g, int status, int failed)
{
    if (failed && g->size > 1) {
        fflush(stdout);
        fflush(stderr);
        MPI_Abort(MPI_COMM_WORLD, status);
    }
    MPI_Finalize();
    return status;
}
