/* Random (version 4) UUIDs from the operating system's random source
 * (getrandom), as lower-case text 8-4-4-4-12.  Names a run across stores. */
#ifndef DRMM_UUID_H
#define DRMM_UUID_H

struct err_t;

#define UUID_TEXT_LEN 36

/* Writes a new UUID and its NUL into out.  0, or -1 with a message in e
 * when the random source fails. */
int uuid_v4(char out[UUID_TEXT_LEN + 1], struct err_t *e);

#endif
