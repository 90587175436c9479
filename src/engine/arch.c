/* Parser for architecture files (format in arch.h). */
#include "arch.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

#define MAX_TOKENS 16

typedef struct kv {
    char key[32];
    char val[32];
    int used;
} kv;

typedef struct line_ctx {
    const char *name;
    int line;
    kv kvs[MAX_TOKENS];
    int nkv;
} line_ctx;

static int find_int(line_ctx *L, const char *key, int def, int required, int lo, int hi, int *out, err_t *e)
{
    for (int i = 0; i < L->nkv; i++) {
        if (strcmp(L->kvs[i].key, key) != 0)
            continue;
        L->kvs[i].used = 1;
        char *end;
        long v = strtol(L->kvs[i].val, &end, 10);
        if (*L->kvs[i].val == 0 || *end != 0)
            return err_input(e, "%s:%d: %s=%s is not an integer", L->name, L->line, key, L->kvs[i].val);
        if (v < lo || v > hi)
            return err_input(e, "%s:%d: %s=%ld out of range (%d..%d)", L->name, L->line, key, v, lo, hi);
        *out = (int)v;
        return 0;
    }
    if (required)
        return err_input(e, "%s:%d: missing %s=<integer>", L->name, L->line, key);
    *out = def;
    return 0;
}

static int check_unused(line_ctx *L, const char *what, err_t *e)
{
    for (int i = 0; i < L->nkv; i++)
        if (!L->kvs[i].used)
            return err_input(e, "%s:%d: unknown key '%s' for %s", L->name, L->line, L->kvs[i].key, what);
    return 0;
}

/* Splits "word k=v k=v" into the word and key/value pairs. */
static int tokenize(line_ctx *L, char *s, char *word, size_t wlen, err_t *e)
{
    char *save = NULL, *tok = strtok_r(s, " \t\r", &save);
    snprintf(word, wlen, "%s", tok);
    L->nkv = 0;
    while ((tok = strtok_r(NULL, " \t\r", &save))) {
        char *eq = strchr(tok, '=');
        if (!eq || eq == tok)
            return err_input(e, "%s:%d: expected key=value, got '%s'", L->name, L->line, tok);
        if (L->nkv == MAX_TOKENS)
            return err_input(e, "%s:%d: too many fields", L->name, L->line);
        kv *p = &L->kvs[L->nkv++];
        *eq = 0;
        if (strlen(tok) >= sizeof p->key || strlen(eq + 1) >= sizeof p->val)
            return err_input(e, "%s:%d: field '%s' too long", L->name, L->line, tok);
        strcpy(p->key, tok);
        strcpy(p->val, eq + 1);
        p->used = 0;
        for (int i = 0; i < L->nkv - 1; i++)
            if (strcmp(L->kvs[i].key, p->key) == 0)
                return err_input(e, "%s:%d: key '%s' given twice", L->name, L->line, p->key);
    }
    return 0;
}

static int parse_pad(line_ctx *L, pad_mode *out, err_t *e)
{
    for (int i = 0; i < L->nkv; i++) {
        if (strcmp(L->kvs[i].key, "pad") != 0)
            continue;
        L->kvs[i].used = 1;
        const char *v = L->kvs[i].val;
        if (!strcmp(v, "full")) *out = PAD_FULL;
        else if (!strcmp(v, "half")) *out = PAD_HALF;
        else if (!strcmp(v, "valid")) *out = PAD_VALID;
        else return err_input(e, "%s:%d: pad=%s: use full, half or valid", L->name, L->line, v);
        return 0;
    }
    return err_input(e, "%s:%d: missing pad=full|half|valid", L->name, L->line);
}

/* Longer than 80 lines (117): one pass over the lines, one case per layer
 * kind, carrying the running shape from layer to layer; not yet split into
 * per-kind functions (issue 16, step 1, remains). */
