/* A small store for the programs' end-to-end tests: a synthetic dataset
 * "synth" (200 training and 20 test images of 32x32) and two runs of a small
 * ConvSmall-like network, "t/drmm+kl+nn/n100/s1" (1) with an untrained
 * checkpoint and "t/drmm/n100/s1" (2) without one.  Static functions:
 * include once per test program, after check.h and fixture.h. */
#ifndef DRMM_TEST_MODEL_STORE_H
#define DRMM_TEST_MODEL_STORE_H

#include "arch.h"
#include "dataset.h"
#include "drmm.h"
#include "error.h"
#include "store.h"
#include "synth.h"

static const char *FX_MODEL_ARCH =
    "input channels=1 height=32 width=32\n"
    "conv filters=8 size=3 pad=half\n"
    "maxpool\n"
    "conv filters=16 size=3 pad=half\n"
    "maxpool\n"
    "conv filters=10 size=1 pad=valid\n"
    "meanpool\n";

static void fx_model_run(store *s, const char *name, int with_ckpt)
{
    err_t e = {.msg = ""};
    store_kv cfg[1] = {{"supervised_only", "0"}};
    store_run_info in = {.name = name, .dataset = "synth", .architecture = FX_MODEL_ARCH, .config = cfg, .n_config = 1,
                         .n_labels = 100, .label_seed = 1, .seed = 3, .threads = 1};
    int64_t id = 0;
    CHECK(store_create_run(s, &in, &id, &e) == 0, "create run %s: %s", name, e.msg);
    if (with_ckpt) {
        arch a;
        drmm_config dc;
        drmm_config_default(&dc);
        drmm *m = NULL;
        CHECK(arch_parse(&a, FX_MODEL_ARCH, "test", &e) == 0 && drmm_create(&m, &a, &dc, 3, &e) == 0, "%s", e.msg);
        named_tensor t[64];
        int nt = drmm_tensors(m, t, 64);
        CHECK(store_put_checkpoint(s, id, 1, 10, t, nt, NULL, 0, NULL, &e) == 0, "checkpoint: %s", e.msg);
        drmm_free(m);
        arch_free(&a);
    }
    CHECK(store_set_run_status(s, id, "FINISHED", NULL, &e) == 0, "%s", e.msg);
}

static void fx_model_store(const char *path)
{
    err_t e = {.msg = ""};
    store *s;
    CHECK(store_open(path, 0, &s, &e) == 0, "%s", e.msg);
    synth_config sc;
    synth_config_default(&sc);
    sc.n_train = 200;
    sc.n_test = 20;
    sc.supersample = 1;
    sc.seed = 5;
    dataset d;
    CHECK(synth_render(&sc, &d, &e) == 0, "render: %s", e.msg);
    CHECK(store_put_dataset(s, "synth", &d, 0, NULL, NULL, &e) == 0, "%s", e.msg);
    dataset_free(&d);
    fx_model_run(s, "t/drmm+kl+nn/n100/s1", 1);   /* 1 */
    fx_model_run(s, "t/drmm/n100/s1", 0);         /* 2: no checkpoint */
    store_close(s);
}

#endif
