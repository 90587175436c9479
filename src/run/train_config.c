/* Table-driven training configuration (see train_config.h). */
#include "train_config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

typedef enum { K_INT, K_U64, K_FLOAT, K_BOOL, K_ENUM } kind;

typedef struct entry {
    const char *key;
    kind kind;
    size_t off;
    double lo, hi;
    const char *choices;     /* K_ENUM: '|'-separated names, value = index */
    const char *help;
} entry;

#define F(field) offsetof(train_config, field)

static const entry TABLE[] = {
    {"epochs", K_INT, F(epochs), 1, 1e6, NULL, "passes over the training images"},
    {"batch", K_INT, F(batch), 2, 100000, NULL,
     "images per step: half labelled, half unlabelled (mode semisup; the other modes and the CNN take half a batch)"},
    {"labels", K_INT, F(labels), 0, 1e9, NULL,
     "labelled images, class-balanced (divisible by the classes; 0: none, unsupervised training on the unlabelled half "
     "of each step only, e.g. pre-training for --init-from)"},
    {"label_seed", K_U64, F(label_seed), 0, 0, NULL, "seed choosing the labelled subset"},
    {"seed", K_U64, F(seed), 0, 0, NULL, "seed of the initialisation and the data order"},
    {"supervised_only", K_BOOL, F(supervised_only), 0, 1, NULL, "train the plain CNN on LH over the labelled images only"},
    {"mode", K_ENUM, F(mode), 0, 0, "semisup|supervised|pretrain",
     "training mode (the supplement's Table 3): semisup (each step batch/2 labelled and batch/2 unlabelled images), "
     "supervised (batch/2 labelled images per step, every loss term on them), or pretrain (the first pretrain_frac of the "
     "run's steps on batch/2 unlabelled images each, the unsupervised terms alone, then supervised as in supervised); "
     "supervised and pretrain set unsup_half = both; one learning-rate schedule and optimiser state over the whole run"},
    {"pretrain_frac", K_FLOAT, F(pretrain_frac), 0, 1, NULL,
     "mode pretrain: the share of the run's steps that pre-train, rounded to a whole step (at least 1, at most all "
     "but 1; e.g. 0.5 of 4 epochs: the first 2 epochs)"},
    {"init_from", K_INT, F(init_from), 0, 2147483647, NULL,
     "start from the parameters and BN statistics of this FINISHED run's last checkpoint (same architecture and model "
     "options; no amplitude calibration), e.g. fine-tuning after unsupervised pre-training (0: a fresh initialisation)"},
    {"a_h", K_FLOAT, F(model.a_h), 0, 1e6, NULL, "weight of the cross-entropy LH"},
    {"a_rc", K_FLOAT, F(model.a_rc), 0, 1e6, NULL, "weight of the reconstruction loss LRC"},
    {"a_kl", K_FLOAT, F(model.a_kl), 0, 1e6, NULL, "weight of the KL term LKL"},
    {"a_nn", K_FLOAT, F(model.a_nn), 0, 1e6, NULL, "weight of the non-negativity penalty LNN"},
    {"a_rcl", K_FLOAT, F(model.a_rcl), 0, 1e6, NULL, "weight of the per-layer reconstruction LRCL (inputs of layers 2..L)"},
    {"a_mm", K_FLOAT, F(model.a_mm), 0, 1e6, NULL,
     "weight of the BN moment matching LMM (td_param bn): KL between the per-channel mean and variance of each "
     "layer's rendered input and of its bottom-up input"},
    {"kl_sign", K_ENUM, F(model.kl_literal), 0, 0, "authors|literal",
     "authors: minimise the entropy of q (the authors' code); literal: KL(q || uniform)"},
    {"unsup_half", K_ENUM, F(model.unsup_both), 0, 0, "unlabelled|both", "rows the RC, KL and NN terms use"},
    {"td_scale", K_ENUM, F(model.td_scale), 0, 0, "literal|adjoint|adjoint-const",
     "top-down scale: literal (tied weights only), adjoint (each layer's gamma/sigma), or adjoint-const "
     "(the same, held constant in the gradient)"},
    {"td_top", K_ENUM, F(model.td_top), 0, 0, "onehot|softmax|activations",
     "top-down start: one-hot of the predicted class, q, or (diagnosis) the last layer's activations"},
    {"td_true_label", K_BOOL, F(model.td_true_label), 0, 1, NULL, "labelled rows render from their true label"},
    {"td_param", K_ENUM, F(model.td_param), 0, 0, "none|amplitude|template|bn",
     "learnable top level: none, a class amplitude, a class template, or bn (the Neural Rendering "
     "Model's top-down pass: a BatchNorm of its own after every transposed convolution, the image included)"},
    {"td_weights", K_ENUM, F(model.td_weights), 0, 0, "tied|copy|independent",
     "top-down filters: the bottom-up ones (tied), or their own, initialised as a copy or independently"},
    {"td_leak", K_FLOAT, F(model.td_leak), 0, 1, NULL,
     "leaky top-down switches: a unit whose ReLU is off renders times this instead of 0 (the NRM's 0.1; 0: hard)"},
    {"dropout", K_FLOAT, F(model.dropout), 0, 0.99, NULL,
     "dropout rate at the classifier's input in training (the dense layer's input, else the last conv layer's; 0: none)"},
    {"in_norm", K_BOOL, F(model.in_norm), 0, 1, NULL,
     "standardise the input per channel with the mean and std of the training images (kept with the model)"},
    {"augment_shift", K_INT, F(augment_shift), 0, 64, NULL,
     "translate each training image by up to N pixels at random (edges replicated; 0: off)"},
    {"augment_flip", K_BOOL, F(augment_flip), 0, 1, NULL, "flip each training image horizontally with probability 1/2"},
    {"valid", K_INT, F(valid), 0, 1e9, NULL,
     "hold out the last N training images as a validation split, evaluated after every epoch (0: none)"},
    {"td_init", K_FLOAT, F(model.td_init), 1e-12, 1e12, NULL, "initial amplitude / template scale"},
    {"unsup_warmup", K_FLOAT, F(unsup_warmup), 0, 1e6, NULL,
     "epochs over which the unsupervised weights aRC, aKL, aNN, aRCL, aMM ramp up linearly from 0 (0: off)"},
    {"unsup_warmup_frac", K_FLOAT, F(unsup_warmup_frac), 0, 1, NULL,
     "the same ramp as a fraction of the run's steps (0: off; not with unsup_warmup)"},
    {"td_calibrate", K_BOOL, F(td_calibrate), 0, 1, NULL, "scale the amplitude on the first batch so mean(I-hat^2) = mean(I^2)"},
    {"bn_momentum", K_FLOAT, F(model.bn_momentum), 0, 0.999999, NULL, "BN running-average momentum"},
    {"bn_eps", K_FLOAT, F(model.bn_eps), 1e-12, 1, NULL, "BN epsilon"},
    {"optimizer", K_ENUM, F(optim.kind), 0, 0, "sgd|adam", "sgd (with momentum) or adam"},
    {"lr_start", K_FLOAT, F(optim.lr_start), 1e-12, 100, NULL, "learning rate at the first step"},
    {"lr_end", K_FLOAT, F(optim.lr_end), 1e-12, 100, NULL, "learning rate at the last step (exponential decay)"},
    {"momentum", K_FLOAT, F(optim.momentum), 0, 0.999999, NULL, "SGD momentum"},
    {"beta1", K_FLOAT, F(optim.beta1), 0, 0.999999, NULL, "Adam beta1"},
    {"beta2", K_FLOAT, F(optim.beta2), 0, 0.999999999, NULL, "Adam beta2"},
    {"adam_eps", K_FLOAT, F(optim.eps), 1e-20, 1, NULL, "Adam epsilon"},
    {"clip_norm", K_FLOAT, F(optim.clip_norm), 0, 1e12, NULL, "clip the gradient's L2 norm (0: off)"},
    {"threads", K_INT, F(model.threads), 1, 256, NULL, "worker threads"},
    {"train_limit", K_INT, F(train_limit), 0, 1e9, NULL, "use only the first N training images (0: all)"},
    {"log_every", K_INT, F(log_every), 0, 1e9, NULL, "steps between step-level metrics (0: none)"},
    {"keep_checkpoints", K_INT, F(keep_checkpoints), 1, 1e6, NULL, "checkpoints kept per run (the latest)"},
};
#define NKEYS ((int)(sizeof TABLE / sizeof TABLE[0]))

