/* The ranks of MPI_COMM_WORLD as a data-parallel training group
 * (trainer.h's train_group): MPI's start and end, and the group's sum.
 * Compiled with mpicc into bin/train-mpi alone: the library and every other
 * program build and run without MPI. */
#ifndef DRMM_MPI_GROUP_H
#define DRMM_MPI_GROUP_H

#include "trainer.h"

struct err_t;

/* MPI_Init, then g = this rank of MPI_COMM_WORLD with the sum below.
 * Returns -1 (message in e) when MPI does not start. */
int mpi_group_init(int *argc, char ***argv, train_group *g, struct err_t *e);

/* Ends MPI and returns status: MPI_Finalize, or, when this rank failed
 * (failed != 0) in a group of several, MPI_Abort with status: the others may
 * be waiting in a sum for this rank and would wait for ever.  (An
 * interrupted run is no failure: every rank stops at the same step.) */
int mpi_group_finish(const train_group *g, int status, int failed);

#endif
