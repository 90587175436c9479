/* A strict enough well-formedness check of the XML (SVG) files the project
 * writes: one root element, every element closed in order, attribute values
 * quoted, no raw '<' or stray '&' in text or attributes.  Returns 0 when well
 * formed, else -1 with what is wrong and where in msg. */
#ifndef DRMM_XML_CHECK_H
#define DRMM_XML_CHECK_H

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static int xml_entity_ok(const char *p)
{
    static const char *ok[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;", "&#"};
    for (int i = 0; i < 6; i++)
        if (!strncmp(p, ok[i], strlen(ok[i])))
            return 1;
    return 0;
}

static int xml_check(const char *s, char *msg, size_t n)
{
    char stack[64][64];
    int depth = 0, roots = 0;
    const char *p = s;
#define XML_FAIL(...) do { snprintf(msg, n, __VA_ARGS__); return -1; } while (0)
    if (!strncmp(p, "<?xml", 5)) {
        p = strstr(p, "?>");
        if (!p) XML_FAIL("unterminated XML declaration");
        p += 2;
    }
    while (*p) {
        if (*p != '<') {
            if (*p == '&' && !xml_entity_ok(p)) XML_FAIL("stray '&' at offset %ld", (long)(p - s));
            if (!depth && !isspace((unsigned char)*p)) XML_FAIL("text outside the root at offset %ld", (long)(p - s));
            p++;
            continue;
        }
        if (p[1] == '/') {   /* end tag */
            const char *q = p + 2, *e = q;
            while (*e && *e != '>') e++;
            if (!*e) XML_FAIL("unterminated end tag at offset %ld", (long)(p - s));
            if (!depth || strlen(stack[depth - 1]) != (size_t)(e - q) || strncmp(stack[depth - 1], q, (size_t)(e - q)))
                XML_FAIL("end tag </%.*s> does not close <%s> at offset %ld", (int)(e - q), q,
                         depth ? stack[depth - 1] : "(none)", (long)(p - s));
            depth--;
            p = e + 1;
            continue;
        }
        const char *q = p + 1;
        int len = 0;
        while (isalnum((unsigned char)q[len]) || q[len] == ':' || q[len] == '-' || q[len] == '_') len++;
        if (!len || len >= 64) XML_FAIL("bad element name at offset %ld", (long)(p - s));
        const char *a = q + len;
        for (;;) {   /* attributes */
            while (isspace((unsigned char)*a)) a++;
            if (*a == '>' || (*a == '/' && a[1] == '>'))
                break;
            int an = 0;
            while (isalnum((unsigned char)a[an]) || a[an] == ':' || a[an] == '-' || a[an] == '_') an++;
            if (!an || a[an] != '=' || (a[an + 1] != '"' && a[an + 1] != '\''))
                XML_FAIL("bad attribute in <%.*s> at offset %ld", len, q, (long)(a - s));
            char quote = a[an + 1];
            const char *v = a + an + 2;
            while (*v && *v != quote) {
                if (*v == '<' || (*v == '&' && !xml_entity_ok(v)))
                    XML_FAIL("bad character in an attribute of <%.*s> at offset %ld", len, q, (long)(v - s));
                v++;
            }
            if (!*v) XML_FAIL("unterminated attribute in <%.*s>", len, q);
            a = v + 1;
        }
        if (!depth && roots++) XML_FAIL("a second root element <%.*s>", len, q);
        if (*a == '/') {
            p = a + 2;
        } else {
            if (depth == 64) XML_FAIL("too deep");
            snprintf(stack[depth++], 64, "%.*s", len, q);
            p = a + 1;
        }
    }
    if (depth) XML_FAIL("<%s> is never closed", stack[depth - 1]);
    if (!roots) XML_FAIL("no root element");
#undef XML_FAIL
    return 0;
}

#endif
