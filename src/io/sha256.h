/* SHA-256 (FIPS 180-4): streaming context and one-shot helpers with
 * lowercase hexadecimal output.  No allocation; the caller owns the context. */
#ifndef DRMM_SHA256_H
#define DRMM_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct sha256_ctx {
    uint32_t h[8];
    uint64_t nbytes;          /* total bytes hashed so far */
    uint8_t buf[64];
    size_t nbuf;              /* bytes waiting in buf */
} sha256_ctx;

void sha256_init(sha256_ctx *c);
void sha256_update(sha256_ctx *c, const void *data, size_t n);
void sha256_final(sha256_ctx *c, uint8_t digest[32]);
/* 64 lowercase hex digits and a NUL. */
void sha256_final_hex(sha256_ctx *c, char hex[65]);
void sha256_hex(const void *data, size_t n, char hex[65]);

#endif