void train_config_default(train_config *c)
{
    memset(c, 0, sizeof *c);
    drmm_config_default(&c->model);
    optim_config_default(&c->optim);
    c->epochs = 10;
    c->batch = 100;
    c->labels = 100;
    c->label_seed = 1;
    c->seed = 1;
    c->td_calibrate = 1;
    c->unsup_warmup = 1;
    c->log_every = 20;
    c->keep_checkpoints = 2;
    c->pretrain_frac = 0.5f;
}

long train_pretrain_steps(const train_config *c, long total_steps)
{
    if (c->mode != TRAIN_PRETRAIN)
        return 0;
    long k = lround(c->pretrain_frac * total_steps);
    return k < 1 ? 1 : k > total_steps - 1 ? total_steps - 1 : k;
}

int train_config_count(void) { return NKEYS; }
const char *train_config_key(int i) { return TABLE[i].key; }
const char *train_config_help(int i) { return TABLE[i].help; }

static const entry *find(const char *key)
{
    for (int i = 0; i < NKEYS; i++)
        if (!strcmp(TABLE[i].key, key))
            return &TABLE[i];
    return NULL;
}

int train_config_has(const char *key) { return find(key) != NULL; }

/* index of name in "a|b|c", or -1 */
static int choice_index(const char *choices, const char *name)
{
    int idx = 0;
    size_t len = strlen(name);
    for (const char *p = choices; *p; idx++) {
        const char *bar = strchr(p, '|');
        size_t l = bar ? (size_t)(bar - p) : strlen(p);
        if (l == len && !strncmp(p, name, len))
            return idx;
        if (!bar)
            break;
        p = bar + 1;
    }
    return -1;
}

