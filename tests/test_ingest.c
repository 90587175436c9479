/* bin/ingest driven as a user would (through the shell): bad flags, every
 * kind of bad input (IDX, gzip, CIFAR, CSV, PNG directory), bad stores
 * (not a database, newer schema, missing directory, locked, read-only);
 * each must exit non-zero with a message naming the file and leave the store
 * unchanged.  Then the real Fashion-MNIST: 60000 + 10000 images, and
 * re-ingesting it is a no-op.  The binaries are in $BIN (default bin). */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "fixture.h"
#include "cifar.h"
#include "error.h"
#include "exitcodes.h"
#include "pngio.h"

static const char *bin;
static const char *store_path;

/* Runs ingest with args against the store; expects exit status want, the
 * stderr holding need (if not NULL), prefixed "ingest: ", and for failures
 * the store unchanged. */
static void run_case(const char *name, int want, const char *need, const char *args)
{
    char before[65], after[65], *err = NULL;
    fx_store_fingerprint(store_path, before);
    int rc = fx_run(&err, "%s/ingest --store '%s' %s", bin, store_path, args);
    if (getenv("VERBOSE"))
        printf("%s: rc=%d: %s", name, rc, err);
    CHECK(rc == want, "%s: exit status %d, expected %d; stderr: %s", name, rc, want, err);
    CHECK(!need || strstr(err, need) != NULL, "%s: stderr lacks '%s': %s", name, need, err);
    if (want != 0) {
        CHECK(strncmp(err, "ingest: ", 8) == 0 || strstr(err, "\ningest: "), "%s: message starts with 'ingest: '", name);
        fx_store_fingerprint(store_path, after);
        CHECK(strcmp(before, after) == 0, "%s: store unchanged", name);
    }
    free(err);
}

static int db_count(const char *path, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    int n = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW)
            n = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return n;
}

static void write_png(const char *name, int seed, int size, int channels)
{
    uint8_t px[3 * 8 * 8];
    err_t e;
    for (int i = 0; i < size * size * channels; i++)
        px[i] = (uint8_t)(i * 5 + seed * 40);
    if (png_write(fx_path("png/%s", name), px, size, size, channels, &e) < 0) {
        printf("png_write: %s\n", e.msg);
        exit(1);
    }
}

static void write_text(const char *name, const char *text)
{
    fx_write(fx_path("%s", name), text, strlen(text), 0);
}

