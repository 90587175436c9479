/* bin/edrmm end to end on a store built with the library (a small
 * synthetic dataset, a run with a checkpoint, one without): the tree and
 * its accuracy written to the store (a tree over the 10 classes, the flat
 * error the one evaluate measures, every test image through the root),
 * the same tree a second time, the report's E-DRMM section with its
 * figure, and every bad input refused with a clear message, the documented
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

int main(void)
{
    bin = getenv("BIN") ? getenv("BIN") : "bin";
    const char *dir = fx_tmpdir("edrmm");
    char db[1024], cmd[4096], *err = NULL;
    snprintf(db, sizeof db, "%s/s.db", dir);
    fx_model_store(db);

    /* the tree and its accuracy in the store */
    snprintf(cmd, sizeof cmd, "%s/edrmm --store %s --run 1 --template-images 150 --threads 1", bin, db);
    int rc = fx_run(&err, "%s", cmd);
    char *out = fx_stdout();
    CHECK(rc == 0, "edrmm exits 0 (%d): %s", rc, err);
    CHECK(strstr(out, "edrmm run=1 tree=1 classes=10 images=20 flat_error_pct=") && strstr(out, "newick=(") && strstr(out, ");\n"),
          "stdout names the tree and its errors: %s", out);
    free(out);
    free(err);
    CHECK(fx_sql_int(db, "SELECT COUNT(*) FROM edrmm_trees WHERE id = 1 AND run_id = 1 AND n_classes = 10 AND "
                     "n_images = 20 AND template_images = 150 AND split = 1 AND bn = 'recalibrated'") == 1,
          "one tree row");
    CHECK(fx_sql_int(db, "SELECT COUNT(*) FROM edrmm_nodes WHERE tree_id = 1") == 19, "19 nodes");
    CHECK(fx_sql_int(db, "SELECT COUNT(*) FROM edrmm_nodes WHERE tree_id = 1 AND parent IS NULL AND node = 18 AND "
                     "n_leaves = 10 AND arrived = 20") == 1, "the root: every class under it, every image through it");
    CHECK(fx_sql_int(db, "SELECT COUNT(*) FROM edrmm_nodes WHERE tree_id = 1 AND node < 10 AND height = 0 AND "
                     "n_leaves = 1 AND template_count IS NOT NULL AND length(template) = 4096") == 10,
          "ten leaves with their 32x32 templates");
    CHECK(fx_sql_int(db, "SELECT SUM(template_count) FROM edrmm_nodes WHERE tree_id = 1") == 150,
          "the templates average the 150 training images");
    CHECK(fx_sql_int(db, "SELECT SUM(routed_right) FROM edrmm_nodes WHERE tree_id = 1 AND node < 10") ==
          fx_sql_int(db, "SELECT tree_correct FROM edrmm_trees WHERE id = 1"),
          "the leaves count the images classified right");

    /* the same tree again */
    CHECK(fx_run(NULL, "%s", cmd) == 0, "second edrmm");
    CHECK(fx_sql_int(db, "SELECT COUNT(*) FROM edrmm_nodes a JOIN edrmm_nodes b ON b.tree_id = 2 AND b.node = a.node "
                     "AND b.parent IS a.parent AND b.height = a.height AND b.arrived = a.arrived AND "
                     "b.routed_right = a.routed_right AND b.template IS a.template WHERE a.tree_id = 1") == 19 &&
          fx_sql_int(db, "SELECT COUNT(*) FROM edrmm_trees a JOIN edrmm_trees b ON b.id = 2 AND "
                     "b.flat_correct = a.flat_correct AND b.tree_correct = a.tree_correct AND b.agree = a.agree "
                     "WHERE a.id = 1") == 1, "deterministic: the second tree is the first");

    /* flat inference is the model's evaluated one */
    CHECK(fx_run(NULL, "%s/evaluate --store %s --run 1 --threads 1", bin, db) == 0, "evaluate");
    CHECK(fx_sql_int(db, "SELECT (SELECT n_images - flat_correct FROM edrmm_trees WHERE id = 1) = "
                     "(SELECT CAST(round(error * n_images) AS INTEGER) FROM evaluations WHERE run_id = 1)") == 1,
          "the flat error is evaluate's");

    /* the report's section and figure */
    rc = fx_run(&err, "%s/report --store %s --dataset synth --experiment t --out %s/r/report.md", bin, db, dir);
    CHECK(rc == 0, "report exits 0 (%d): %s", rc, err);
    free(err);
    char *rep = fx_read(fx_path("r/report.md"), NULL);
    CHECK(rep && strstr(rep, "## The E-DRMM: inference as a decision tree") &&
          strstr(rep, "](edrmm_run1.png) ([SVG](edrmm_run1.svg))") && strstr(rep, "| 100 | DRMM | 3 | 1 | 20 |"),
          "the report's E-DRMM section: the table's row and the tree");
    free(rep);
    char *svg = fx_read(fx_path("r/edrmm_run1.svg"), NULL);
    CHECK(svg && strstr(svg, "(run 1): the E-DRMM") && strstr(svg, "template distance"), "the figure's labels are text");
    free(svg);
    CHECK(access(fx_path("r/edrmm_run1.png"), R_OK) == 0 && access(fx_path("r/edrmm.csv"), R_OK) == 0,
          "the figure and the CSV written");

    /* bad input: message, exit status, store unchanged */
    snprintf(cmd, sizeof cmd, "%s/edrmm --store %s --run 99", bin, db);
    fx_bad("unknown run", db, EXIT_BADDATA, "no run with id 99", cmd);
    snprintf(cmd, sizeof cmd, "%s/edrmm --store %s --run 2", bin, db);
    fx_bad("run without a checkpoint", db, EXIT_BADDATA, "has no checkpoint", cmd);
    snprintf(cmd, sizeof cmd, "%s/edrmm --store %s --run 1 --checkpoint 77", bin, db);
    fx_bad("unknown checkpoint", db, EXIT_BADDATA, "77", cmd);
    snprintf(cmd, sizeof cmd, "%s/edrmm --store %s", bin, db);
    fx_bad("no --run", db, EXIT_USAGE, "--run RUN_ID are required", cmd);
    snprintf(cmd, sizeof cmd, "%s/edrmm --store %s --run 1 --template-images 0", bin, db);
    fx_bad("zero template images", db, EXIT_USAGE, "--template-images", cmd);
    snprintf(cmd, sizeof cmd, "%s/edrmm --store %s --run 1 --test-limit -3", bin, db);
    fx_bad("negative test limit", db, EXIT_USAGE, "--test-limit", cmd);
    snprintf(cmd, sizeof cmd, "%s/edrmm --store %s --run 1 --rule max", bin, db);
    fx_bad("unknown option", db, EXIT_USAGE, "rule", cmd);
    snprintf(cmd, sizeof cmd, "%s/edrmm --store %s/missing.db --run 1", bin, dir);
    fx_bad("missing store", db, EXIT_STORE, "missing.db", cmd);
    CHECK(access(fx_path("missing.db"), F_OK) != 0, "no store created");
    fx_cleanup();
    return check_done();
}
