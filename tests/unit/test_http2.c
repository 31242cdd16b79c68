/* Unit tests for dissectors/http2.c. Frames are built byte by byte; header
 * blocks are encoded with nghttp2's HPACK deflater (one per direction, as a
 * real endpoint would), so dynamic-table state, table size updates and
 * SETTINGS_HEADER_TABLE_SIZE behave as on the wire. */
#include <criterion/criterion.h>
#include <nghttp2/nghttp2.h>
#include <stdlib.h>
#include <string.h>

#include "dissectors/http2.h"
#include "tests/unit/helper_pkt.h"

#define C DISSECT_DIR_CLIENT
#define S DISSECT_DIR_SERVER

/* ---- A connection transcript: segments in capture order ------------------ */

#define TR_MAX  (200 * 1024)
#define SEG_MAX 256

struct seg {
    int dir;
    size_t off, len; /* into tr.b */
};

struct tr {
    uint8_t b[TR_MAX];
    size_t n;
    struct seg seg[SEG_MAX];
    int nseg;
    nghttp2_hd_deflater *def[2]; /* encoder of each direction */
};

static struct tr *tr_new(void)
{
    struct tr *t = calloc(1, sizeof(*t));
    cr_assert_not_null(t);
    cr_assert_eq(nghttp2_hd_deflate_new(&t->def[C], 4096), 0);
    cr_assert_eq(nghttp2_hd_deflate_new(&t->def[S], 65536), 0);
    return t;
}

static void tr_free(struct tr *t)
{
    nghttp2_hd_deflate_del(t->def[C]);
    nghttp2_hd_deflate_del(t->def[S]);
    free(t);
}

static void emit(struct tr *t, int dir, const void *b, size_t n)
{
    cr_assert(t->n + n <= TR_MAX);
    cr_assert(t->nseg < SEG_MAX);
    memcpy(t->b + t->n, b, n);
    t->seg[t->nseg++] = (struct seg){dir, t->n, n};
    t->n += n;
}

static void frame(struct tr *t, int dir, uint8_t type, uint8_t flags, uint32_t stream,
                  const void *payload, size_t len)
{
    uint8_t h[9] = {(uint8_t)(len >> 16),
                    (uint8_t)(len >> 8),
                    (uint8_t)len,
                    type,
                    flags,
                    (uint8_t)(stream >> 24),
                    (uint8_t)(stream >> 16),
                    (uint8_t)(stream >> 8),
                    (uint8_t)stream};
    emit(t, dir, h, 9);
    if (len > 0)
        emit(t, dir, payload, len);
}

static void preface(struct tr *t)
{
    emit(t, C, H2_PREFACE, H2_PREFACE_LEN);
}

