/* What every program shares on its command line and how the tool is
 * packaged: -h as --help, one --version format (program, version, commit,
 * dirty flag), long options by their exact names only with the closest
 * suggested ("did you mean --a-kl?", --epoch refused rather than taken as
 * --epochs), an option's value never taken for an option, architecture
 * files found by name; the build's dirty diff (scripts/version.sh);
 * `make test TESTS=...`; and `make install` with PREFIX and DESTDIR, its
 * installed programs, man pages, bash completions, architecture files and
 * report queries, built portable. */
#include <getopt.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "cli.h"
#include "fixture.h"

static const char *bin;
static const char *const PROGS[] = {"ingest", "train", "evaluate", "decode", "verify", "analysis", "generate", "edrmm", "report", "runs", "synth"};
enum { NPROGS = sizeof PROGS / sizeof PROGS[0] };

static int matches(const char *re, const char *s)
{
    regex_t r;
    if (regcomp(&r, re, REG_EXTENDED | REG_NOSUB))
        return 0;
    int ok = s && regexec(&r, s, 0, NULL, 0) == 0;
    regfree(&r);
    return ok;
}

static void test_help_version(void)
{
    for (int i = 0; i < NPROGS; i++) {
        char *err = NULL;
        int rc = fx_run(&err, "%s/%s --help", bin, PROGS[i]);
        char *help = fx_stdout();
        free(err);
        int rc2 = fx_run(&err, "%s/%s -h", bin, PROGS[i]);
        char *h = fx_stdout();
        CHECK(rc == 0 && rc2 == 0 && strlen(help) > 100 && !strcmp(help, h), "%s: -h prints --help (%d %d)", PROGS[i],
              rc, rc2);
        free(help), free(h), free(err);
        rc = fx_run(&err, "%s/%s --version", bin, PROGS[i]);
        char *v = fx_stdout(), re[200];
        snprintf(re, sizeof re, "^%s \\(drmm\\) [0-9]+\\.[0-9]+\\.[0-9]+, git ([0-9a-f]{40}|unknown)( \\(dirty\\))?\n$",
                 PROGS[i]);
        CHECK(rc == 0 && matches(re, v), "%s --version: one format: %s", PROGS[i], v);
        free(v), free(err);
        rc = fx_run(&err, "%s/%s --hepl", bin, PROGS[i]);
        CHECK(rc == 2 && strstr(err, "unknown option --hepl; did you mean --help? (try --help)"),
              "%s --hepl: exit 2 with a suggestion (%d): %s", PROGS[i], rc, err);
        free(err);
    }
}

static void refused(const char *args, const char *needle)
{
    char *err = NULL;
    int rc = fx_run(&err, "%s/%s", bin, args);
    CHECK(rc == 2 && strstr(err, needle), "%s: exit 2 (%d) with '%s': %s", args, rc, needle, err);
    free(err);
}

static void test_misspelt(void)
{
    refused("train --store x.db --dataset d --arch a --name n --epoch 2",
            "train: unknown option --epoch; did you mean --epochs?");
    refused("train --store x.db --a-kll 1", "unknown option --a-kll; did you mean --a-kl?");
    refused("train --store=x.db --akl=1", "unknown option --akl; did you mean --a-kl?");
    refused("train --lables 100", "unknown option --lables; did you mean --labels?");
    refused("evaluate --stor x.db --run 1", "unknown option --stor; did you mean --store?");
    refused("ingest --store x.db --svnh d", "unknown option --svnh; did you mean --svhn?");
    refused("runs --store x.db --jsn list", "unknown option --jsn; did you mean --json?");
    refused("synth --coutn 3", "unknown option --coutn; did you mean --count?");
    refused("train --frobnicate 1", "unknown option --frobnicate (try --help)");
    /* an option's value is not an option; after -- nothing is */
    char *err = NULL;
    int rc = fx_run(&err, "%s/runs --store %s --experiment --frob list", bin, fx_path("none.db"));
    CHECK(rc == 4 && strstr(err, "no such store"), "a value starting with -- is a value (%d): %s", rc, err);
    free(err);
    struct option o[] = {{"epochs", required_argument, NULL, 1}, {"a-kl", required_argument, NULL, 2},
                         {"store", required_argument, NULL, 3}, {"labels", required_argument, NULL, 4},
                         {NULL, 0, NULL, 0}};
    const char *c;
    CHECK((c = cli_closest_option("epoch", o)) && !strcmp(c, "epochs"), "closest to epoch: %s", c);
    CHECK((c = cli_closest_option("a-k", o)) && !strcmp(c, "a-kl"), "closest to a-k: %s", c);
    CHECK((c = cli_closest_option("labls", o)) && !strcmp(c, "labels"), "closest to labls: %s", c);
    CHECK(cli_closest_option("zzzzzzzz", o) == NULL, "nothing close to zzzzzzzz");
    CHECK(cli_closest_option("q", o) == NULL, "nothing close to q");
}

