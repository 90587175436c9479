/* bin/generate end to end on a store built with the library (a small
 * synthetic dataset, a run with a checkpoint, one without): the figures and
 * the Markdown fragment, the same files under the same seed and other
 * samples under another, report --generated putting the fragment into its
 * sections, and every bad input refused with a clear message, the documented
 * exit status and the store unchanged. */
#include <cblas.h>
#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fixture.h"
#include "model_store.h"

#include "arch.h"
#include "dataset.h"
#include "drmm.h"
#include "error.h"
#include "exitcodes.h"
#include "store.h"
#include "synth.h"

static const char *bin;

static int same_file(const char *a, const char *b)
{
    size_t na = 0, nb = 0;
    char *x = fx_read(a, &na), *y = fx_read(b, &nb);
    int same = x && y && na == nb && memcmp(x, y, na) == 0;
    free(x);
    free(y);
    return same;
}

int main(void)
{
    bin = getenv("BIN") ? getenv("BIN") : "bin";
    const char *dir = fx_tmpdir("generate");
    char db[1024], cmd[4096], *err = NULL;
    snprintf(db, sizeof db, "%s/s.db", dir);
    fx_model_store(db);
    const char *fast = "--samples 3 --stats-images 150 --am-iters 5 --am-steps 5 --filter-images 40 "
                       "--filter-channels 4 --threads 1";

    /* the figures and the fragment */
    char fp0[65], fp1[65];
    fx_store_fingerprint(db, fp0);
    snprintf(cmd, sizeof cmd, "%s/generate --store %s --run 1 --out-dir %s/a --name drmm+kl+nn --label 'DRMM +KL+NN' "
             "--seed 4 %s", bin, db, dir, fast);
    int rc = fx_run(&err, "%s", cmd);
    char *out = fx_stdout();
    fx_store_fingerprint(db, fp1);
    CHECK(rc == 0, "generate exits 0 (%d): %s", rc, err);
    CHECK(!strcmp(fp0, fp1), "generate leaves the store unchanged");
    CHECK(strstr(out, "samples ") && strstr(out, ": 10 classes x 3, seed 4") && strstr(out, "actmax class 9: ") &&
          strstr(out, "units ") && strstr(out, "3 layers x up to 4 channels"), "stdout names what was drawn: %s", out);
    static const char *const files[] = {"samples_drmm+kl+nn.png", "samples_drmm+kl+nn.svg", "actmax_drmm+kl+nn.png",
                                        "actmax_drmm+kl+nn.svg", "units_drmm+kl+nn.png", "units_drmm+kl+nn.svg",
                                        "generate_drmm+kl+nn.md"};
    for (int i = 0; i < 7; i++)
        CHECK(access(fx_path("a/%s", files[i]), R_OK) == 0, "%s written", files[i]);
    char *md = fx_read(fx_path("a/generate_drmm+kl+nn.md"), NULL);
    CHECK(md && strstr(md, "<!-- samples -->\n") && strstr(md, "<!-- actmax -->\n") && strstr(md, "<!-- units -->\n") &&
          strstr(md, "![samples of DRMM +KL+NN](samples_drmm+kl+nn.png)") && strstr(md, "| 9 ") &&
          !strstr(md, "| nan") && !strstr(md, "| -nan") && !strstr(md, "| inf") && !strstr(md, "| -inf"), "the fragment has its three parts, finite numbers: %s", md);
    free(md);
    char *svg = fx_read(fx_path("a/samples_drmm+kl+nn.svg"), NULL);
    CHECK(svg && strstr(svg, "DRMM +KL+NN: samples by class (seed 4)"), "the SVG's title is text");
    free(svg);
    free(out);
    free(err);

    /* deterministic under the seed; another seed, other samples */
    snprintf(cmd, sizeof cmd, "%s/generate --store %s --run 1 --out-dir %s/b --name drmm+kl+nn --label 'DRMM +KL+NN' "
             "--seed 4 %s", bin, db, dir, fast);
    CHECK(fx_run(NULL, "%s", cmd) == 0, "second generate");
    for (int i = 0; i < 7; i++)
        CHECK(same_file(fx_path("a/%s", files[i]), fx_path("b/%s", files[i])),
              "%s: the same file under the same seed", files[i]);
    snprintf(cmd, sizeof cmd, "%s/generate --store %s --run 1 --out-dir %s/c --name drmm+kl+nn --label 'DRMM +KL+NN' "
             "--seed 5 %s", bin, db, dir, fast);
    CHECK(fx_run(NULL, "%s", cmd) == 0, "generate with another seed");
    CHECK(!same_file(fx_path("a/samples_drmm+kl+nn.png"), fx_path("c/samples_drmm+kl+nn.png")) &&
          same_file(fx_path("a/actmax_drmm+kl+nn.png"), fx_path("c/actmax_drmm+kl+nn.png")),
          "another seed draws other samples (activity maximisation does not depend on it)");
    snprintf(cmd, sizeof cmd, "%s/generate --store %s --run 1 --out-dir %s/d --classes 2,7 %s", bin, db, dir, fast);
    CHECK(fx_run(NULL, "%s", cmd) == 0, "generate --classes 2,7");
    out = fx_stdout();
    CHECK(strstr(out, ": 2 classes x 3") && strstr(out, "actmax class 7:") && !strstr(out, "actmax class 0:") &&
          access(fx_path("d/generate_run1.md"), R_OK) == 0, "--classes draws those classes only: %s", out);
    free(out);

    /* the report's sections */
    snprintf(cmd, sizeof cmd, "%s/report --store %s --dataset synth --experiment t --out %s/a/report.md "
             "--generated %s/a/generate_drmm+kl+nn.md", bin, db, dir, dir);
    rc = fx_run(&err, "%s", cmd);
    CHECK(rc == 0, "report --generated exits 0 (%d): %s", rc, err);
    free(err);
    char *rep = fx_read(fx_path("a/report.md"), NULL);
    const char *s1 = rep ? strstr(rep, "## Samples from the model") : NULL;
    const char *s2 = rep ? strstr(rep, "## Activity maximisation") : NULL;
    const char *s3 = rep ? strstr(rep, "## Units of every layer rendered to pixels (Figure 6)") : NULL;
    CHECK(s1 && s2 && s3 && s1 < s2 && s2 < s3, "the report has the three sections in order");
    CHECK(s1 && s2 && strstr(s1, "![samples of DRMM +KL+NN](samples_drmm+kl+nn.png)") < s2 &&
          s3 && strstr(s2, "![activity maximisation of DRMM +KL+NN](actmax_drmm+kl+nn.png)") < s3 &&
          strstr(s3, "![units of DRMM +KL+NN rendered to pixels](units_drmm+kl+nn.png)"),
          "each section holds its figure");
    CHECK(rep && !strstr(rep, "<!-- "), "the markers are not copied");
    free(rep);

    /* bad input: message, exit status, store unchanged */
    snprintf(cmd, sizeof cmd, "%s/generate --store %s --run 99 --out-dir %s/e %s", bin, db, dir, fast);
    fx_bad("unknown run", db, EXIT_BADDATA, "no run with id 99", cmd);
    snprintf(cmd, sizeof cmd, "%s/generate --store %s --run 2 --out-dir %s/e %s", bin, db, dir, fast);
    fx_bad("run without a checkpoint", db, EXIT_BADDATA, "has no checkpoint", cmd);
    snprintf(cmd, sizeof cmd, "%s/generate --store %s --run 1 --out-dir %s/e --classes 3,10 %s", bin, db, dir, fast);
    fx_bad("unknown class", db, EXIT_BADDATA, "class 10 is not a class of this model (0..9)", cmd);
    snprintf(cmd, sizeof cmd, "%s/generate --store %s --run 1 --out-dir %s/e --classes 3,x %s", bin, db, dir, fast);
    fx_bad("malformed classes", db, EXIT_BADDATA, "expected comma-separated class numbers", cmd);
    snprintf(cmd, sizeof cmd, "%s/generate --store %s --run 1 --out-dir %s/e --samples 0", bin, db, dir);
    fx_bad("zero samples", db, EXIT_USAGE, "--samples 0", cmd);
    snprintf(cmd, sizeof cmd, "%s/generate --store %s --run 1", bin, db);
    fx_bad("no --out-dir", db, EXIT_USAGE, "--out-dir DIR are required", cmd);
    snprintf(cmd, sizeof cmd, "%s/generate --store %s/missing.db --run 1 --out-dir %s/e", bin, dir, dir);
    fx_bad("missing store", db, EXIT_STORE, "missing.db", cmd);
    CHECK(access(fx_path("missing.db"), F_OK) != 0, "no store created");
    CHECK(access(fx_path("e/generate_run1.md"), F_OK) != 0 &&
          access(fx_path("e/generate_run2.md"), F_OK) != 0, "no fragment written by a failed generate");
    fx_write(fx_path("a/other.md"), "# not a fragment\n", 17, 0);
    snprintf(cmd, sizeof cmd, "%s/report --store %s --dataset synth --experiment t --out %s/a/report.md "
             "--generated %s/a/other.md", bin, db, dir, dir);
    fx_bad("report --generated of another file", db, EXIT_BADDATA, "not a fragment of `generate`", cmd);
    snprintf(cmd, sizeof cmd, "%s/report --store %s --dataset synth --experiment t --out %s/report.md "
             "--generated %s/a/generate_drmm+kl+nn.md", bin, db, dir, dir);
    fx_bad("report --generated outside the report's directory", db, EXIT_BADDATA, "must be in the report's directory",
        cmd);
    fx_cleanup();
    return check_done();
}
