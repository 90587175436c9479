/* Network architectures as data: a small line-oriented text format.
 *
 *   # comment                      (blank lines and comments ignored)
 *   input channels=1 height=28 width=28
 *   conv filters=32 size=5 pad=full        (pad: full | half | valid)
 *   conv filters=10 size=1 pad=valid bn=0 relu=0   (bn, relu default to 1)
 *   maxpool                        (2x2, stride 2, after a conv)
 *   meanpool                       (global mean, after the last conv)
 *   dense outputs=10               (optional final classifier, with bias)
 *
 * A conv line starts a block; maxpool or meanpool closes it.  The network
 * ends with meanpool (whose channels are the classes) or with dense.  Shapes
 * are inferred layer to layer and checked; errors name file and line. */
#ifndef DRMM_ARCH_H
#define DRMM_ARCH_H

#include <stddef.h>

#include "conv.h"

#define ARCH_MAX_BLOCKS 32

struct err_t;

typedef enum { POOL_NONE = 0, POOL_MAX = 1, POOL_MEAN = 2 } pool_kind;

typedef struct arch_block {
    conv_geom g;          /* input cin x h x w -> output cout x ho x wo */
    pad_mode pad;
    int bn, relu;         /* 1 = present */
    pool_kind pool;
    int hp, wp;           /* spatial size after the pooling */
    int line;             /* line of the conv in the architecture text */
} arch_block;

typedef struct arch {
    int channels, height, width;   /* input */
    int nblocks;
    arch_block blocks[ARCH_MAX_BLOCKS];
    int dense;                     /* 1 if a dense classifier ends the network */
    int features;                  /* size of the last block's pooled output */
    int classes;                   /* network outputs */
    char *text;                    /* owned copy of the source text */
} arch;

/* Parses text (name is used in messages).  On success a owns a copy of text.
 * The engine opens no files: src/run/arch_file.h reads one for the programs. */
int  arch_parse(arch *a, const char *text, const char *name, struct err_t *e);
void arch_free(arch *a);
/* Human-readable table of the layers and their shapes. */
int  arch_describe(const arch *a, char *buf, size_t len);

#endif
