/* Architecture files: the shipped ones parse with the published shapes, and
 * every malformed file gives an error naming the file, the line and the fix. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "arch_file.h"
#include "check.h"
#include "drmm.h"
#include "error.h"

static void shipped(const char *path, int blocks, int classes, int dense, int last_h)
{
    arch a;
    err_t e;
    int rc = arch_load(&a, path, &e);
    CHECK(rc == 0, "%s parses: %s", path, rc ? e.msg : "");
    if (rc)
        return;
    CHECK(a.nblocks == blocks && a.classes == classes && a.dense == dense, "%s: %d blocks, %d classes", path, a.nblocks,
          a.classes);
    drmm_config cfg;
    drmm_config_default(&cfg);
    drmm *m;
    CHECK(drmm_create(&m, &a, &cfg, 1, &e) == 0, "%s: model built", path);
    named_tensor t[128];
    int nt = drmm_tensors(m, t, 128);
    CHECK(nt == 5 * a.nblocks + (dense ? 2 : 0) + 1, "%s: %d named tensors", path, nt);
    drmm_free(m);
    CHECK(a.blocks[a.nblocks - 1].g.ho == last_h, "%s: last conv output %d (want %d)", path,
          a.blocks[a.nblocks - 1].g.ho, last_h);
    char buf[4096];
    CHECK(arch_describe(&a, buf, sizeof buf) > 0 && strstr(buf, "conv1"), "%s: description", path);
    arch_free(&a);
}

static void bad(const char *text, const char *needle)
{
    arch a;
    err_t e = {.msg = ""};
    int rc = arch_parse(&a, text, "t.arch", &e);
    CHECK(rc != 0 && strstr(e.msg, needle), "'%s' -> error containing '%s', got: %s", text, needle, rc ? e.msg : "(parsed)");
    CHECK(rc == 0 || e.kind == ERR_INPUT, "architecture errors are input errors");
    if (rc == 0)
        arch_free(&a);
}

int main(void)
{
    openblas_set_num_threads(1);   /* as the programs do: the engine's workers split the batch */
    shipped("archs/convsmall.arch", 5, 10, 0, 6);
    shipped("archs/convlarge.arch", 9, 10, 0, 6);
    shipped("archs/drmm2.arch", 2, 10, 1, 12);
    shipped("archs/rfm.arch", 1, 10, 1, 32);
    shipped("archs/convsmall32.arch", 5, 10, 0, 7);
    shipped("archs/convsmall64.arch", 6, 10, 0, 6); /* the synthetic set at 64x64 */
    /* ConvSmall's shapes, layer by layer (DRMM-SPEC section 6) */
    arch a;
    err_t e;
    arch_load(&a, "archs/convsmall.arch", &e);
    int want[5][3] = {{32, 32, 16}, {64, 14, 14}, {64, 16, 8}, {128, 6, 6}, {10, 6, 1}};
    for (int i = 0; i < 5; i++)
        CHECK(a.blocks[i].g.cout == want[i][0] && a.blocks[i].g.ho == want[i][1] && a.blocks[i].hp == want[i][2],
              "ConvSmall layer %d: %d x %d -> pooled %d", i + 1, a.blocks[i].g.cout, a.blocks[i].g.ho, a.blocks[i].hp);
    arch_free(&a);

    const char *IN = "input channels=1 height=8 width=8\n";
    char t[512];
    bad("conv filters=4 size=3 pad=half\nmeanpool\n", "t.arch:1: 'conv' before the input line");
    snprintf(t, sizeof t, "%sconv filters=4 size=3 pad=middle\nmeanpool\n", IN);
    bad(t, "t.arch:2: pad=middle: use full, half or valid");
    snprintf(t, sizeof t, "%sconv filters=4 size=3\nmeanpool\n", IN);
    bad(t, "t.arch:2: missing pad=");
    snprintf(t, sizeof t, "%sconv filters=4 size=3 pad=half colour=red\nmeanpool\n", IN);
    bad(t, "t.arch:2: unknown key 'colour' for conv");
    snprintf(t, sizeof t, "%sconv filters=four size=3 pad=half\nmeanpool\n", IN);
    bad(t, "t.arch:2: filters=four is not an integer");
    snprintf(t, sizeof t, "%sconv filters=4 size=4 pad=valid\nmaxpool\n", IN);
    bad(t, "t.arch:3: maxpool needs an even input size, got 5x5");
    snprintf(t, sizeof t, "%sconv filters=4 size=9 pad=valid\nmeanpool\n", IN);
    bad(t, "t.arch:2: conv size=9 pad=valid on a 8x8 input gives an empty output");
    snprintf(t, sizeof t, "%sconv filters=4 size=3 pad=half\n", IN);
    bad(t, "must end with meanpool or dense");
    snprintf(t, sizeof t, "%sconv filters=4 size=3 pad=half\nmeanpool\nconv filters=4 size=1 pad=valid\n", IN);
    bad(t, "t.arch:4: 'conv' after the network's output layer");
    snprintf(t, sizeof t, "%smaxpool\n", IN);
    bad(t, "t.arch:2: maxpool must follow a conv line");
    snprintf(t, sizeof t, "%sconv filters=4 size=3 pad=half\nmaxpool\nmaxpool\n", IN);
    bad(t, "t.arch:4: maxpool must follow a conv line");
    snprintf(t, sizeof t, "%s%s", IN, IN);
    bad(t, "t.arch:2: second input line");
    snprintf(t, sizeof t, "%sconv filters=4 filters=5 size=3 pad=half\nmeanpool\n", IN);
    bad(t, "t.arch:2: key 'filters' given twice");
    snprintf(t, sizeof t, "%sconv filters=1 size=3 pad=half\nmeanpool\n", IN);
    bad(t, "one per class");
    snprintf(t, sizeof t, "%sfc 10\n", IN);
    bad(t, "t.arch:2: unknown layer 'fc'");
    snprintf(t, sizeof t, "%sconv filters=4 size=3 pad=half bn=2\nmeanpool\n", IN);
    bad(t, "t.arch:2: bn=2 out of range (0..1)");
    bad("", "no input line");
    CHECK(arch_load(&a, "/nonexistent/x.arch", &e) != 0 && strstr(e.msg, "/nonexistent/x.arch"), "missing file named: %s", e.msg);
    /* comments and blank lines are ignored; bn/relu can be switched off */
    snprintf(t, sizeof t, "# net\n\n%s  conv filters=3 size=1 pad=valid bn=0 relu=0   # linear\nmeanpool\n", IN);
    CHECK(arch_parse(&a, t, "t", &e) == 0 && a.blocks[0].bn == 0 && a.blocks[0].relu == 0 && a.classes == 3,
          "comments, blank lines, bn=0 relu=0");
    arch_free(&a);
    return check_done();
}