int arch_parse(arch *a, const char *text, const char *name, err_t *e)
{
    memset(a, 0, sizeof *a);
    line_ctx L = {.name = name};
    int have_input = 0, closed = 0;    /* closed: last block already pooled */
    int C = 0, H = 0, W = 0;           /* current shape */
    int ended = 0;                     /* meanpool or dense seen */
    const char *p = text;
    char buf[512], word[32];
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        L.line++;
        if (len >= sizeof buf)
            return err_input(e, "%s:%d: line too long", name, L.line);
        memcpy(buf, p, len);
        buf[len] = 0;
        p += len + (nl ? 1 : 0);
        char *hash = strchr(buf, '#');
        if (hash)
            *hash = 0;
        char *s = buf;
        while (isspace((unsigned char)*s))
            s++;
        if (!*s)
            continue;
        size_t wl = strcspn(s, " \t\r");
        static const char *layers[] = {"input", "conv", "maxpool", "meanpool", "dense"};
        int known = 0;
        for (size_t i = 0; i < sizeof layers / sizeof layers[0]; i++)
            known |= strlen(layers[i]) == wl && !strncmp(s, layers[i], wl);
        if (!known)
            return err_input(e, "%s:%d: unknown layer '%.*s' (use input, conv, maxpool, meanpool, dense)",
                             name, L.line, (int)wl, s);
        if (tokenize(&L, s, word, sizeof word, e))
            return -1;
        if (ended && strcmp(word, "dense") != 0)
            return err_input(e, "%s:%d: '%s' after the network's output layer", name, L.line, word);
        if (!strcmp(word, "input")) {
            if (have_input)
                return err_input(e, "%s:%d: second input line", name, L.line);
            if (find_int(&L, "channels", 0, 1, 1, 4096, &C, e) ||
                find_int(&L, "height", 0, 1, 1, 8192, &H, e) ||
                find_int(&L, "width", 0, 1, 1, 8192, &W, e) || check_unused(&L, "input", e))
                return -1;
            a->channels = C, a->height = H, a->width = W;
            have_input = 1;
            continue;
        }
        if (!have_input)
            return err_input(e, "%s:%d: '%s' before the input line (start with: input channels=C height=H width=W)",
                           name, L.line, word);
        if (!strcmp(word, "conv")) {
            if (a->nblocks == ARCH_MAX_BLOCKS)
                return err_input(e, "%s:%d: more than %d conv layers", name, L.line, ARCH_MAX_BLOCKS);
            arch_block *b = &a->blocks[a->nblocks];
            int filters, size;
            if (find_int(&L, "filters", 0, 1, 1, 65536, &filters, e) ||
                find_int(&L, "size", 0, 1, 1, 64, &size, e) || parse_pad(&L, &b->pad, e) ||
                find_int(&L, "bn", 1, 0, 0, 1, &b->bn, e) ||
                find_int(&L, "relu", 1, 0, 0, 1, &b->relu, e) || check_unused(&L, "conv", e))
                return -1;
            if (conv_geom_init(&b->g, C, H, W, filters, size, b->pad))
                return err_input(e, "%s:%d: conv size=%d pad=%s on a %dx%d input gives an empty output",
                               name, L.line, size, b->pad == PAD_VALID ? "valid" : b->pad == PAD_HALF ? "half" : "full", H, W);
            b->line = L.line;
            b->pool = POOL_NONE;
            C = filters, H = b->g.ho, W = b->g.wo;
            b->hp = H, b->wp = W;
            a->nblocks++;
            closed = 0;
        } else if (!strcmp(word, "maxpool") || !strcmp(word, "meanpool")) {
            if (check_unused(&L, word, e))
                return -1;
            if (a->nblocks == 0 || closed)
                return err_input(e, "%s:%d: %s must follow a conv line", name, L.line, word);
            arch_block *b = &a->blocks[a->nblocks - 1];
            if (word[1] == 'a') {
                if (H % 2 || W % 2)
                    return err_input(e, "%s:%d: maxpool needs an even input size, got %dx%d (change the conv above)",
                                   name, L.line, H, W);
                b->pool = POOL_MAX;
                H /= 2, W /= 2;
            } else {
                b->pool = POOL_MEAN;
                H = W = 1;
                ended = 1;
            }
            b->hp = H, b->wp = W;
            closed = 1;
        } else if (!strcmp(word, "dense")) {
            if (a->dense)
                return err_input(e, "%s:%d: only one dense layer (the classifier) is supported", name, L.line);
            if (a->nblocks == 0)
                return err_input(e, "%s:%d: dense needs at least one conv layer before it", name, L.line);
            if (find_int(&L, "outputs", 0, 1, 2, 100000, &a->classes, e) || check_unused(&L, "dense", e))
                return -1;
            a->dense = 1;
            a->features = C * H * W;
            ended = 1;
        }
    }
    if (!have_input)
        return err_input(e, "%s: no input line", name);
    if (!ended)
        return err_input(e, "%s: the network must end with meanpool or dense (the class scores)", name);
    if (!a->dense) {
        a->features = C;
        a->classes = C;
        if (C < 2)
            return err_input(e, "%s: the last conv has %d filter(s); it needs one per class (at least 2)", name, C);
    }
    a->text = strdup(text);
    if (!a->text)
        return err_set(e, "out of memory");
    return 0;
}

void arch_free(arch *a)
{
    free(a->text);
    a->text = NULL;
}

int arch_describe(const arch *a, char *buf, size_t len)
{
    size_t o = 0;
#define OUT(...) do { int r_ = snprintf(buf + o, o < len ? len - o : 0, __VA_ARGS__); if (r_ > 0) o += r_; } while (0)
    OUT("input %dx%dx%d\n", a->channels, a->height, a->width);
    for (int i = 0; i < a->nblocks; i++) {
        const arch_block *b = &a->blocks[i];
        OUT("conv%d %d %dx%d pad=%d%s%s -> %dx%dx%d", i + 1, b->g.cout, b->g.k, b->g.k, b->g.pad,
            b->bn ? " bn" : "", b->relu ? " relu" : "", b->g.cout, b->g.ho, b->g.wo);
        if (b->pool == POOL_MAX)
            OUT(" maxpool -> %dx%dx%d", b->g.cout, b->hp, b->wp);
        if (b->pool == POOL_MEAN)
            OUT(" meanpool -> %d", b->g.cout);
        OUT("\n");
    }
    if (a->dense)
        OUT("dense %d -> %d\n", a->features, a->classes);
#undef OUT
    return (int)o;
}
