/* Loader for the fixtures in tests/unit/data/tls_pcap/ (NAME.STREAM.txt), the TLS
 * extracted from pcaps/ by tests/unit/data/gen_tls_fixtures.py: "C <hex>" /
 * "S <hex>" segments in capture order and "key value" lines with tshark's
 * reading. Included by test_tls_pcap.c and test_fingerprint.c only. */
#ifndef VTLS_TEST_TLS_FIXTURE_H
#define VTLS_TEST_TLS_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dissectors/tls.h"

#define FIX_MAX_SEGS 256

struct fixture {
    char name[512];
    char ja3_full[1024], ja3[64], sni[256], alpn[64];
    char ja3s_full[512], ja3s[64], cipher[16], version[16];
    int nseg;
    int dir[FIX_MAX_SEGS];
    uint8_t *seg[FIX_MAX_SEGS];
    size_t len[FIX_MAX_SEGS];
};

static inline int fix_hex(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static inline void fix_value(char *dst, size_t cap, const char *v)
{
    snprintf(dst, cap, "%s", v);
    dst[strcspn(dst, "\n")] = '\0';
}

static inline void fix_line(struct fixture *fx, char *line)
{
    char *sp = strchr(line, ' ');
    const char *v = sp ? sp + 1 : "";

    if (sp)
        *sp = '\0';
    if ((strcmp(line, "C") == 0 || strcmp(line, "S") == 0) && fx->nseg < FIX_MAX_SEGS) {
        size_t n = strcspn(v, "\n") / 2;
        uint8_t *b = malloc(n ? n : 1);

        for (size_t i = 0; i < n; i++)
            b[i] = (uint8_t)(fix_hex(v[2 * i]) << 4 | fix_hex(v[2 * i + 1]));
        fx->dir[fx->nseg] = line[0] == 'C' ? TLS_DIR_CLIENT : TLS_DIR_SERVER;
        fx->seg[fx->nseg] = b;
        fx->len[fx->nseg++] = n;
    } else if (strcmp(line, "ja3_full") == 0) {
        fix_value(fx->ja3_full, sizeof(fx->ja3_full), v);
    } else if (strcmp(line, "ja3") == 0) {
        fix_value(fx->ja3, sizeof(fx->ja3), v);
    } else if (strcmp(line, "sni") == 0) {
        fix_value(fx->sni, sizeof(fx->sni), v);
    } else if (strcmp(line, "alpn") == 0) {
        fix_value(fx->alpn, sizeof(fx->alpn), v);
    } else if (strcmp(line, "ja3s_full") == 0) {
        fix_value(fx->ja3s_full, sizeof(fx->ja3s_full), v);
    } else if (strcmp(line, "ja3s") == 0) {
        fix_value(fx->ja3s, sizeof(fx->ja3s), v);
    } else if (strcmp(line, "cipher") == 0) {
        fix_value(fx->cipher, sizeof(fx->cipher), v);
    } else if (strcmp(line, "version") == 0) {
        fix_value(fx->version, sizeof(fx->version), v);
    }
}

/* Load path into fx; returns 0 or -1 when the file cannot be read. */
static inline int fix_load(struct fixture *fx, const char *path)
{
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;

    memset(fx, 0, sizeof(*fx));
    if (!f)
        return -1;
    snprintf(fx->name, sizeof(fx->name), "%s", path);
    while (getline(&line, &cap, f) > 0)
        fix_line(fx, line);
    free(line);
    fclose(f);
    return 0;
}

static inline void fix_free(struct fixture *fx)
{
    for (int i = 0; i < fx->nseg; i++)
        free(fx->seg[i]);
    fx->nseg = 0;
}

/* Feed the conversation in capture order, each segment cut in pieces of
 * `chunk` bytes (0: whole). Returns the final status. */
static inline enum tls_status fix_run(struct tls_parser *p, const struct fixture *fx, size_t chunk)
{
    enum tls_status st = TLS_MORE;

    tls_init(p);
    for (int i = 0; i < fx->nseg && st == TLS_MORE; i++) {
        const uint8_t *b = fx->seg[i];
        size_t left = fx->len[i];

        while (left > 0 && st == TLS_MORE) {
            size_t take = chunk && chunk < left ? chunk : left;

            st = tls_feed(p, fx->dir[i], b, take);
            b += take;
            left -= take;
        }
    }
    return st;
}

#define FIX_DIR VTLS_SOURCE_DIR "/tests/unit/data/tls_pcap/"

#endif