/* --arch NAME: a bare name that is no file is looked up in the build's archs/ */
static void test_arch_by_name(void)
{
    char *err = NULL;
    int rc = fx_run(&err, "%s/train --store %s --dataset d --arch convsmall --name n", bin, fx_path("none.db"));
    CHECK(rc == 4 && strstr(err, "no such store"), "--arch convsmall found in archs/ (%d): %s", rc, err);
    free(err);
    rc = fx_run(&err, "%s/train --store %s --dataset d --arch nosuch --name n", bin, fx_path("none.db"));
    CHECK(rc == 3 && strstr(err, "nosuch: cannot open architecture file: no such file here nor in archs"),
          "--arch nosuch: where it looked (%d): %s", rc, err);
    free(err);
}

/* scripts/version.sh in a git repository of its own: clean, clean with a
 * report rewritten, then dirty with the diff of the code embedded (not the
 * report's), its size and SHA-256 */
static void test_version_sh(void)
{
    char here[2048], *err = NULL;
    if (!getcwd(here, sizeof here))
        here[0] = 0;
    const char *repo = fx_path("repo");
    int rc = fx_run(&err, "mkdir -p %s/reports && cd %s && git init -q . && echo one > f.txt && "
                          "echo r > reports/report.md && git add f.txt reports && "
                          "git -c user.name=t -c user.email=t@t commit -q -m one && sh %s/scripts/version.sh 1.2.3",
                    repo, repo, here);
    char *out = fx_stdout();
    CHECK(rc == 0 && strstr(out, "drmm_version = \"1.2.3\"") && strstr(out, "drmm_git_dirty = 0;") &&
          strstr(out, "drmm_git_diff_bytes = 0;") && strstr(out, "drmm_git_diff_sha256[65] = \"\";"),
          "clean tree: no diff (%d): %.400s %s", rc, out, err);
    free(out), free(err);
    /* a rewritten report (make pipeline's output) is not a change of the code */
    rc = fx_run(&err, "cd %s && echo rr > reports/report.md && sh %s/scripts/version.sh 1.2.3", repo, here);
    out = fx_stdout();
    CHECK(rc == 0 && strstr(out, "drmm_git_dirty = 0;") && strstr(out, "drmm_git_diff_bytes = 0;"),
          "a changed report leaves the build clean (%d): %.400s %s", rc, out, err);
    free(out), free(err);
    rc = fx_run(&err, "cd %s && echo two >> f.txt && sh %s/scripts/version.sh 1.2.3 && "
                      "git diff HEAD -- . ':(exclude)reports' | wc -c && git diff HEAD -- . ':(exclude)reports' | sha256sum",
                repo, here);
    out = fx_stdout();
    long bytes = 0;
    char sha[65] = "", want[200] = "";
    const char *tail = out ? strstr(out, "0};\n") : NULL;
    if (tail && sscanf(tail + 4, "%ld %64s", &bytes, sha) == 2)
        snprintf(want, sizeof want, "drmm_git_diff_bytes = %ld;\nconst char drmm_git_diff_sha256[65] = \"%s\";", bytes, sha);
    /* "diff --git" as the array's first bytes */
    CHECK(rc == 0 && strstr(out, "drmm_git_dirty = 1;") && bytes > 0 && want[0] && strstr(out, want) &&
          strstr(out, "= {\n0x64,0x69,0x66,0x66,0x20,0x2d,0x2d,0x67,0x69,0x74,"),
          "dirty tree: the diff, its size and SHA-256 embedded (%d): %.600s", rc, out);
    free(out), free(err);
}