int train_config_set(train_config *c, const char *key, const char *value, err_t *e)
{
    const entry *t = find(key);
    if (!t)
        return err_input(e, "unknown configuration key '%s' (see train --help)", key);
    char *p = (char *)c + t->off, *end;
    errno = 0;
    switch (t->kind) {
    case K_INT: {
        long v = strtol(value, &end, 10);
        if (!*value || *end || errno || v < t->lo || v > t->hi)
            return err_input(e, "%s = '%s': expected an integer in %.0f..%.0f", key, value, t->lo, t->hi);
        *(int *)p = (int)v;
        break;
    }
    case K_U64: {
        if (!*value || *value == '-')
            return err_input(e, "%s = '%s': expected a non-negative integer", key, value);
        unsigned long long v = strtoull(value, &end, 10);
        if (*end || errno)
            return err_input(e, "%s = '%s': expected a non-negative integer", key, value);
        *(uint64_t *)p = (uint64_t)v;
        break;
    }
    case K_FLOAT: {
        double v = strtod(value, &end);
        if (!*value || *end || errno || !isfinite(v) || v < t->lo || v > t->hi)
            return err_input(e, "%s = '%s': expected a number in %g..%g", key, value, t->lo, t->hi);
        *(float *)p = (float)v;
        break;
    }
    case K_BOOL:
        if (!strcmp(value, "1") || !strcmp(value, "true") || !strcmp(value, "yes"))
            *(int *)p = 1;
        else if (!strcmp(value, "0") || !strcmp(value, "false") || !strcmp(value, "no"))
            *(int *)p = 0;
        else
            return err_input(e, "%s = '%s': expected 1 or 0", key, value);
        break;
    case K_ENUM: {
        int v = choice_index(t->choices, value);
        if (v < 0)
            return err_input(e, "%s = '%s': expected one of %s", key, value, t->choices);
        *(int *)p = v;
        break;
    }
    }
    return 0;
}

void train_config_value(const train_config *c, int i, char *buf, size_t len)
{
    const entry *t = &TABLE[i];
    const char *p = (const char *)c + t->off;
    switch (t->kind) {
    case K_INT: snprintf(buf, len, "%d", *(const int *)p); break;
    case K_BOOL: snprintf(buf, len, "%d", *(const int *)p ? 1 : 0); break;
    case K_U64: snprintf(buf, len, "%" PRIu64, *(const uint64_t *)p); break;
    case K_FLOAT: {
        /* the shortest decimal that reads back (as train_config_set reads it) to the same float:
         * 0.2, not 0.200000003; %.9g always does */
        float v = *(const float *)p;
        int prec = 1;
        for (; prec <= 9; prec++) {
            snprintf(buf, len, "%.*g", prec, v);
            if ((float)strtod(buf, NULL) == v)
                break;
        }
        /* 10 as "10", not "1e+01": up to 10^7 (where floats are exact integers),
         * as many digits as the integer part has */
        const char *ep = strchr(buf, 'e');
        int ex = ep ? atoi(ep + 1) : 0;
        if (ex >= prec && ex < 7) {
            prec = ex + 1;
            snprintf(buf, len, "%.*g", prec, v);
        }
        break;
    }
    case K_ENUM: {
        int v = *(const int *)p, idx = 0;
        const char *q = t->choices;
        while (idx < v && strchr(q, '|'))
            q = strchr(q, '|') + 1, idx++;
        const char *bar = strchr(q, '|');
        snprintf(buf, len, "%.*s", bar ? (int)(bar - q) : (int)strlen(q), q);
        break;
    }
    }
}

