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

/* What the parser carries from line to line. */
typedef struct parse_state {
    int have_input, closed;            /* closed: last block already pooled */
    int C, H, W;                       /* current shape */
    int ended;                         /* meanpool or dense seen */
} parse_state;

static int parse_input(arch *a, parse_state *S, line_ctx *L, err_t *e)
{
    if (S->have_input)
        return err_input(e, "%s:%d: second input line", L->name, L->line);
    if (find_int(L, "channels", 0, 1, 1, 4096, &S->C, e) || find_int(L, "height", 0, 1, 1, 8192, &S->H, e) ||
        find_int(L, "width", 0, 1, 1, 8192, &S->W, e) || check_unused(L, "input", e))
        return -1;
    a->channels = S->C, a->height = S->H, a->width = S->W;
    S->have_input = 1;
    return 0;
}

static int parse_conv(arch *a, parse_state *S, line_ctx *L, err_t *e)
{
    if (a->nblocks == ARCH_MAX_BLOCKS)
        return err_input(e, "%s:%d: more than %d conv layers", L->name, L->line, ARCH_MAX_BLOCKS);
    arch_block *b = &a->blocks[a->nblocks];
    int filters, size;
    if (find_int(L, "filters", 0, 1, 1, 65536, &filters, e) || find_int(L, "size", 0, 1, 1, 64, &size, e) ||
        parse_pad(L, &b->pad, e) || find_int(L, "bn", 1, 0, 0, 1, &b->bn, e) ||
        find_int(L, "relu", 1, 0, 0, 1, &b->relu, e) || check_unused(L, "conv", e))
        return -1;
    if (conv_geom_init(&b->g, S->C, S->H, S->W, filters, size, b->pad))
        return err_input(e, "%s:%d: conv size=%d pad=%s on a %dx%d input gives an empty output", L->name, L->line,
                         size, b->pad == PAD_VALID ? "valid" : b->pad == PAD_HALF ? "half" : "full", S->H, S->W);
    b->line = L->line;
    b->pool = POOL_NONE;
    S->C = filters, S->H = b->g.ho, S->W = b->g.wo;
    b->hp = S->H, b->wp = S->W;
    a->nblocks++;
    S->closed = 0;
    return 0;
}

/* maxpool or meanpool: closes the conv block above. */
static int parse_pool(arch *a, parse_state *S, line_ctx *L, const char *word, err_t *e)
{
    if (check_unused(L, word, e))
        return -1;
    if (a->nblocks == 0 || S->closed)
        return err_input(e, "%s:%d: %s must follow a conv line", L->name, L->line, word);
    arch_block *b = &a->blocks[a->nblocks - 1];
    if (word[1] == 'a') {
        if (S->H % 2 || S->W % 2)
            return err_input(e, "%s:%d: maxpool needs an even input size, got %dx%d (change the conv above)", L->name,
                             L->line, S->H, S->W);
        b->pool = POOL_MAX;
        S->H /= 2, S->W /= 2;
    } else {
        b->pool = POOL_MEAN;
        S->H = S->W = 1;
        S->ended = 1;
    }
    b->hp = S->H, b->wp = S->W;
    S->closed = 1;
    return 0;
}

static int parse_dense(arch *a, parse_state *S, line_ctx *L, err_t *e)
{
    if (a->dense)
        return err_input(e, "%s:%d: only one dense layer (the classifier) is supported", L->name, L->line);
    if (a->nblocks == 0)
        return err_input(e, "%s:%d: dense needs at least one conv layer before it", L->name, L->line);
    if (find_int(L, "outputs", 0, 1, 2, 100000, &a->classes, e) || check_unused(L, "dense", e))
        return -1;
    a->dense = 1;
    a->features = S->C * S->H * S->W;
    S->ended = 1;
    return 0;
}

/* One line (without its comment) of the architecture: its layer word
 * checked, then the layer parsed into a. */
static int parse_line(arch *a, parse_state *S, line_ctx *L, char *s, err_t *e)
{
    char word[32];
    size_t wl = strcspn(s, " \t\r");
    static const char *layers[] = {"input", "conv", "maxpool", "meanpool", "dense"};
    int known = 0;
    for (size_t i = 0; i < sizeof layers / sizeof layers[0]; i++)
        known |= strlen(layers[i]) == wl && !strncmp(s, layers[i], wl);
    if (!known)
        return err_input(e, "%s:%d: unknown layer '%.*s' (use input, conv, maxpool, meanpool, dense)", L->name,
                         L->line, (int)wl, s);
    if (tokenize(L, s, word, sizeof word, e))
        return -1;
    if (S->ended && strcmp(word, "dense") != 0)
        return err_input(e, "%s:%d: '%s' after the network's output layer", L->name, L->line, word);
    if (!strcmp(word, "input"))
        return parse_input(a, S, L, e);
    if (!S->have_input)
        return err_input(e, "%s:%d: '%s' before the input line (start with: input channels=C height=H width=W)",
                         L->name, L->line, word);
    if (!strcmp(word, "conv"))
        return parse_conv(a, S, L, e);
    if (!strcmp(word, "maxpool") || !strcmp(word, "meanpool"))
        return parse_pool(a, S, L, word, e);
    return parse_dense(a, S, L, e);
}

int arch_parse(arch *a, const char *text, const char *name, err_t *e)
{
    memset(a, 0, sizeof *a);
    line_ctx L = {.name = name};
    parse_state S = {0};
    const char *p = text;
    char buf[512];
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
        if (*s && parse_line(a, &S, &L, s, e))
            return -1;
    }
    if (!S.have_input)
        return err_input(e, "%s: no input line", name);
    if (!S.ended)
        return err_input(e, "%s: the network must end with meanpool or dense (the class scores)", name);
    if (!a->dense) {
        a->features = S.C;
        a->classes = S.C;
        if (S.C < 2)
            return err_input(e, "%s: the last conv has %d filter(s); it needs one per class (at least 2)", name, S.C);
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
