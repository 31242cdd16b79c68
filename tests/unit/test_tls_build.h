/* Test helpers for the TLS unit tests: a byte builder with nested
 * length-prefixed blocks, handshake and record writers, and guard-page
 * buffers (data placed right before a PROT_NONE page, so any over-read
 * faults). Included by test_tls*.c and test_fingerprint.c only. */
#ifndef VTLS_TEST_TLS_BUILD_H
#define VTLS_TEST_TLS_BUILD_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define BB_MAX (200 * 1024)

struct bb {
    uint8_t d[BB_MAX];
    size_t n;
    size_t at[16];
    int lb[16];
    int sp;
};

static inline void bb_init(struct bb *b)
{
    b->n = 0;
    b->sp = 0;
}

static inline void bb_u8(struct bb *b, uint8_t v)
{
    b->d[b->n++] = v;
}

static inline void bb_u16(struct bb *b, uint16_t v)
{
    bb_u8(b, (uint8_t)(v >> 8));
    bb_u8(b, (uint8_t)v);
}

static inline void bb_u24(struct bb *b, uint32_t v)
{
    bb_u8(b, (uint8_t)(v >> 16));
    bb_u16(b, (uint16_t)v);
}

static inline void bb_bytes(struct bb *b, const void *p, size_t n)
{
    memcpy(b->d + b->n, p, n);
    b->n += n;
}

static inline void bb_fill(struct bb *b, uint8_t v, size_t n)
{
    memset(b->d + b->n, v, n);
    b->n += n;
}

/* Open a vector with a lenbytes-byte length prefix, filled by bb_close(). */
static inline void bb_open(struct bb *b, int lenbytes)
{
    b->at[b->sp] = b->n;
    b->lb[b->sp++] = lenbytes;
    b->n += (size_t)lenbytes;
}

static inline void bb_close(struct bb *b)
{
    size_t at = b->at[--b->sp];
    int lb = b->lb[b->sp];
    size_t len = b->n - at - (size_t)lb;

    for (int i = lb - 1; i >= 0; i--) {
        b->d[at + (size_t)i] = (uint8_t)len;
        len >>= 8;
    }
}

/* Handshake message: type, then the body built between hs_open/bb_close. */
static inline void hs_open(struct bb *b, uint8_t type)
{
    bb_u8(b, type);
    bb_open(b, 3);
}

/* Wrap payload p[0..n) into records of content type `type`, at most `frag`
 * bytes each, appending to out. */
static inline void records(struct bb *out, uint8_t type, uint16_t version, const uint8_t *p,
                           size_t n, size_t frag)
{
    do {
        size_t take = n < frag ? n : frag;

        bb_u8(out, type);
        bb_u16(out, version);
        bb_u16(out, (uint16_t)take);
        bb_bytes(out, p, take);
        p += take;
        n -= take;
    } while (n > 0);
}

/* Guard-page copy: the n bytes end exactly where a PROT_NONE page starts. */
struct guard {
    uint8_t *map;
    size_t len;
    uint8_t *data;
};

static inline uint8_t *guard_copy(struct guard *g, const uint8_t *src, size_t n)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t pages = (n + page - 1) / page + 1;

    g->len = pages * page;
    g->map = mmap(NULL, g->len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (g->map == MAP_FAILED)
        abort();
    mprotect(g->map + (pages - 1) * page, page, PROT_NONE);
    g->data = g->map + (pages - 1) * page - n;
    if (n)
        memcpy(g->data, src, n);
    return g->data;
}

static inline void guard_free(struct guard *g)
{
    munmap(g->map, g->len);
}

#endif
