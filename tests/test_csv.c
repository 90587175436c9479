/* Strict CSV reader: a good table (quotes, CRLF, blank lines) and the
 * faults: missing and extra fields, non-numeric and empty numbers,
 * unterminated quotes, duplicate or empty header names, empty file. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fixture.h"
#include "csv.h"
#include "error.h"

static void expect_fail(const char *name, const char *text, const char *need1, const char *need2)
{
    const char *p = fx_path("%s.csv", name);
    fx_write(p, text, strlen(text), 0);
    csv_table t;
    err_t e = {0};
    int rc = csv_read(p, &t, &e);
    if (rc == 0) {                       /* structural success: the numeric check must fail */
        long v;
        double x;
        rc = -1;
        for (int r = 0; r < t.nrows && rc == -1; r++)
            if (csv_get_long(&t, r, 1, &v, &e) < 0 || csv_get_double(&t, r, 2, &x, &e) < 0)
                rc = -2;
        csv_free(&t);
    }
    CHECK(rc != 0, "%s: expected failure", name);
    CHECK(strstr(e.msg, need1) != NULL, "%s: message lacks '%s': %s", name, need1, e.msg);
    CHECK(!need2 || strstr(e.msg, need2) != NULL, "%s: message lacks '%s': %s", name, need2, e.msg);
}

int main(void)
{
    fx_tmpdir("csv");
    const char *good = "file,label,x\r\n\"a,b.png\",3,0.5\r\n\nc.png,-1,1e3\n\"q\"\"x\",0,-2\n";
    fx_write(fx_path("good.csv"), good, strlen(good), 0);
    csv_table t;
    err_t e = {0};
    int rc = csv_read(fx_path("good.csv"), &t, &e);
    CHECK(rc == 0, "good: %s", e.msg);
    if (rc == 0) {
        long v;
        double x;
        CHECK(t.ncols == 3 && t.nrows == 3, "good: 3 columns, 3 rows (blank line skipped)");
        CHECK(strcmp(t.rows[0][0], "a,b.png") == 0 && strcmp(t.rows[2][0], "q\"x") == 0, "good: quoted fields");
        CHECK(t.lines[1] == 4, "good: line numbers count blank lines");
        CHECK(csv_get_long(&t, 1, 1, &v, &e) == 0 && v == -1, "good: integer");
        CHECK(csv_get_double(&t, 1, 2, &x, &e) == 0 && x == 1000, "good: number");
        CHECK(csv_column(&t, "x") == 2 && csv_column(&t, "y") == -1, "good: csv_column");
        csv_free(&t);
    }
    {
        const char *bom = "\xEF\xBB\xBF" "file,label\r\na.png,1\r\n";
        fx_write(fx_path("bom.csv"), bom, strlen(bom), 0);
        csv_table tb;
        CHECK(csv_read(fx_path("bom.csv"), &tb, &e) == 0 && csv_column(&tb, "file") == 0, "byte order mark: %s", e.msg);
        csv_free(&tb);
    }
    expect_fail("missing", "file,label,x\na.png,1\n", "missing.csv:2", "missing field");
    expect_fail("extra", "file,label,x\na.png,1,2,3\n", "extra.csv:2:4", "extra field");
    expect_fail("nonnumeric", "file,label,x\na.png,1,2\nb.png,one,2\n", "nonnumeric.csv:3:2", "'label' is 'one'");
    expect_fail("junk", "file,label,x\na.png,1,2.5kg\n", "junk.csv:2:3", "'x' is '2.5kg'");
    expect_fail("emptynum", "file,label,x\na.png,,2\n", "emptynum.csv:2:2", "expected an integer");
    expect_fail("float_label", "file,label,x\na.png,1.5,2\n", "float_label.csv:2:2", "expected an integer");
    expect_fail("nan", "file,label,x\na.png,1,nan\n", "nan.csv:2:3", "finite");
    expect_fail("quote", "file,label,x\n\"a.png,1,2\n", "quote.csv:2:1", "unterminated");
    expect_fail("dup", "file,label,label\n", "dup.csv:1:3", "duplicate column");
    expect_fail("emptyname", "file,,x\n", "emptyname.csv:1:2", "empty column name");
    expect_fail("empty", "", "empty.csv", "empty file");
    {
        csv_table t2;
        err_t e2 = {0};
        CHECK(csv_read(fx_path("absent.csv"), &t2, &e2) == -1 && strstr(e2.msg, "absent.csv") &&
              strstr(e2.msg, "cannot open"), "absent: %s", e2.msg);
    }
    fx_cleanup();
    return check_done();
}
