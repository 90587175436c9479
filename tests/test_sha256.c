/* SHA-256 against the FIPS 180-2 / NIST example vectors (including one
 * million 'a'), streaming in odd chunk sizes, and the dataset content hash. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "dataset.h"
#include "dataset_hash.h"
#include "error.h"
#include "sha256.h"

static void check_hex(const char *msg, const char *want, const char *what)
{
    char hex[65];
    sha256_hex(msg, strlen(msg), hex);
    CHECK(strcmp(hex, want) == 0, "%s: got %s", what, hex);
}

int main(void)
{
    check_hex("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "empty");
    check_hex("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "abc");
    check_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1", "448 bits");
    check_hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrs"
              "mnopqrstnopqrstu",
              "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1", "896 bits");

    /* one million 'a', in one call and in chunks of 1..997 bytes */
    size_t n = 1000000;
    char *a = malloc(n);
    memset(a, 'a', n);
    char hex[65];
    sha256_hex(a, n, hex);
    CHECK(strcmp(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0") == 0, "million a: %s", hex);
    sha256_ctx c;
    sha256_init(&c);
    for (size_t at = 0, k = 1; at < n; k = k % 997 + 1) {
        size_t take = n - at < k ? n - at : k;
        sha256_update(&c, a + at, take);
        at += take;
    }
    sha256_final_hex(&c, hex);
    CHECK(strcmp(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0") == 0,
          "million a streamed: %s", hex);
    /* lengths around the padding boundary (55, 56, 63, 64, 65) agree streamed vs one-shot */
    for (size_t len = 50; len < 130; len++) {
        char one[65], two[65];
        sha256_hex(a, len, one);
        sha256_init(&c);
        sha256_update(&c, a, len / 3);
        sha256_update(&c, a, len - len / 3);
        sha256_final_hex(&c, two);
        CHECK(strcmp(one, two) == 0, "length %zu streamed", len);
    }
    free(a);

    /* dataset hash: deterministic, sensitive to every part, blind to source */
    dataset d;
    err_t e;
    CHECK(dataset_alloc(&d, 3, 1, 2, 2, 2, 1, &e) == 0, "alloc: %s", e.msg);
    for (int i = 0; i < 12; i++)
        d.pixels[i] = (uint8_t)(i * 7);
    d.labels[1] = 1;
    d.split[2] = SPLIT_TEST;
    d.class_names[0] = strdup("zero");
    d.class_names[1] = strdup("one");
    d.latent_names[0] = strdup("angle");
    d.latents[2] = 0.5f;
    d.source = strdup("a");
    char h0[65], h1[65];
    dataset_sha256(&d, h0);
    dataset_sha256(&d, h1);
    CHECK(strcmp(h0, h1) == 0, "deterministic");
    free(d.source);
    d.source = strdup("somewhere else");
    dataset_sha256(&d, h1);
    CHECK(strcmp(h0, h1) == 0, "source is not hashed");
#define CHANGED(stmt, undo, what)                 \
    do {                                          \
        stmt;                                     \
        dataset_sha256(&d, h1);                   \
        CHECK(strcmp(h0, h1) != 0, "%s", what);   \
        undo;                                     \
        dataset_sha256(&d, h1);                   \
        CHECK(strcmp(h0, h1) == 0, "%s undone", what); \
    } while (0)
    CHANGED(d.pixels[11]++, d.pixels[11]--, "pixel");
    CHANGED(d.labels[0] = 1, d.labels[0] = 0, "label");
    CHANGED(d.split[0] = SPLIT_TEST, d.split[0] = SPLIT_TRAIN, "split");
    CHANGED(d.latents[0] = 1e-7f, d.latents[0] = 0, "latent");
    CHANGED(d.class_names[1][0] = 'O', d.class_names[1][0] = 'o', "class name");
    CHANGED(d.latent_names[0][0] = 'A', d.latent_names[0][0] = 'a', "latent name");
    CHANGED((d.height = 4, d.width = 1), (d.height = 2, d.width = 2), "shape");
    dataset_free(&d);
    return check_done();
}