/* SETTINGS with up to 3 (id, value) pairs. */
static void settings(struct tr *t, int dir, int n, const uint32_t *kv)
{
    uint8_t b[18];
    for (int i = 0; i < n; i++) {
        uint16_t id = (uint16_t)kv[2 * i];
        uint32_t v = kv[2 * i + 1];
        uint8_t e[6] = {(uint8_t)(id >> 8), (uint8_t)id,       (uint8_t)(v >> 24),
                        (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
        memcpy(b + 6 * i, e, 6);
    }
    frame(t, dir, H2_SETTINGS, 0, 0, b, (size_t)n * 6);
}

static void settings_ack(struct tr *t, int dir)
{
    frame(t, dir, H2_SETTINGS, H2_FLAG_ACK, 0, NULL, 0);
}

#define NV(n, v)                                                                                   \
    {                                                                                              \
        (uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, sizeof(v) - 1, NGHTTP2_NV_FLAG_NONE         \
    }

/* Encode a header block with dir's deflater; returns its length in out. */
static size_t encode(struct tr *t, int dir, const nghttp2_nv *nv, size_t nnv, uint8_t *out,
                     size_t cap)
{
    ssize_t r = nghttp2_hd_deflate_hd(t->def[dir], out, cap, nv, nnv);
    cr_assert_geq(r, 0);
    return (size_t)r;
}

static void headers(struct tr *t, int dir, uint32_t stream, uint8_t flags, const nghttp2_nv *nv,
                    size_t nnv)
{
    uint8_t blk[8192];
    size_t n = encode(t, dir, nv, nnv, blk, sizeof(blk));
    frame(t, dir, H2_HEADERS, (uint8_t)(flags | H2_FLAG_END_HEADERS), stream, blk, n);
}

static const nghttp2_nv req_execute[] = {
    NV(":method", "POST"),
    NV(":scheme", "http"),
    NV(":path", "/queryservice.Query/Execute"),
    NV(":authority", "zone1-vttablet-100:16100"),
    NV("content-type", "application/grpc"),
    NV("user-agent", "grpc-go/1.63.2"),
    NV("te", "trailers"),
    NV("grpc-timeout", "29999m"),
};
static const nghttp2_nv resp_ok[] = {
    NV(":status", "200"),
    NV("content-type", "application/grpc"),
};
static const nghttp2_nv trailers_ok[] = {
    NV("grpc-status", "0"),
    NV("grpc-message", ""),
};

static void grpc_request(struct tr *t, uint32_t stream, const char *path)
{
    nghttp2_nv nv[8];
    memcpy(nv, req_execute, sizeof(nv));
    nv[2].value = (uint8_t *)path;
    nv[2].valuelen = strlen(path);
    headers(t, C, stream, 0, nv, 8);
    static const uint8_t msg[] = {0, 0, 0, 0, 3, 0x0a, 0x01, 0x78};
    frame(t, C, H2_DATA, H2_FLAG_END_STREAM, stream, msg, sizeof(msg));
}

static void grpc_response(struct tr *t, uint32_t stream)
{
    headers(t, S, stream, 0, resp_ok, 2);
    static const uint8_t msg[] = {0, 0, 0, 0, 2, 0x08, 0x01};
    frame(t, S, H2_DATA, 0, stream, msg, sizeof(msg));
    headers(t, S, stream, H2_FLAG_END_STREAM, trailers_ok, 2);
}

/* A full gRPC connection with n calls. */
static void grpc_connection(struct tr *t, int calls)
{
    static const uint32_t cs[] = {H2_SETTINGS_MAX_FRAME_SIZE, 16384, 0x4, 4194304};
    static const uint32_t ss[] = {H2_SETTINGS_MAX_FRAME_SIZE, 16384};
    static const uint8_t wu[4] = {0, 0x0e, 0xff, 0x01};
    preface(t);
    settings(t, C, 2, cs);
    frame(t, C, H2_WINDOW_UPDATE, 0, 0, wu, 4);
    settings(t, S, 1, ss);
    settings_ack(t, S);
    settings_ack(t, C);
    for (int i = 0; i < calls; i++) {
        static const char *paths[] = {"/queryservice.Query/Execute",
                                      "/queryservice.Query/StreamExecute",
                                      "/queryservice.Query/Begin", "/queryservice.Query/Commit",
                                      "/queryservice.Query/Rollback"};
        grpc_request(t, (uint32_t)(1 + 2 * i), paths[i % 5]);
        grpc_response(t, (uint32_t)(1 + 2 * i));
    }
}

/* Feed one frame directly. */
static void frame_to(struct h2_parser *p, int dir, uint8_t type, uint8_t flags, uint32_t stream,
                     const void *payload, size_t len)
{
    uint8_t h[9] = {(uint8_t)(len >> 16),
                    (uint8_t)(len >> 8),
                    (uint8_t)len,
                    type,
                    flags,
                    (uint8_t)(stream >> 24),
                    (uint8_t)(stream >> 16),
                    (uint8_t)(stream >> 8),
                    (uint8_t)stream};
    h2_feed(p, dir, h, 9);
    h2_feed(p, dir, payload, len);
}

/* ---- Running a transcript ---------------------------------------------------- */

static enum dissect_status run(struct h2_parser *p, const struct tr *t, size_t chunk)
{
    enum dissect_status st = DISSECT_MORE;
    h2_init(p);
    for (int i = 0; i < t->nseg; i++) {
        const struct seg *s = &t->seg[i];
        for (size_t off = 0; off < s->len; off += chunk) {
            size_t k = s->len - off < chunk ? s->len - off : chunk;
            st = h2_feed(p, s->dir, t->b + s->off + off, k);
        }
    }
    return st;
}

/* Each segment whole, from a guard-page copy. */
static enum dissect_status run_guarded(struct h2_parser *p, const struct tr *t)
{
    enum dissect_status st = DISSECT_MORE;
    h2_init(p);
    for (int i = 0; i < t->nseg; i++) {
        const struct seg *s = &t->seg[i];
        const uint8_t *b = s->len <= PKT_MAX ? guard_copy(t->b + s->off, s->len) : t->b + s->off;
        st = h2_feed(p, s->dir, b, s->len);
    }
    return st;
}

/* ---- Tests ------------------------------------------------------------------ */

Test(http2, grpc_connection_facts)
{
    struct tr *t = tr_new();
    struct h2_parser p;
    grpc_connection(t, 1);
    cr_assert_eq(run(&p, t, SIZE_MAX), DISSECT_MORE); /* 1 path < H2_MAX_PATHS */
    const struct h2_facts *f = h2_facts(&p);
    cr_assert(f->recognised && f->preface && !f->midstream);
    cr_assert_eq(f->npaths, 1);
    cr_assert_str_eq(f->paths[0], "/queryservice.Query/Execute");
    cr_assert_str_eq(f->method, "POST");
    cr_assert_str_eq(f->authority, "zone1-vttablet-100:16100");
    cr_assert_str_eq(f->content_type, "application/grpc");
    cr_assert_str_eq(f->user_agent, "grpc-go/1.63.2");
    cr_assert_eq(f->status, 200);
    cr_assert(f->has_grpc_status);
    cr_assert_eq(f->grpc_status, 0);
    cr_assert_eq(f->header_blocks[C], 1);
    cr_assert_eq(f->header_blocks[S], 2);
    cr_assert_eq(f->frames[C], 5);
    cr_assert_eq(f->frames[S], 5);
    cr_assert_eq(f->header_table_size[C], H2_NO_TABLE_SIZE);
    cr_assert(!f->decoder_broken[C] && !f->decoder_broken[S]);
    size_t peak;
    size_t now = h2_mem(&p, &peak);
    cr_assert_gt(now, 0);
    cr_log_info("h2 inflater heap: now %zu, peak %zu bytes", now, peak);
    h2_free(&p);
    cr_assert_eq(h2_mem(&p, NULL), 0);
    h2_free(&p);
    tr_free(t);
}

Test(http2, verdict_after_max_paths)
{
    struct tr *t = tr_new();
    struct h2_parser p;
    grpc_connection(t, 5);
    cr_assert_eq(run(&p, t, SIZE_MAX), DISSECT_DONE);
    const struct h2_facts *f = h2_facts(&p);
    cr_assert_eq(f->npaths, H2_MAX_PATHS);
    cr_assert_eq(f->requests, 4); /* the verdict came at the 4th request */
    cr_assert_str_eq(f->paths[1], "/queryservice.Query/StreamExecute");
    cr_assert_str_eq(f->paths[3], "/queryservice.Query/Commit");
    /* Later calls cost nothing. */
    cr_assert_eq(h2_feed(&p, C, t->b, 10), DISSECT_DONE);
    size_t peak;
    h2_mem(&p, &peak);
    cr_log_info("h2 5 calls: peak inflater heap %zu bytes, parser %zu bytes", peak,
                sizeof(struct h2_parser));
    h2_free(&p);
    tr_free(t);
}

Test(http2, every_chunk_size_same_facts)
{
    struct tr *t = tr_new();
    struct h2_parser whole, part;
    grpc_connection(t, 3);
    enum dissect_status st = run(&whole, t, SIZE_MAX);
    for (size_t k = 1; k <= 40; k++) {
        cr_assert_eq(run(&part, t, k), st, "chunk %zu", k);
        cr_assert(memcmp(&whole.facts, &part.facts, sizeof(whole.facts)) == 0, "chunk %zu", k);
        h2_free(&part);
    }
    h2_free(&whole);
    tr_free(t);
}

/* HEADERS with PADDED and PRIORITY, split into HEADERS + 2 CONTINUATION. */
Test(http2, padding_priority_continuation)
{
    struct tr *t = tr_new();
    struct h2_parser p;
    uint8_t blk[1024], pl[1100];
    preface(t);
    settings(t, C, 0, NULL);
    size_t n = encode(t, C, req_execute, 8, blk, sizeof(blk));
    cr_assert_gt(n, 20);
    /* HEADERS: Pad Length 7, Exclusive+Stream Dependency 0, Weight 15, first 10 bytes */
    size_t a = 10, b = 10;
    pl[0] = 7;
    memcpy(pl + 1, "\x80\x00\x00\x00\x0f", 5);
    memcpy(pl + 6, blk, a);
    memset(pl + 6 + a, 0, 7);
    frame(t, C, H2_HEADERS, H2_FLAG_PADDED | H2_FLAG_PRIORITY, 1, pl, 6 + a + 7);
    frame(t, C, H2_CONTINUATION, 0, 1, blk + a, b);
    frame(t, C, H2_CONTINUATION, H2_FLAG_END_HEADERS, 1, blk + a + b, n - a - b);
    /* padded DATA */
    uint8_t d[12] = {3, 0, 0, 0, 0, 3, 1, 2, 3, 0, 0, 0};
    frame(t, C, H2_DATA, H2_FLAG_PADDED | H2_FLAG_END_STREAM, 1, d, sizeof(d));
    cr_assert_eq(run(&p, t, SIZE_MAX), DISSECT_MORE);
    const struct h2_facts *f = h2_facts(&p);
    cr_assert_eq(f->header_blocks[C], 1);
    cr_assert_str_eq(f->paths[0], "/queryservice.Query/Execute");
    cr_assert(!f->lost[C] && !f->malformed[C]);
    for (size_t k = 1; k <= 9; k++) {
        struct h2_parser q;
        run(&q, t, k);
        cr_assert(memcmp(&p.facts, &q.facts, sizeof(p.facts)) == 0, "chunk %zu", k);
        h2_free(&q);
    }
    h2_free(&p);
    tr_free(t);
}

Test(http2, padding_longer_than_frame_is_malformed)
{
    struct tr *t = tr_new();
    struct h2_parser p;
    uint8_t pl[4] = {9, 'a', 'b', 'c'}; /* Pad Length 9 in a 4-byte frame */
    grpc_connection(t, 1);
    frame(t, C, H2_DATA, H2_FLAG_PADDED, 3, pl, sizeof(pl));
    run(&p, t, SIZE_MAX);
    cr_assert(h2_facts(&p)->malformed[C]);
    cr_assert(h2_facts(&p)->lost[C]);
    cr_assert(h2_recognised(&p));
    h2_free(&p);
    tr_free(t);
}

Test(http2, continuation_interrupted_is_malformed)
{
    struct tr *t = tr_new();
    struct h2_parser p;
    uint8_t blk[512];
    preface(t);
    size_t n = encode(t, C, req_execute, 8, blk, sizeof(blk));
    frame(t, C, H2_HEADERS, 0, 1, blk, n / 2);
    frame(t, C, H2_PING, 0, 0, "12345678", 8);
    run(&p, t, SIZE_MAX);
    cr_assert(h2_facts(&p)->malformed[C]);
    h2_free(&p);
    tr_free(t);
}

/* Many large request headers fill the client's dynamic table; the server
 * gets SETTINGS_HEADER_TABLE_SIZE 256 from the client. The limit must bind
 * the server->client decoder (after the server's ACK), not the client's. */
Test(http2, table_size_applies_to_opposite_direction)
{
    struct tr *t = tr_new();
    struct h2_parser p;
    static const uint32_t small[] = {H2_SETTINGS_HEADER_TABLE_SIZE, 256};
    preface(t);
    settings(t, C, 1, small);
    settings(t, S, 0, NULL);
    settings_ack(t, S); /* the server's encoder now uses <= 256 */
    cr_assert_eq(nghttp2_hd_deflate_change_table_size(t->def[S], 256), 0);
    settings_ack(t, C);
    for (int i = 0; i < 6; i++) {
        /* the client's own encoder keeps 4096: the table fills over 256 bytes */
        grpc_request(t, (uint32_t)(1 + 2 * i), "/tabletmanagerservice.TabletManager/FullStatus");
        grpc_response(t, (uint32_t)(1 + 2 * i));
    }
    cr_assert_eq(run(&p, t, SIZE_MAX), DISSECT_DONE);
    const struct h2_facts *f = h2_facts(&p);
    cr_assert(!f->decoder_broken[C], "client decoder: %d", f->decoder_error[C]);
    cr_assert(!f->decoder_broken[S], "server decoder: %d", f->decoder_error[S]);
    cr_assert_str_eq(f->paths[3], "/tabletmanagerservice.TabletManager/FullStatus");
    cr_assert_eq(f->status, 200);
    cr_assert_eq(f->header_table_size[C], 256);
    h2_free(&p);
    tr_free(t);
}

/* The client allows a 64 KiB table; after the ACK the server's encoder
 * announces 65536 with a dynamic table size update. Applied to the wrong
 * decoder, or before/without the ACK, that update exceeds 4096 and fails. */
static void big_table_connection(struct tr *t, bool ack_first, bool ack)
{
    static const uint32_t big[] = {H2_SETTINGS_HEADER_TABLE_SIZE, 65536};
    preface(t);
    settings(t, C, 1, big);
    settings(t, S, 0, NULL);
    if (ack && ack_first)
        settings_ack(t, S);
    cr_assert_eq(nghttp2_hd_deflate_change_table_size(t->def[S], 65536), 0);
    settings_ack(t, C);
    grpc_request(t, 1, "/vtctlservice.Vtctld/GetKeyspaces");
    grpc_response(t, 1);
    if (ack && !ack_first)
        settings_ack(t, S);
}

Test(http2, table_size_increase_after_ack)
{
    struct tr *t = tr_new();
    struct h2_parser p;
    big_table_connection(t, true, true);
    run(&p, t, SIZE_MAX);
    const struct h2_facts *f = h2_facts(&p);
    cr_assert(!f->decoder_broken[S], "server decoder: %d", f->decoder_error[S]);
    cr_assert_eq(f->status, 200);
    cr_assert_str_eq(f->paths[0], "/vtctlservice.Vtctld/GetKeyspaces");
    for (size_t k = 1; k < 12; k++) {
        struct h2_parser q;
        run(&q, t, k);
        cr_assert(memcmp(&p.facts, &q.facts, sizeof(p.facts)) == 0, "chunk %zu", k);
        h2_free(&q);
    }
    h2_free(&p);
    tr_free(t);
}

Test(http2, table_size_update_before_ack_is_rejected)
{
    struct tr *t = tr_new();
    struct h2_parser p;
    big_table_connection(t, false, true);
    run(&p, t, SIZE_MAX);
    const struct h2_facts *f = h2_facts(&p);
    cr_assert(f->decoder_broken[S]);
    cr_assert_eq(f->decoder_error[S], NGHTTP2_ERR_HEADER_COMP);
    cr_assert(!f->decoder_broken[C]);
    h2_free(&p);
    tr_free(t);
}

/* The server's ACK captured before the client's SETTINGS (reordering). */
Test(http2, early_ack_matched_later)
{
    struct tr *t = tr_new();
    struct h2_parser p;
    static const uint32_t big[] = {H2_SETTINGS_HEADER_TABLE_SIZE, 65536};
    preface(t);
    settings_ack(t, S);
    settings(t, C, 1, big);
    cr_assert_eq(nghttp2_hd_deflate_change_table_size(t->def[S], 65536), 0);
    grpc_request(t, 1, "/vtgateservice.Vitess/Execute");
    grpc_response(t, 1);
    run(&p, t, SIZE_MAX);
    cr_assert(!h2_facts(&p)->decoder_broken[S]);
    cr_assert_eq(h2_facts(&p)->status, 200);
    h2_free(&p);
    tr_free(t);
}

/* The encoder shrinks its table with a dynamic table size update (no
 * SETTINGS change): the decoder follows. */
Test(http2, dynamic_table_size_update)
{
    struct tr *t = tr_new();
    struct h2_parser p;
    grpc_connection(t, 1);
    cr_assert_eq(nghttp2_hd_deflate_change_table_size(t->def[C], 0), 0);
    grpc_request(t, 3, "/queryservice.Query/Begin");
    cr_assert_eq(nghttp2_hd_deflate_change_table_size(t->def[C], 4096), 0);
    grpc_request(t, 5, "/queryservice.Query/Commit");
    run(&p, t, SIZE_MAX);
    const struct h2_facts *f = h2_facts(&p);
    cr_assert(!f->decoder_broken[C], "%d", f->decoder_error[C]);
    cr_assert_eq(f->npaths, 3);
    cr_assert_str_eq(f->paths[2], "/queryservice.Query/Commit");
    h2_free(&p);
    tr_free(t);
}

/* Capture starts after several calls: the dynamic tables hold entries the
 * sensor never saw. HTTP/2 is recognised from the frames; the path is
 * unknown because the block references the unseen dynamic table. */
Test(http2, midstream_dynamic_table_unknown)
{
    struct tr *t = tr_new();
    struct h2_parser p;
    grpc_connection(t, 3);
    int start = t->nseg;
    grpc_request(t, 7, "/queryservice.Query/Execute");
    grpc_response(t, 7);
    h2_init(&p);
    for (int i = start; i < t->nseg; i++)
        h2_feed(&p, t->seg[i].dir, t->b + t->seg[i].off, t->seg[i].len);
    const struct h2_facts *f = h2_facts(&p);
    cr_assert(f->recognised);
    cr_assert(f->midstream);
    cr_assert(!f->preface);
    cr_assert(f->decoder_broken[C]);
    cr_assert_eq(f->decoder_error[C], NGHTTP2_ERR_HEADER_COMP);
    /* nghttp2's encoder never indexes :path, so it may be decoded before the
     * first unknown reference (:authority); what is decoded is never wrong. */
    cr_assert(f->npaths == 0 || strcmp(f->paths[0], "/queryservice.Query/Execute") == 0);
    cr_assert_eq(f->authority[0], '\0');
    cr_assert_eq(h2_status(&p), DISSECT_DONE); /* nothing more to learn */
    h2_free(&p);

    /* A block whose :path is a dynamic-table reference (as Go's encoder
     * sends a repeated path): ":method POST" (static 3), then index 62. */
    static const uint8_t blk[] = {0x83, 0xbe, 0x86};
    h2_init(&p);
    frame_to(&p, C, H2_WINDOW_UPDATE, 0, 0, "\0\0\x01\0", 4);
    frame_to(&p, C, H2_HEADERS, H2_FLAG_END_HEADERS, 9, blk, sizeof(blk));
    cr_assert(h2_recognised(&p));
    cr_assert(h2_facts(&p)->decoder_broken[C]);
    cr_assert_eq(h2_facts(&p)->npaths, 0);
    cr_assert_str_eq(h2_facts(&p)->method, "POST");
    h2_free(&p);
    tr_free(t);
}

/* Mid-stream, but the encoder used literals only (e.g. a new connection's
 * first block missed by a few bytes of handshake): the path is decoded. */
Test(http2, midstream_static_only_decodes)
{
    struct tr *t = tr_new();
    struct h2_parser p;
    static const uint8_t ping[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    frame(t, C, H2_PING, 0, 0, ping, 8);
    grpc_request(t, 1, "/vtctlservice.Vtctld/GetTablets");
    cr_assert_eq(run(&p, t, SIZE_MAX), DISSECT_MORE);
    const struct h2_facts *f = h2_facts(&p);
    cr_assert(f->recognised && f->midstream);
    cr_assert(!f->decoder_broken[C]);
    cr_assert_str_eq(f->paths[0], "/vtctlservice.Vtctld/GetTablets");
    h2_free(&p);
    tr_free(t);
}

Test(http2, midstream_starting_in_continuation)
{
    struct tr *t = tr_new();
    struct h2_parser p;
    static const uint8_t junk[6] = {0x82, 0x86, 0x84, 0x41, 0x8a, 0x08};
    frame(t, C, H2_CONTINUATION, H2_FLAG_END_HEADERS, 1, junk, sizeof(junk));
    frame(t, C, H2_DATA, 0, 1, "\0\0\0\0\0", 5);
    run(&p, t, SIZE_MAX);
    cr_assert(h2_recognised(&p));
    cr_assert(h2_facts(&p)->decoder_broken[C]);
    h2_free(&p);
    tr_free(t);
}

Test(http2, not_http2)
{
    static const struct {
        const char *b;
        size_t n;
    } inputs[] = {
        {"GET / HTTP/1.1\r\nHost: a\r\n\r\n", 27},
        {"PRI * HTTP/1.1\r\n\r\n", 18},
        {"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11},
        {"\x0a\x00\x00\x00\x0a\x38\x2e\x30\x2e\x33\x36\x00\x01\x02", 14},
        /* a valid WINDOW_UPDATE, then an unknown frame type 0x0b */
        {"\x00\x00\x04\x08\x00\x00\x00\x00\x00\x00\x00\x00\x01"
         "\x00\x00\x00\x0b\x00\x00\x00\x00\x01",
         22},
    };
    for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
        struct h2_parser p;
        size_t n = inputs[i].n;
        h2_init(&p);
        cr_assert_eq(h2_feed(&p, C, guard_copy(inputs[i].b, n), n), DISSECT_ERROR, "input %zu", i);
        cr_assert_eq(h2_error(&p), H2_E_NOT_H2);
        cr_assert_eq(h2_feed(&p, C, (const uint8_t *)H2_PREFACE, 24), DISSECT_ERROR);
        h2_free(&p);
    }
    cr_assert_str_eq(h2_error_name(H2_E_NOT_H2), "not-http2");
}

Test(http2, gaps)
{
    struct tr *t = tr_new();
    struct h2_parser p;
    grpc_connection(t, 1);
    run(&p, t, SIZE_MAX);
    /* the client direction is lost and the response :status was seen */
    cr_assert_eq(h2_gap(&p, C, 100), DISSECT_DONE);
    h2_free(&p);

    h2_init(&p);
    cr_assert_eq(h2_gap(&p, C, 10), DISSECT_MORE);
    cr_assert_eq(h2_gap(&p, S, 10), DISSECT_ERROR);
    cr_assert_eq(h2_error(&p), H2_E_GAP);
    h2_free(&p);
    tr_free(t);
}

Test(http2, oversized_header_block)
{
    struct tr *t = tr_new();
    struct h2_parser p;
    static uint8_t junk[16384];
    preface(t);
    memset(junk, 0x82, sizeof(junk)); /* ":method GET" repeated: valid HPACK */
    frame(t, C, H2_HEADERS, 0, 1, junk, sizeof(junk));
    for (int i = 0; i < 4; i++)
        frame(t, C, H2_CONTINUATION, i == 3 ? H2_FLAG_END_HEADERS : 0, 1, junk, sizeof(junk));
    frame(t, C, H2_PING, 0, 0, "12345678", 8);
    run(&p, t, SIZE_MAX);
    const struct h2_facts *f = h2_facts(&p);
    cr_assert_eq(f->blocks_too_large[C], 1);
    cr_assert(f->decoder_broken[C]);
    cr_assert(!f->lost[C]);
    cr_assert_eq(f->frames[C], 6);
    h2_free(&p);
    tr_free(t);
}

Test(http2, frame_too_long_for_max_frame_size)
{
    struct tr *t = tr_new();
    struct h2_parser p;
    static uint8_t big[16385];
    grpc_connection(t, 1);
    frame(t, S, H2_DATA, 0, 1, big, sizeof(big)); /* client allowed only 16384 */
    run(&p, t, SIZE_MAX);
    cr_assert(h2_facts(&p)->malformed[S]);
    h2_free(&p);
    tr_free(t);
}

Test(http2, truncation_at_every_byte)
{
    struct tr *t = tr_new();
    grpc_connection(t, 2);
    /* the client stream alone, cut at every byte */
    static uint8_t cs[4096];
    size_t n = 0;
    for (int i = 0; i < t->nseg; i++)
        if (t->seg[i].dir == C && n + t->seg[i].len <= sizeof(cs)) {
            memcpy(cs + n, t->b + t->seg[i].off, t->seg[i].len);
            n += t->seg[i].len;
        }
    for (size_t k = 0; k <= n; k++) {
        struct h2_parser p;
        h2_init(&p);
        enum dissect_status st = h2_feed(&p, C, guard_copy(cs, k), k);
        cr_assert_eq(st, DISSECT_MORE, "cut %zu", k);
        cr_assert_eq(h2_recognised(&p), k >= H2_PREFACE_LEN);
        h2_free(&p);
    }
    tr_free(t);
}

/* Every frame header byte of every segment replaced by values that read as
 * lengths, types, flags and pad lengths; run against the guard page. */
Test(http2, lying_lengths_and_fields)
{
    static const uint8_t vals[] = {0x00, 0x01, 0x05, 0x08, 0x09, 0x20, 0x40, 0x7f, 0x80, 0xff};
    struct tr *t = tr_new();
    grpc_connection(t, 2);
    for (int s = 0; s < t->nseg; s++) {
        if (t->seg[s].len > PKT_MAX)
            continue;
        size_t lim = t->seg[s].len < 16 ? t->seg[s].len : 16;
        for (size_t pos = 0; pos < lim; pos++)
            for (size_t v = 0; v < sizeof(vals); v++) {
                struct tr *m = malloc(sizeof(*m));
                cr_assert_not_null(m);
                memcpy(m->b, t->b, t->n);
                memcpy(m->seg, t->seg, sizeof(t->seg));
                m->n = t->n;
                m->nseg = t->nseg;
                m->b[t->seg[s].off + pos] = vals[v];
                struct h2_parser p;
                enum dissect_status st = run_guarded(&p, m);
                cr_assert(st == DISSECT_MORE || st == DISSECT_DONE || st == DISSECT_ERROR);
                h2_free(&p);
                free(m);
            }
    }
    tr_free(t);
}

Test(http2, probe)
{
    struct tr *t = tr_new();
    grpc_connection(t, 1);
    cr_assert_eq(h2_probe(C, t->b, t->n), H2_PROBE_PREFACE);
    cr_assert_eq(h2_probe(C, t->b, 10), H2_PROBE_MORE);
    /* server frames: SETTINGS, ACK */
    size_t off = 0;
    for (int i = 0; i < t->nseg; i++)
        if (t->seg[i].dir == S) {
            off = t->seg[i].off;
            break;
        }
    cr_assert_eq(h2_probe(S, t->b + off, 40), H2_PROBE_FRAMES);
    cr_assert_eq(h2_probe(S, t->b + off, 9), H2_PROBE_MORE);
    for (size_t k = 0; k < 40; k++)
        h2_probe(S, guard_copy(t->b + off, k), k);
    static const char get[] = "GET / HTTP/1.1\r\n";
    cr_assert_eq(h2_probe(C, (const uint8_t *)get, sizeof(get) - 1), H2_PROBE_NO);
    cr_assert_eq(h2_probe(S, (const uint8_t *)"HTTP/1.1 200 OK\r\n", 17), H2_PROBE_NO);
    tr_free(t);
}

/* Every frame type, PUSH_PROMISE with padding (decoded by the server-side
 * inflater to keep its table in step), and an unknown type (ignored once
 * HTTP/2 is recognised, RFC 9113 5.5). */
Test(http2, all_frame_types)
{
    struct tr *t = tr_new();
    struct h2_parser p;
    static const nghttp2_nv pushed[] = {
        NV(":method", "GET"),
        NV(":scheme", "http"),
        NV(":path", "/style.css"),
        NV(":authority", "vtadmin:14201"),
    };
    uint8_t blk[512], pl[600];
    grpc_connection(t, 1);
    frame(t, C, H2_PRIORITY, 0, 3, "\x00\x00\x00\x01\x10", 5);
    frame(t, C, H2_RST_STREAM, 0, 3, "\x00\x00\x00\x08", 4);
    frame(t, C, H2_PING, 0, 0, "pingpong", 8);
    frame(t, S, H2_PING, H2_FLAG_ACK, 0, "pingpong", 8);
    frame(t, S, H2_WINDOW_UPDATE, 0, 1, "\x00\x00\x10\x00", 4);
    /* PUSH_PROMISE: Pad Length 2, Promised Stream ID 2, block, padding */
    size_t n = encode(t, S, pushed, 4, blk, sizeof(blk));
    pl[0] = 2;
    memcpy(pl + 1, "\x00\x00\x00\x02", 4);
    memcpy(pl + 5, blk, n);
    memset(pl + 5 + n, 0, 2);
    frame(t, S, H2_PUSH_PROMISE, H2_FLAG_END_HEADERS | H2_FLAG_PADDED, 1, pl, 5 + n + 2);
    frame(t, S, 0x0a, 0, 0, "altsvc", 6); /* ALTSVC: unknown here, skipped */
    grpc_response(t, 3);
    frame(t, S, H2_GOAWAY, 0, 0, "\x00\x00\x00\x03\x00\x00\x00\x00", 8);
    cr_assert_eq(run(&p, t, SIZE_MAX), DISSECT_MORE);
    const struct h2_facts *f = h2_facts(&p);
    cr_assert(!f->lost[C] && !f->lost[S]);
    cr_assert(!f->decoder_broken[S], "%d", f->decoder_error[S]);
    cr_assert(f->goaway[S]);
    cr_assert_eq(f->header_blocks[S], 5); /* 2 + push promise + 2 */
    cr_assert_eq(f->frames[C], 8);
    cr_assert_eq(f->frames[S], 13);
    for (size_t k = 1; k < 10; k++) {
        struct h2_parser q;
        run(&q, t, k);
        cr_assert(memcmp(&p.facts, &q.facts, sizeof(p.facts)) == 0, "chunk %zu", k);
        h2_free(&q);
    }
    h2_free(&p);
    tr_free(t);
}

Test(http2, settings_on_a_stream_is_malformed)
{
    struct tr *t = tr_new();
    struct h2_parser p;
    grpc_connection(t, 1);
    frame(t, C, H2_SETTINGS, 0, 1, NULL, 0); /* SETTINGS on a stream */
    run(&p, t, SIZE_MAX);
    cr_assert(h2_facts(&p)->malformed[C]);
    h2_free(&p);
    tr_free(t);
}

/* The parser may be moved (e.g. a flow table growing) between feeds. */
Test(http2, parser_can_move)
{
    struct tr *t = tr_new();
    struct h2_parser *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
    cr_assert(a != NULL && b != NULL);
    grpc_connection(t, 2);
    h2_init(a);
    int half = t->nseg / 2;
    for (int i = 0; i < half; i++)
        h2_feed(a, t->seg[i].dir, t->b + t->seg[i].off, t->seg[i].len);
    memcpy(b, a, sizeof(*a));
    memset(a, 0xa5, sizeof(*a));
    free(a);
    for (int i = half; i < t->nseg; i++)
        h2_feed(b, t->seg[i].dir, t->b + t->seg[i].off, t->seg[i].len);
    cr_assert_eq(h2_facts(b)->npaths, 2);
    cr_assert(!h2_facts(b)->decoder_broken[C] && !h2_facts(b)->decoder_broken[S]);
    h2_free(b);
    free(b);
    tr_free(t);
}

/* gRPC-Go servers send SETTINGS before the client preface arrives: two
 * server frames recognise the flow first, the preface then shows the start
 * was captured. */
Test(http2, server_settings_before_preface)
{
    struct tr *t = tr_new();
    struct h2_parser p;
    settings(t, S, 0, NULL);
    frame(t, S, H2_WINDOW_UPDATE, 0, 0, "\x00\x00\x10\x00", 4);
    preface(t);
    settings(t, C, 0, NULL);
    settings_ack(t, S);
    settings_ack(t, C);
    grpc_request(t, 1, "/vtgateservice.Vitess/Execute");
    grpc_response(t, 1);
    run(&p, t, SIZE_MAX);
    const struct h2_facts *f = h2_facts(&p);
    cr_assert(f->recognised && f->preface);
    cr_assert(!f->midstream);
    cr_assert_str_eq(f->paths[0], "/vtgateservice.Vitess/Execute");
    cr_assert(!f->decoder_broken[C] && !f->decoder_broken[S]);
    h2_free(&p);
    tr_free(t);
}