int main(void)
{
    bin = getenv("BIN") && *getenv("BIN") ? getenv("BIN") : "bin";
    fx_tmpdir("ingest");
    char sp[1024];
    snprintf(sp, sizeof sp, "%s", fx_path("store.db"));
    store_path = sp;

    /* fixtures: IDX pairs, raw and gz, good and bad */
    size_t li, ll;
    uint8_t *img = fx_idx_images(20, 5, 5, &li), *lab = fx_idx_labels(20, 10, &ll);
    fx_write(fx_path("img"), img, li, 0);
    fx_write(fx_path("lab"), lab, ll, 0);
    fx_write(fx_path("img.gz"), img, li, 1);
    fx_write(fx_path("lab.gz"), lab, ll, 1);
    fx_write(fx_path("img.trunc"), img, li - 7, 0);
    fx_write(fx_path("lab.trunc.gz"), lab, ll - 3, 1);
    {
        size_t gl = 0;
        char *gz = fx_read(fx_path("img.gz"), &gl);
        for (size_t k = 12; k < gl - 8; k += 2)
            gz[k] ^= 0x33;
        fx_write(fx_path("img.corrupt.gz"), gz, gl, 0);
        free(gz);
        uint8_t *l2 = malloc(ll);
        memcpy(l2, lab, ll);
        l2[8 + 11] = 12;
        fx_write(fx_path("lab.range"), l2, ll, 0);
        free(l2);
        size_t l3;
        uint8_t *lab19 = fx_idx_labels(19, 10, &l3);
        fx_write(fx_path("lab19"), lab19, l3, 0);
        free(lab19);
    }

    /* ---- bad flags (exit 2, store untouched: it does not even exist yet) ---- */
    setenv("D", fx_dir, 1);
    {
        char *err = NULL;
        CHECK(fx_run(&err, "%s/ingest --fashion-mnist", bin) == EXIT_USAGE && strstr(err, "--store FILE is required"),
              "no --store: %s", err);
        free(err);
    }
    run_case("no source and no name", EXIT_USAGE, "exactly one source", "");
    run_case("unknown flag", EXIT_USAGE, "unknown option --frobnicate (try --help)", "--frobnicate");
    run_case("misspelt flag", EXIT_USAGE, "unknown option --cifar; did you mean --cifar10?", "--cifar d");
    run_case("two sources", EXIT_USAGE, "exactly one source", "--name x --fashion-mnist --cifar10 /tmp");
    run_case("no source", EXIT_USAGE, "exactly one source", "--name x");
    run_case("idx images without labels", EXIT_USAGE, "--idx-labels", "--name x --idx-images /tmp/a");
    run_case("png-dir without csv", EXIT_USAGE, "--csv", "--name x --png-dir /tmp");
    run_case("missing name", EXIT_USAGE, "--name", "--png-dir /tmp --csv /tmp/x.csv");
    run_case("bad classes", EXIT_USAGE, "--classes", "--name x --idx-images a --idx-labels b --classes many");
    run_case("stray argument", EXIT_USAGE, "unexpected argument", "--name x --fashion-mnist extra");
    run_case("synthetic flag without --synthetic", EXIT_USAGE, "--synthetic", "--name x --fashion-mnist --n-train 5");
    {
        char *err = NULL;
        CHECK(fx_run(&err, "%s/ingest --help", bin) == 0, "--help exits 0");
        char *out = fx_stdout();
        CHECK(strstr(out, "Exit status") && strstr(out, "--png-dir"), "--help documents sources and exit codes");
        free(out);
        free(err);
        CHECK(fx_run(&err, "%s/ingest --version", bin) == 0, "--version exits 0");
        out = fx_stdout();
        CHECK(strncmp(out, "ingest ", 7) == 0 && strstr(out, "git"), "--version prints version and commit: %s", out);
        free(out);
        free(err);
    }
    CHECK(access(store_path, F_OK) != 0, "bad flags create no store");
    /* bad input before the store exists: no store is created */
    run_case("truncated IDX into a new store", EXIT_BADDATA, "img.trunc", "--name t --idx-images $D/img.trunc --idx-labels $D/lab");
    CHECK(access(store_path, F_OK) != 0, "bad input creates no store");

    /* ---- a good ingest, re-ingest, conflict, force ---- */
    run_case("good IDX", 0, NULL, "--name toy --idx-images $D/img --idx-labels $D/lab --idx-test-images $D/img.gz "
                                  "--idx-test-labels $D/lab.gz --classes fashion");
    {
        char *out = fx_stdout();
        CHECK(strstr(out, "images   40 (train 20, test 20)") && strstr(out, "sha256   ") && strstr(out, "stored") &&
              strstr(out, "elapsed"), "summary: %s", out);
        free(out);
    }
    CHECK(db_count(store_path, "SELECT count(*) FROM images") == 40, "40 images stored");
    CHECK(db_count(store_path, "SELECT count(*) FROM dataset_classes WHERE name = 'Ankle boot'") == 1,
          "Fashion-MNIST class names");
    run_case("identical re-ingest", 0, NULL, "--name toy --idx-images $D/img.gz --idx-labels $D/lab.gz "
                                             "--idx-test-images $D/img --idx-test-labels $D/lab --classes fashion");
    {
        char *out = fx_stdout();
        CHECK(strstr(out, "unchanged") != NULL, "re-ingest says unchanged: %s", out);
        free(out);
    }
    run_case("same name, other content", EXIT_BADDATA, "--force", "--name toy --idx-images $D/img --idx-labels $D/lab");
    run_case("other class names are other content", EXIT_BADDATA, "already exists",
             "--name toy --idx-images $D/img --idx-labels $D/lab --idx-test-images $D/img.gz --idx-test-labels $D/lab.gz");

    run_case("--force replaces", 0, NULL, "--name toy --idx-images $D/img --idx-labels $D/lab --force");
    {
        char *out = fx_stdout();
        CHECK(strstr(out, "replaced") != NULL, "--force says replaced: %s", out);
        free(out);
    }
    CHECK(db_count(store_path, "SELECT count(*) FROM images") == 20, "--force: 20 images remain");
    CHECK(db_count(store_path, "SELECT count(*) FROM datasets WHERE name = 'toy' AND n_test = 0") == 1,
          "--force: the dataset row is updated");
    /* --mnist DIR with raw (not gzip) files */
    {
        CHECK(mkdir(fx_path("mnist"), 0755) == 0, "mkdir mnist");
        fx_write(fx_path("mnist/train-images-idx3-ubyte"), img, li, 0);
        fx_write(fx_path("mnist/train-labels-idx1-ubyte"), lab, ll, 0);
        fx_write(fx_path("mnist/t10k-images-idx3-ubyte"), img, li, 0);
        fx_write(fx_path("mnist/t10k-labels-idx1-ubyte"), lab, ll, 0);
        run_case("--mnist DIR", 0, NULL, "--mnist $D/mnist");
        CHECK(db_count(store_path, "SELECT n_train * 100 + n_test FROM datasets WHERE name = 'mnist'") == 2020,
              "--mnist: default name and splits");
        unlink(fx_path("mnist/t10k-labels-idx1-ubyte"));
        run_case("--mnist missing file", EXIT_RUNTIME, "mnist/t10k-labels-idx1-ubyte", "--mnist $D/mnist --name m2");
    }

    /* ---- bad IDX / gzip input (exit 3, names the file, store unchanged) ---- */
    run_case("truncated IDX", EXIT_BADDATA, "img.trunc: truncated", "--name t --idx-images $D/img.trunc --idx-labels $D/lab");
    run_case("truncated gzip labels", EXIT_BADDATA, "lab.trunc.gz", "--name t --idx-images $D/img --idx-labels $D/lab.trunc.gz");
    run_case("corrupt gzip", EXIT_BADDATA, "img.corrupt.gz: corrupt gzip", "--name t --idx-images $D/img.corrupt.gz --idx-labels $D/lab");
    run_case("wrong magic (swapped)", EXIT_BADDATA, "wrong magic number", "--name t --idx-images $D/lab --idx-labels $D/img");
    run_case("count mismatch", EXIT_BADDATA, "19 labels", "--name t --idx-images $D/img --idx-labels $D/lab19");
    run_case("label out of range", EXIT_BADDATA, "lab.range: record 11: label 12 out of range",
             "--name t --idx-images $D/img --idx-labels $D/lab.range");
    run_case("missing file", EXIT_RUNTIME, "nope.gz", "--name t --idx-images $D/nope.gz --idx-labels $D/lab");
    {
        size_t l0, m0;
        uint8_t *i0 = fx_idx_images(0, 5, 5, &l0), *b0 = fx_idx_labels(0, 10, &m0);
        fx_write(fx_path("img0"), i0, l0, 0);
        fx_write(fx_path("lab0"), b0, m0, 0);
        free(i0);
        free(b0);
        run_case("valid IDX pair of 0 images (exit 3, names the file)", EXIT_BADDATA, "img0: holds 0 images",
                 "--name t --idx-images $D/img0 --idx-labels $D/lab0");
    }

    /* ---- CIFAR-10 ---- */
    {
        CHECK(mkdir(fx_path("cifar"), 0755) == 0, "mkdir cifar");
        uint8_t *rec = calloc(2 * CIFAR_RECORD, 1);
        rec[0] = 3;
        rec[CIFAR_RECORD] = 9;
        for (int b = 1; b <= 5; b++)
            fx_write(fx_path("cifar/data_batch_%d.bin", b), rec, 2 * CIFAR_RECORD, 0);
        fx_write(fx_path("cifar/test_batch.bin"), rec, CIFAR_RECORD, 0);
        run_case("good CIFAR-10", 0, NULL, "--cifar10 $D/cifar --name c10");
        CHECK(db_count(store_path, "SELECT n_train * 100 + n_test FROM datasets WHERE name = 'c10'") == 1001,
              "CIFAR-10 split sizes");
        fx_write(fx_path("cifar/data_batch_2.bin"), rec, 2 * CIFAR_RECORD - 1, 0);
        run_case("truncated CIFAR record", EXIT_BADDATA, "data_batch_2.bin: truncated: record 1",
                 "--cifar10 $D/cifar --name c10b");
        rec[CIFAR_RECORD] = 11;
        fx_write(fx_path("cifar/data_batch_2.bin"), rec, 2 * CIFAR_RECORD, 0);
        run_case("CIFAR label out of range", EXIT_BADDATA, "data_batch_2.bin: record 1: label 11",
                 "--cifar10 $D/cifar --name c10b");
        unlink(fx_path("cifar/data_batch_4.bin"));
        run_case("missing CIFAR batch (exit 1, as --help says)", EXIT_RUNTIME, "data_batch_4.bin: missing",
                 "--cifar10 $D/cifar --name c10b");
        free(rec);
    }

    /* ---- PNG directory + CSV ---- */
    CHECK(mkdir(fx_path("png"), 0755) == 0, "mkdir png");
    write_png("a.png", 1, 4, 1);
    write_png("b.png", 2, 4, 1);
    write_png("c.png", 3, 4, 1);
    write_text("good.csv", "file,label,split,angle,depth\na.png,0,train,10,1.5\nb.png,2,test,-5,2\nc.png,1,0,0,0\n");
    run_case("good PNG dir", 0, NULL, "--png-dir $D/png --csv $D/good.csv --name pngs --classes 3");
    CHECK(db_count(store_path, "SELECT n_latents * 100 + n_train * 10 + n_test FROM datasets WHERE name = 'pngs'") == 221,
          "PNG dir: 2 latents, 2 train, 1 test");
    write_text("missing.csv", "file,label,split,angle\na.png,0,train\nb.png,1,test,2\nc.png,1,test,3\n");
    run_case("CSV missing field", EXIT_BADDATA, "missing.csv:2: missing field", "--png-dir $D/png --csv $D/missing.csv --name p2");
    write_text("extra.csv", "file,label\na.png,0\nb.png,1,7\nc.png,1\n");
    run_case("CSV extra field", EXIT_BADDATA, "extra.csv:3:3: extra field", "--png-dir $D/png --csv $D/extra.csv --name p2");
    write_text("nonnum.csv", "file,label,angle\na.png,0,1\nb.png,1,2\nc.png,1,steep\n");
    run_case("CSV non-numeric latent", EXIT_BADDATA, "nonnum.csv:4:3: field 'angle' is 'steep'",
             "--png-dir $D/png --csv $D/nonnum.csv --name p2");
    write_text("nonlabel.csv", "file,label\na.png,zero\nb.png,1\nc.png,1\n");
    run_case("CSV non-numeric label", EXIT_BADDATA, "nonlabel.csv:2:2: field 'label' is 'zero'",
             "--png-dir $D/png --csv $D/nonlabel.csv --name p2");
    write_text("range.csv", "file,label\na.png,0\nb.png,5\nc.png,1\n");
    run_case("CSV label out of range", EXIT_BADDATA, "range.csv:3:2: field 'label' is 5, out of range [0, 3)",
             "--png-dir $D/png --csv $D/range.csv --name p2 --classes 3");
    write_text("neg.csv", "file,label\na.png,0\nb.png,-1\nc.png,1\n");
    run_case("CSV negative label", EXIT_BADDATA, "neg.csv:3:2", "--png-dir $D/png --csv $D/neg.csv --name p2");
    write_text("unknown.csv", "file,label\na.png,0\nb.png,1\nc.png,1\nzzz.png,1\n");
    run_case("CSV unknown file", EXIT_BADDATA, "unknown.csv:5:1: image 'zzz.png' not found",
             "--png-dir $D/png --csv $D/unknown.csv --name p2");
    write_text("unlisted.csv", "file,label\na.png,0\nb.png,1\n");
    run_case("PNG not in the CSV", EXIT_BADDATA, "c.png: not listed in", "--png-dir $D/png --csv $D/unlisted.csv --name p2");
    write_text("dup.csv", "file,label\na.png,0\nb.png,1\nc.png,1\na.png,1\n");
    run_case("CSV duplicate file", EXIT_BADDATA, "'a.png' is listed more than once", "--png-dir $D/png --csv $D/dup.csv --name p2");
    write_text("split.csv", "file,label,split\na.png,0,train\nb.png,1,validation\nc.png,1,test\n");
    run_case("CSV bad split", EXIT_BADDATA, "split.csv:3:3: field 'split' is 'validation'",
             "--png-dir $D/png --csv $D/split.csv --name p2");
    write_text("header.csv", "name,label\na.png,0\nb.png,1\nc.png,1\n");
    run_case("CSV bad header", EXIT_BADDATA, "header.csv:1: header must start with 'file,label'",
             "--png-dir $D/png --csv $D/header.csv --name p2");
    fx_write(fx_path("png/d.png"), "\x89PNG\r\n\x1a\n garbage", 17, 0);
    write_text("corrupt.csv", "file,label\na.png,0\nb.png,1\nc.png,1\nd.png,0\n");
    run_case("corrupt PNG", EXIT_BADDATA, "d.png", "--png-dir $D/png --csv $D/corrupt.csv --name p2");
    write_png("d.png", 4, 8, 1);
    run_case("PNG of another size", EXIT_BADDATA, "same size", "--png-dir $D/png --csv $D/corrupt.csv --name p2");
    write_png("d.png", 4, 4, 3);
    run_case("RGB among gray PNGs", EXIT_BADDATA, "colour type", "--png-dir $D/png --csv $D/corrupt.csv --name p2");

    /* ---- bad stores (exit 4, names the store, leaves it unchanged) ---- */
    {
        char good_store[1024];
        snprintf(good_store, sizeof good_store, "%s", store_path);
        snprintf(sp, sizeof sp, "%s", fx_path("text.db"));
        write_text("text.db", "this is not a database but a text file of some length, really it is not.......\n"
                              "................................................................................\n");
        run_case("not a database", EXIT_STORE, "text.db: not an SQLite database", "--name t --idx-images $D/img --idx-labels $D/lab");
        snprintf(sp, sizeof sp, "%s", fx_path("newer.db"));
        sqlite3 *db;
        sqlite3_open(store_path, &db);
        sqlite3_exec(db, "CREATE TABLE t (x); PRAGMA user_version = 42;", NULL, NULL, NULL);
        sqlite3_close(db);
        run_case("newer schema", EXIT_STORE, "newer.db: the store has schema version 42",
                 "--name t --idx-images $D/img --idx-labels $D/lab");
        snprintf(sp, sizeof sp, "%s", fx_path("no/such/dir/s.db"));
        run_case("store in a missing directory", EXIT_STORE, "no/such/dir/s.db: cannot open the store",
                 "--name t --idx-images $D/img --idx-labels $D/lab");
        snprintf(sp, sizeof sp, "%s", good_store);
        /* locked: this process holds BEGIN IMMEDIATE */
        sqlite3_open(store_path, &db);
        CHECK(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK, "hold the write lock");
        run_case("locked store", EXIT_STORE, "locked by another process",
                 "--name t2 --idx-images $D/img --idx-labels $D/lab --busy-timeout 200");
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        sqlite3_close(db);
        /* read-only file: as a user, chmod; as root (which ignores modes), run as nobody */
        if (geteuid() != 0) {
            chmod(store_path, 0444);
            run_case("read-only store", EXIT_STORE, "read-only", "--name t2 --idx-images $D/img --idx-labels $D/lab");
            chmod(store_path, 0644);
        } else if (access("/usr/bin/setpriv", X_OK) == 0 && chmod(fx_dir, 0755) == 0) {
            char before[65], after[65], *err = NULL;
            fx_store_fingerprint(store_path, before);
            int rc = fx_run(&err, "setpriv --reuid=65534 --regid=65534 --clear-groups %s/ingest --store '%s' --name t2 "
                            "--idx-images $D/img --idx-labels $D/lab", bin, store_path);
            fx_store_fingerprint(store_path, after);
            if (getenv("VERBOSE"))
                printf("read-only store (as nobody): rc=%d: %s", rc, err);
            CHECK(rc == EXIT_STORE && strstr(err, "read-only") && strstr(err, store_path),
                  "read-only store (as nobody): status %d: %s", rc, err);
            CHECK(strcmp(before, after) == 0, "read-only store: unchanged");
            free(err);
        } else {
            printf("(running as root without setpriv: read-only file case skipped; test_store covers read-only)\n");
        }
        /* the synthetic renderer's hook: deterministic, so re-rendering is a no-op */
        run_case("synthetic", 0, NULL, "--synthetic --name syn --n-train 20 --n-test 10 --size 16 --seed 5");
        CHECK(db_count(store_path, "SELECT n_latents * 10000 + n_train * 100 + n_test FROM datasets WHERE name = 'syn'")
              == 212010, "synthetic: 21 latents, 20 train, 10 test");
        run_case("synthetic again", 0, NULL, "--synthetic --name syn --n-train 20 --n-test 10 --size 16 --seed 5");
        {
            char *out = fx_stdout();
            CHECK(strstr(out, "unchanged") != NULL, "synthetic re-render is a no-op: %s", out);
            free(out);
        }
        run_case("synthetic bad size", EXIT_USAGE, "--size", "--synthetic --name syn2 --size 3x");
        /* scenes: room2 by default (recorded in the source), clutter on request (the first
         * scene's source string), framed (recorded); 64x64 */
        CHECK(db_count(store_path, "SELECT count(*) FROM datasets WHERE name = 'syn' AND source LIKE '%,preset=room2'")
              == 1, "synthetic: the default scene room2 is in the source");
        run_case("synthetic clutter", 0, NULL,
                 "--synthetic --name sync --preset clutter --n-train 20 --n-test 10 --size 16 --seed 5");
        CHECK(db_count(store_path, "SELECT count(*) FROM datasets WHERE name = 'sync' AND source NOT LIKE '%preset%'")
              == 1, "synthetic clutter: the first scene's source string");
        run_case("synthetic framed", 0, NULL,
                 "--synthetic --name syns --preset framed --n-train 20 --n-test 10 --size 16 --seed 5");
        CHECK(db_count(store_path, "SELECT count(*) FROM datasets WHERE name = 'syns' AND source LIKE '%,preset=framed%'")
              == 1, "synthetic framed: the scene is in the source");
        run_case("synthetic bad preset", EXIT_USAGE, "--preset", "--synthetic --name syn3 --preset bogus");
        run_case("preset without --synthetic", EXIT_USAGE, "--synthetic", "--name x --fashion-mnist --preset clutter");
        run_case("synthetic 64x64", 0, NULL, "--synthetic --name syn64 --n-train 10 --n-test 5 --size 64");
        CHECK(db_count(store_path, "SELECT height * 1000 + width FROM datasets WHERE name = 'syn64'") == 64064,
              "synthetic 64x64 stored");
    }

    /* ---- the real Fashion-MNIST ---- */
    snprintf(sp, sizeof sp, "%s", fx_path("fashion.db"));
    run_case("Fashion-MNIST", 0, NULL, "--fashion-mnist");
    {
        char *out = fx_stdout();
        CHECK(strstr(out, "images   70000 (train 60000, test 10000)") != NULL, "Fashion-MNIST summary: %s", out);
        free(out);
    }
    CHECK(db_count(store_path, "SELECT count(*) FROM images") == 70000, "Fashion-MNIST: 70000 image rows");
    CHECK(db_count(store_path, "SELECT count(*) FROM images WHERE split = 1") == 10000, "Fashion-MNIST: 10000 test rows");
    CHECK(db_count(store_path, "SELECT count(DISTINCT label) FROM images") == 10, "Fashion-MNIST: 10 labels");
    /* kill -9 in the middle of an ingest: the store stays consistent and holds the old content only */
    {
        char *err = NULL;
        int rc = fx_run(&err, "%s/ingest --store '%s' --fashion-mnist --name killed & pid=$!; sleep 0.7; "
                        "kill -9 $pid; wait $pid; exit 0", bin, store_path);
        CHECK(rc == 0, "kill -9 run: %s", err);
        free(err);
        CHECK(db_count(store_path, "SELECT count(*) FROM datasets WHERE name = 'killed'") == 0 ||
              db_count(store_path, "SELECT count(*) FROM images i JOIN datasets d ON d.id = i.dataset_id "
                                   "WHERE d.name = 'killed'") == 70000, "kill -9: no half-written dataset");
        sqlite3 *db;
        sqlite3_stmt *st;
        sqlite3_open(store_path, &db);
        sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL);
        CHECK(sqlite3_step(st) == SQLITE_ROW && strcmp((const char *)sqlite3_column_text(st, 0), "ok") == 0,
              "kill -9: integrity_check ok");
        sqlite3_finalize(st);
        sqlite3_close(db);
        CHECK(db_count(store_path, "SELECT count(*) FROM images i JOIN datasets d ON d.id = i.dataset_id "
                                   "WHERE d.name = 'fashion-mnist'") == 70000, "kill -9: earlier dataset intact");
    }
    {
        char before[65], after[65];
        fx_store_fingerprint(store_path, before);
        run_case("Fashion-MNIST re-ingest", 0, NULL, "--fashion-mnist");
        char *out = fx_stdout();
        CHECK(strstr(out, "unchanged") != NULL, "Fashion-MNIST re-ingest is a no-op: %s", out);
        free(out);
        fx_store_fingerprint(store_path, after);
        CHECK(strcmp(before, after) == 0, "Fashion-MNIST re-ingest leaves the store unchanged");
    }
    free(img);
    free(lab);
    fx_cleanup();
    return check_done();
}
