/* A named float32 tensor: how parameters, optimiser state and BN statistics
 * leave the engine (for checkpoints in the store, and for other tools such as
 * numpy or PyTorch, which read name, shape and little-endian float32 data).
 * The data pointer is borrowed: the owner of the tensor keeps the memory. */
#ifndef DRMM_NAMED_TENSOR_H
#define DRMM_NAMED_TENSOR_H

#define NT_MAX_DIMS 4
#define NT_NAME_MAX 64

typedef struct named_tensor {
    char name[NT_NAME_MAX];   /* e.g. "conv1.weight", "adam.m.conv1.weight" */
    int ndim;
    int shape[NT_MAX_DIMS];
    float *data;              /* borrowed; product(shape) floats */
} named_tensor;

static inline long nt_numel(const named_tensor *t)
{
    long n = 1;
    for (int i = 0; i < t->ndim; i++)
        n *= t->shape[i];
    return n;
}

#endif
