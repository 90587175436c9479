/* Error reporting for library code: functions return 0 on success and -1 on
 * failure, after writing a message for the user into an err_t the caller
 * owns.  Only programs' main() print it and exit. */
#ifndef DRMM_ERROR_H
#define DRMM_ERROR_H

enum { ERR_RUNTIME = 0, ERR_INPUT = 1 };

typedef struct err_t {
    char msg[1024];
    int kind;    /* ERR_RUNTIME, or ERR_INPUT: the user's data or request is invalid */
} err_t;

/* Formats the message into e (if e is not NULL), kind ERR_RUNTIME; returns -1. */
int err_set(err_t *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same with kind ERR_INPUT (programs exit with their bad-input code). */
int err_input(err_t *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prefixes the message already in e with "prefix: " (context from a caller). */
int err_prefix(err_t *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