int train_config_load(train_config *c, const char *path, err_t *e)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return err_input(e, "%s: cannot open config file: %m", path);
    char line[1024];
    int n = 0, rc = 0;
    while (fgets(line, sizeof line, f)) {
        n++;
        if (!strchr(line, '\n') && !feof(f)) {
            rc = err_input(e, "%s:%d: line too long", path, n);
            break;
        }
        char *hash = strchr(line, '#');
        if (hash)
            *hash = 0;
        char *s = line;
        while (isspace((unsigned char)*s))
            s++;
        if (!*s)
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            rc = err_input(e, "%s:%d: expected 'key = value'", path, n);
            break;
        }
        char *k = s, *v = eq + 1, *ke = eq;
        while (ke > k && isspace((unsigned char)ke[-1]))
            ke--;
        *ke = 0;
        while (isspace((unsigned char)*v))
            v++;
        char *ve = v + strlen(v);
        while (ve > v && isspace((unsigned char)ve[-1]))
            ve--;
        *ve = 0;
        if (train_config_set(c, k, v, e)) {
            rc = err_prefix(e, "%s:%d", path, n);
            break;
        }
    }
    if (!rc && ferror(f))
        rc = err_set(e, "%s: read error", path);
    fclose(f);
    return rc;
}

int train_config_check(const train_config *c, err_t *e)
{
    if (c->batch % 2)
        return err_input(e, "batch = %d: must be even (half labelled, half unlabelled)", c->batch);
    if (c->unsup_warmup > 0 && c->unsup_warmup_frac > 0)
        return err_input(e, "unsup_warmup = %g and unsup_warmup_frac = %g: give the ramp in epochs or as a fraction, not both "
                         "(with unsup_warmup_frac, set unsup_warmup = 0)",
                         c->unsup_warmup, c->unsup_warmup_frac);
    if (!c->supervised_only && c->model.a_h == 0 && c->model.a_rc == 0 && c->model.a_kl == 0 && c->model.a_nn == 0)
        return err_input(e, "every loss weight is 0: nothing to train");
    if (c->labels == 0 && c->supervised_only)
        return err_input(e, "labels = 0 with supervised_only = 1: the CNN trains on labelled images only: give labels > 0");
    if (c->mode != TRAIN_SEMISUP && c->supervised_only)
        return err_input(e, "mode = %s with supervised_only = 1: the CNN baseline trains on its labelled images only: "
                         "leave mode = semisup for it", c->mode == TRAIN_SUPERVISED ? "supervised" : "pretrain");
    if (c->mode != TRAIN_SEMISUP && c->labels == 0)
        return err_input(e, "mode = %s with labels = 0: the mode trains on labelled images: give labels > 0 "
                         "(or mode = semisup with labels = 0 for unsupervised training alone)",
                         c->mode == TRAIN_SUPERVISED ? "supervised" : "pretrain");
    if (c->mode == TRAIN_PRETRAIN && c->model.a_rc == 0 && c->model.a_kl == 0 && c->model.a_nn == 0 && c->model.a_rcl == 0)
        return err_input(e, "mode = pretrain and every unsupervised weight (a_rc, a_kl, a_nn, a_rcl) is 0: nothing to pre-train");
    if (c->labels == 0 && c->model.a_rc == 0 && c->model.a_kl == 0 && c->model.a_nn == 0 && c->model.a_rcl == 0)
        return err_input(e, "labels = 0 and every unsupervised weight (a_rc, a_kl, a_nn, a_rcl) is 0: nothing to train");
    return 0;
}