/* make test TESTS=...: only the named tests; an unknown name refused */
static void test_make_test_one(int san)
{
    char *err = NULL;
    int rc = fx_run(&err, "make --no-print-directory test %s TESTS='tests/test_sha256.c test_csv'", san ? "SAN=1" : "");
    char *out = fx_stdout();
    CHECK(rc == 0 && strstr(out, "[test_sha256] running") && strstr(out, "[test_csv] running") &&
          !strstr(out, "[test_store]") && matches("\n[0-9]+ passed, 0 failed\n$", out),
          "make test TESTS=...: those two only (%d): %.300s %s", rc, out, err);
    free(out), free(err);
    rc = fx_run(&err, "make --no-print-directory test TESTS=test_nope");
    CHECK(rc == 2 && strstr(err, "TESTS: no test test_nope; the tests: ") && strstr(err, "test_sha256"),
          "make test TESTS=test_nope refused (%d): %s", rc, err);
    free(err);
}

static int file_has(const char *path, const char *needle)
{
    char *s = fx_read(path, NULL);
    int ok = s && strstr(s, needle);
    free(s);
    return ok;
}

/* make install: into PREFIX (a directory of the build tree, so the portable
 * build is reused from one run to the next), then staged with DESTDIR */
static void test_install(void)
{
    char here[2048], prefix[2300], *err = NULL;
    if (!getcwd(here, sizeof here))
        here[0] = 0;
    snprintf(prefix, sizeof prefix, "%s/build-portable/test-prefix", here);
    const char *dest = fx_path("dest");
    int rc = fx_run(&err, "rm -rf %s && make --no-print-directory -j2 install PREFIX=%s && "
                          "make --no-print-directory install PREFIX=%s DESTDIR=%s", prefix, prefix, prefix, dest);
    CHECK(rc == 0, "make install PREFIX=... and DESTDIR=... (%d): %s", rc, err);
    free(err);
    char p[4500], *out;
    for (int i = 0; i < NPROGS; i++) {
        snprintf(p, sizeof p, "%s%s/bin/drmm-%s", dest, prefix, PROGS[i]);
        CHECK(access(p, X_OK) == 0, "DESTDIR: drmm-%s installed under DESTDIR/PREFIX/bin", PROGS[i]);
        snprintf(p, sizeof p, "%s/share/man/man1/drmm-%s.1", prefix, PROGS[i]);
        char th[64];
        snprintf(th, sizeof th, ".TH DRMM-%s 1", PROGS[i]);
        for (char *c = th + 8; *c; c++)
            *c = (char)(*c >= 'a' && *c <= 'z' ? *c - 32 : *c);
        CHECK(file_has(p, th) && file_has(p, ".SH SYNOPSIS") && file_has(p, "--help"), "man page of %s", PROGS[i]);
        snprintf(p, sizeof p, "%s/share/bash-completion/completions/drmm-%s", prefix, PROGS[i]);
        char comp[64];
        snprintf(comp, sizeof comp, "complete -F _drmm_%s drmm-%s", PROGS[i], PROGS[i]);
        CHECK(file_has(p, comp) && file_has(p, "--version"), "bash completion of %s", PROGS[i]);
    }
    snprintf(p, sizeof p, "%s/share/bash-completion/completions/drmm-train", prefix);
    CHECK(file_has(p, " --epochs ") && file_has(p, " --a-kl ") && file_has(p, "--arch|--config|"),
          "train's completion: its options, files after --arch and --config");
    /* drmm-runs completes its command words (until one is given), then files */
    snprintf(p, sizeof p, "%s/share/bash-completion/completions/drmm-runs", prefix);
    rc = fx_run(&err, "bash -c 'source %s; for line in \"--store x.db co\" \"--store x.db \" \"diff 1 \"; do "
                      "COMP_WORDS=(drmm-runs $line); case $line in *\" \") COMP_WORDS+=(\"\");; esac; "
                      "COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=(); _drmm_runs; echo \"[${COMPREPLY[*]}]\"; done'", p);
    {
        char *o = fx_stdout();
        const char *want = "[compare]\n[list diff tag note compare export]\n";
        CHECK(rc == 0 && !strncmp(o, want, strlen(want)) && strncmp(o + strlen(want), "[list", 5),
              "drmm-runs completes its commands, and after one the files (%d): %s %s", rc, o, err);
        free(o);
    }
    free(err);
    snprintf(p, sizeof p, "%s/share/man/man1/drmm-train.1", prefix);
    CHECK(file_has(p, "drmm-train --store FILE --resume RUN_ID"), "man page synopsis under the installed name");
    snprintf(p, sizeof p, "%s/share/drmm/archs/convsmall.arch", prefix);
    CHECK(access(p, R_OK) == 0, "architecture files installed");
    rc = fx_run(&err, "cmp %s/share/drmm/sql/table1_test_error.sql analysis/sql/table1_test_error.sql && "
                      "ls %s/share/drmm/sql/*.sql | wc -l && ls analysis/sql/*.sql | wc -l", prefix, prefix);
    out = fx_stdout();
    int n_sql = 0, n_tree = 0;
    CHECK(rc == 0 && out && sscanf(out, "%d %d", &n_sql, &n_tree) == 2 && n_sql == n_tree && n_sql > 0,
          "the report's queries installed in share/drmm/sql (%d of %d; %d): %s", n_sql, n_tree, rc, err);
    free(out), free(err);
    snprintf(p, sizeof p, "%s/share/doc/drmm/LICENSE", prefix);
    CHECK(file_has(p, "MIT License") && file_has(p, "Copyright (c) The DRMM tool authors"), "LICENSE installed");
    rc = fx_run(&err, "cmp %s/bin/drmm-train build-portable/bin/train", prefix);
    CHECK(rc == 0 && file_has("build-portable/gen/flags", "-O3") && !file_has("build-portable/gen/flags", "-march=native"),
          "the installed programs are build-portable's, built without -march=native (%d): %s", rc, err);
    free(err);
    /* an installed program runs, from anywhere, and finds the installed architecture files */
    rc = fx_run(&err, "cd / && %s/bin/drmm-runs --version", prefix);
    out = fx_stdout();
    CHECK(rc == 0 && matches("^runs \\(drmm\\) [0-9.]+, git [0-9a-f]{40}", out), "installed drmm-runs --version: %s", out);
    free(out), free(err);
    rc = fx_run(&err, "cd / && %s/bin/drmm-train --store %s --dataset d --arch convlarge --name n", prefix,
                fx_path("none.db"));
    CHECK(rc == 4 && strstr(err, "no such store"), "installed drmm-train finds --arch convlarge (%d): %s", rc, err);
    free(err);
    rc = fx_run(&err, "make --no-print-directory uninstall PREFIX=%s && ls %s/bin | wc -l", prefix, prefix);
    out = fx_stdout();
    CHECK(rc == 0 && atoi(out) == 0, "make uninstall removes the programs (%d): %s %s", rc, out, err);
    free(out), free(err);
}

int main(void)
{
    bin = getenv("BIN") ? getenv("BIN") : "bin";
    int san = getenv("DRMM_SANITIZED") != NULL;
    fx_tmpdir("cli");
    /* makes of their own, not children of the make running the tests */
    unsetenv("MAKEFLAGS");
    unsetenv("MFLAGS");
    unsetenv("MAKELEVEL");
    unsetenv("MAKEOVERRIDES");
    unsetenv("SAN");   /* make exports its command line's variables */
    test_help_version();
    test_misspelt();
    test_arch_by_name();
    test_version_sh();
    test_make_test_one(san);
    test_install();
    fx_cleanup();
    return check_done();
}
