/* The configuration's values as text (train_config_value): the shortest
 * decimal that reads back to the same float (0.2, not 0.200000003; the
 * default learning rate 0.001 in `train --help`), and reading that text back
 * (train_config_set, as config_from_run does on resume) restores exactly the
 * same float for every float in a key's range. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "error.h"
#include "fixture.h"
#include "rng.h"
#include "train_config.h"

static int key_index(const char *key)
{
    for (int i = 0; i < train_config_count(); i++)
        if (!strcmp(train_config_key(i), key))
            return i;
    return -1;
}

/* value of key after setting it from text */
static void set_get(const char *key, const char *in, char *out, size_t len)
{
    train_config c;
    err_t e = {.msg = ""};
    train_config_default(&c);
    out[0] = 0;
    if (train_config_set(&c, key, in, &e) == 0)
        train_config_value(&c, key_index(key), out, len);
}

static void test_shortest(void)
{
    struct { const char *key, *in, *want; } c[] = {
        {"a_kl", "0.2", "0.2"}, {"a_nn", "0.5", "0.5"}, {"a_rc", "10", "10"}, {"a_rc", "100", "100"}, {"clip_norm", "1e12", "1e+12"}, {"clip_norm", "2e6", "2000000"},
        {"a_h", "2.5", "2.5"}, {"a_h", "123456", "123456"}, {"lr_start", "1e-3", "0.001"},
        {"lr_end", "0.0001", "0.0001"}, {"beta2", "0.999", "0.999"}, {"adam_eps", "1e-8", "1e-08"},
        {"td_leak", "0.1", "0.1"}, {"a_kl", "0.30000001", "0.3"}, {"a_kl", "0.123456789", "0.12345679"},
        {"a_kl", "0", "0"}, {"epochs", "8", "8"},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        char v[64];
        set_get(c[i].key, c[i].in, v, sizeof v);
        CHECK(!strcmp(v, c[i].want), "%s = %s is shown as '%s', want '%s'", c[i].key, c[i].in, v, c[i].want);
    }
    train_config d;
    train_config_default(&d);
    char v[64];
    train_config_value(&d, key_index("lr_start"), v, sizeof v);
    CHECK(!strcmp(v, "0.001"), "default lr_start shown as '%s'", v);
}

/* random floats of every magnitude a float key accepts: value -> text -> the same bits */
static void test_round_trip(void)
{
    rng_t r;
    rng_seed(&r, 19);
    int idx = key_index("clip_norm"), bad = 0, n = 0, longest = 0;   /* range 0 .. 1e12 */
    for (int i = 0; i < 200000; i++) {
        uint32_t bits = (uint32_t)rng_next(&r);
        float f;
        memcpy(&f, &bits, sizeof f);
        if (!(f >= 0 && f <= 1e12f))
            continue;
        train_config a, b;
        train_config_default(&a);
        train_config_default(&b);
        a.optim.clip_norm = f;
        char v[64];
        train_config_value(&a, idx, v, sizeof v);
        err_t e = {.msg = ""};
        int digits = 0, lead = 1, zeros = 0;   /* significant digits: without leading and trailing zeros */
        for (const char *p = v; *p && *p != 'e'; p++) {
            if (*p < '0' || *p > '9' || (lead && *p == '0'))
                continue;
            lead = 0;
            zeros = *p == '0' ? zeros + 1 : 0;
            digits++;
        }
        digits -= zeros;
        longest = digits > longest ? digits : longest;
        if (train_config_set(&b, "clip_norm", v, &e) || memcmp(&a.optim.clip_norm, &b.optim.clip_norm, sizeof f)) {
            if (bad++ < 5)
                printf("  %.9g -> '%s' -> %.9g (%s)\n", f, v, b.optim.clip_norm, e.msg);
        }
        n++;
    }
    CHECK(n > 50000 && bad == 0, "%d of %d floats do not read back to the same bits", bad, n);
    CHECK(longest <= 9, "at most 9 significant digits (%d digits)", longest);
}

/* train --help shows the defaults in their shortest form */
static void test_help(void)
{
    const char *bin = getenv("BIN") ? getenv("BIN") : "bin";
    char *err = NULL;
    int rc = fx_run(&err, "%s/train --help", bin);
    char *out = fx_stdout();
    CHECK(rc == 0 && out && strstr(out, "[0.001]") && strstr(out, "[0.0001]") && !strstr(out, "00000"),
          "train --help shows 0.001, not float noise: %s", out ? out : "");
    free(out);
    free(err);
}

int main(void)
{
    fx_tmpdir("train-config");
    test_shortest();
    test_round_trip();
    test_help();
    fx_cleanup();
    return check_done();
}
