/* Cleartext HTTP/2 dissector with libnghttp2's HPACK inflater. See http2.h
 * for the contract. Wire format: RFC 9113 (frames, SETTINGS), RFC 7541
 * (HPACK). */
#include "dissectors/http2.h"

#include <nghttp2/nghttp2.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* Direction states. */
enum {
    ST_START = 0, /* client direction: preface or frames, decided by byte 0 */
    ST_PREFACE,   /* matching the client preface */
    ST_FHDR,      /* reading a 9-byte frame header */
    ST_PAYLOAD,   /* inside a frame payload (see SUB_*) */
    ST_LOST,      /* no longer parsed */
};

/* Payload stages: fixed fields before the body, the body, the padding. */
enum {
    SUB_PRE = 0, /* Pad Length, priority fields, Promised Stream ID */
    SUB_BODY,
    SUB_PAD,
};

#define NO_LIMIT          UINT32_MAX
#define MAX_FRAME_CEILING 16777215u /* 2^24 - 1, RFC 9113 6.5.2 */

/* ---- Accounting allocator for the inflaters ---------------------------- */

/* Each block carries its size in front, aligned for any type. */
union h2_mem_hdr {
    size_t size;
    max_align_t align;
};

static void *mem_malloc(size_t size, void *ud)
{
    struct h2_mem_ctx *m = ud;
    size_t total = size + sizeof(union h2_mem_hdr);
    union h2_mem_hdr *h;

    if (size > H2_MEM_CAP || m->mem + total > H2_MEM_CAP)
        return NULL;
    h = malloc(total);
    if (h == NULL)
        return NULL;
    h->size = total;
    m->mem += total;
    if (m->mem > m->peak)
        m->peak = m->mem;
    return h + 1;
}

static void mem_free(void *ptr, void *ud)
{
    struct h2_mem_ctx *m = ud;
    union h2_mem_hdr *h;

    if (ptr == NULL)
        return;
    h = (union h2_mem_hdr *)ptr - 1;
    m->mem -= h->size;
    free(h);
}

static void *mem_calloc(size_t nmemb, size_t size, void *ud)
{
    void *ptr;

    if (size != 0 && nmemb > H2_MEM_CAP / size)
        return NULL;
    ptr = mem_malloc(nmemb * size, ud);
    if (ptr != NULL)
        memset(ptr, 0, nmemb * size);
    return ptr;
}

static void *mem_realloc(void *ptr, size_t size, void *ud)
{
    union h2_mem_hdr *old;
    void *np;
    size_t keep;

    if (ptr == NULL)
        return mem_malloc(size, ud);
    old = (union h2_mem_hdr *)ptr - 1;
    np = mem_malloc(size, ud);
    if (np == NULL)
        return NULL;
    keep = old->size - sizeof(union h2_mem_hdr);
    memcpy(np, ptr, keep < size ? keep : size);
    mem_free(ptr, ud);
    return np;
}

/* ---- Small helpers --------------------------------------------------------- */

static void copy_value(struct h2_parser *p, char *out, size_t cap, const uint8_t *s, size_t n)
{
    size_t k = n < cap - 1 ? n : cap - 1;

    for (size_t i = 0; i < k; i++)
        out[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? (char)s[i] : '?';
    out[k] = '\0';
    if (k < n)
        p->facts.cut = true;
}

static bool name_is(const nghttp2_nv *nv, const char *name)
{
    size_t n = strlen(name);

    return nv->namelen == n && memcmp(nv->name, name, n) == 0;
}

static uint32_t be32(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static void fail(struct h2_parser *p, enum h2_error e)
{
    p->status = DISSECT_ERROR;
    p->error = (uint8_t)e;
}

/* ---- Verdict --------------------------------------------------------------- */

static void check_done(struct h2_parser *p)
{
    const struct h2_facts *f = &p->facts;
    bool client_done, server_done;

    if (p->status != DISSECT_MORE)
        return;
    if (!f->recognised) {
        if (f->lost[0] && f->lost[1])
            fail(p, (f->gap[0] || f->gap[1]) ? H2_E_GAP : H2_E_NOT_H2);
        return;
    }
    client_done = f->npaths >= H2_MAX_PATHS || f->decoder_broken[0] || f->lost[0];
    server_done = f->status != 0 || f->decoder_broken[1] || f->lost[1];
    if (client_done && server_done)
        p->status = DISSECT_DONE;
}

static void lose(struct h2_parser *p, int dir, bool malformed)
{
    p->d[dir].st = ST_LOST;
    p->facts.lost[dir] = true;
    if (malformed)
        p->facts.malformed[dir] = true;
    check_done(p);
}

/* A frame broke the rules: before recognition the flow is not HTTP/2. */
static void bad_frame(struct h2_parser *p, int dir)
{
    if (!p->facts.recognised)
        fail(p, H2_E_NOT_H2);
    else
        lose(p, dir, true);
}

/* Servers (gRPC-Go among them) send their SETTINGS before the client's
 * preface arrives, so frames may recognise the flow first: the preface,
 * when it comes, still proves the start was seen. */
static void recognise(struct h2_parser *p, bool preface)
{
    if (preface) {
        p->facts.recognised = true;
        p->facts.midstream = false;
        return;
    }
    if (p->facts.recognised)
        return;
    p->facts.recognised = true;
    p->facts.midstream = !p->facts.preface;
}

/* ---- HPACK ----------------------------------------------------------------- */

static void break_decoder(struct h2_parser *p, int dir, int err)
{
    if (!p->facts.decoder_broken[dir]) {
        p->facts.decoder_broken[dir] = true;
        p->facts.decoder_error[dir] = err;
    }
}

static bool ensure_inflater(struct h2_parser *p, int dir)
{
    struct h2_dir *d = &p->d[dir];
    uint32_t limit;
    int rv;

    if (d->inf != NULL)
        return true;
    if (p->mem == NULL) {
        p->mem = malloc(sizeof(*p->mem));
        if (p->mem == NULL) {
            break_decoder(p, dir, NGHTTP2_ERR_NOMEM);
            return false;
        }
        p->mem->fns = (nghttp2_mem){p->mem, mem_malloc, mem_free, mem_calloc, mem_realloc};
        p->mem->mem = p->mem->peak = sizeof(*p->mem);
    }
    rv = nghttp2_hd_inflate_new2(&d->inf, &p->mem->fns);
    if (rv != 0) {
        d->inf = NULL;
        break_decoder(p, dir, rv);
        return false;
    }
    limit = d->table_limit;
    if (limit == NO_LIMIT)
        limit = p->facts.preface ? H2_DEFAULT_TABLE_SIZE : H2_MIDSTREAM_TABLE_SIZE;
    rv = nghttp2_hd_inflate_change_table_size(d->inf, limit);
    if (rv != 0) {
        break_decoder(p, dir, rv);
        return false;
    }
    return true;
}

/* Apply a SETTINGS_HEADER_TABLE_SIZE limit to the decoder of dir, which is
 * between header blocks. */
static void apply_limit(struct h2_parser *p, int dir, uint32_t limit)
{
    struct h2_dir *d = &p->d[dir];
    int rv;

    if (d->in_block) {
        d->defer_limit = limit;
        return;
    }
    if (d->inf == NULL) {
        d->table_limit = limit;
        return;
    }
    rv = nghttp2_hd_inflate_change_table_size(d->inf, limit);
    if (rv != 0)
        break_decoder(p, dir, rv);
}

static void on_header(struct h2_parser *p, int dir, const nghttp2_nv *nv)
{
    struct h2_facts *f = &p->facts;

    if (dir == DISSECT_DIR_CLIENT) {
        if (name_is(nv, ":path")) {
            f->requests++;
            if (f->npaths < H2_MAX_PATHS)
                copy_value(p, f->paths[f->npaths++], H2_PATH_LEN + 1, nv->value, nv->valuelen);
        } else if (name_is(nv, ":method") && f->method[0] == '\0') {
            copy_value(p, f->method, sizeof(f->method), nv->value, nv->valuelen);
        } else if (name_is(nv, ":authority") && f->authority[0] == '\0') {
            copy_value(p, f->authority, sizeof(f->authority), nv->value, nv->valuelen);
        } else if (name_is(nv, "content-type") && f->content_type[0] == '\0') {
            copy_value(p, f->content_type, sizeof(f->content_type), nv->value, nv->valuelen);
        } else if (name_is(nv, "user-agent") && f->user_agent[0] == '\0') {
            copy_value(p, f->user_agent, sizeof(f->user_agent), nv->value, nv->valuelen);
        }
        return;
    }
    if (name_is(nv, ":status") && f->status == 0 && nv->valuelen == 3) {
        f->status = (uint16_t)((nv->value[0] - '0') * 100 + (nv->value[1] - '0') * 10 +
                               (nv->value[2] - '0'));
        if (f->status < 100 || f->status > 999)
            f->status = 0;
    } else if (name_is(nv, "grpc-status") && !f->has_grpc_status && nv->valuelen >= 1 &&
               nv->valuelen <= 2) {
        uint16_t v = 0;
        for (size_t i = 0; i < nv->valuelen; i++)
            v = (uint16_t)(v * 10 +
                           (nv->value[i] >= '0' && nv->value[i] <= '9' ? nv->value[i] - '0' : 0));
        f->grpc_status = v;
        f->has_grpc_status = true;
    }
}

/* Feed header block bytes to the decoder of dir; final ends the block. */
static void hpack_feed(struct h2_parser *p, int dir, const uint8_t *in, size_t n, bool final)
{
    struct h2_dir *d = &p->d[dir];
    static const uint8_t none[1];

    if (p->facts.decoder_broken[dir] || !ensure_inflater(p, dir))
        return;
    if (in == NULL)
        in = none;
    for (;;) {
        nghttp2_nv nv;
        int flags = 0;
        ssize_t rv = nghttp2_hd_inflate_hd2(d->inf, &nv, &flags, in, n, final);
        if (rv < 0) {
            break_decoder(p, dir, (int)rv);
            return;
        }
        in += rv;
        n -= (size_t)rv;
        if (flags & NGHTTP2_HD_INFLATE_EMIT)
            on_header(p, dir, &nv);
        if (flags & NGHTTP2_HD_INFLATE_FINAL) {
            nghttp2_hd_inflate_end_headers(d->inf);
            return;
        }
        if (!(flags & NGHTTP2_HD_INFLATE_EMIT) && n == 0)
            return;
    }
}

/* Bytes of a header block fragment. */
static void fragment(struct h2_parser *p, int dir, const uint8_t *b, size_t n)
{
    struct h2_dir *d = &p->d[dir];

    if (p->facts.decoder_broken[dir])
        return;
    if (n > H2_MAX_HEADER_BLOCK - d->block_bytes) {
        /* Limitation: a block over the cap is not decoded; the dynamic
         * table may then differ from the encoder's, so the decoder stops. */
        p->facts.blocks_too_large[dir]++;
        break_decoder(p, dir, NGHTTP2_ERR_HEADER_COMP);
        return;
    }
    d->block_bytes += (uint32_t)n;
    hpack_feed(p, dir, b, n, false);
}

static void block_end(struct h2_parser *p, int dir)
{
    struct h2_dir *d = &p->d[dir];

    hpack_feed(p, dir, NULL, 0, true);
    p->facts.header_blocks[dir]++;
    d->in_block = false;
    if (d->defer_limit != NO_LIMIT) {
        apply_limit(p, dir, d->defer_limit);
        d->defer_limit = NO_LIMIT;
    }
}

/* ---- SETTINGS ---------------------------------------------------------------- */

static void settings_entry(struct h2_parser *p, int dir, uint16_t id, uint32_t value)
{
    struct h2_dir *d = &p->d[dir];

    if (id == H2_SETTINGS_HEADER_TABLE_SIZE) {
        d->settings_table = value;
        p->facts.header_table_size[dir] = value;
    } else if (id == H2_SETTINGS_MAX_FRAME_SIZE && value >= H2_DEFAULT_MAX_FRAME &&
               value <= MAX_FRAME_CEILING) {
        /* The peer may now send frames this large to the sender. */
        p->d[1 - dir].max_frame = value;
    }
}

/* A SETTINGS frame (not ACK) of dir is complete: its table size waits for
 * the peer's ACK, then binds the decoder of the other direction. */
static void settings_sent(struct h2_parser *p, int dir)
{
    struct h2_dir *d = &p->d[dir], *peer = &p->d[1 - dir];
    uint32_t v = d->settings_table;

    if (peer->early_acks > 0) {
        peer->early_acks--;
        if (v != NO_LIMIT)
            apply_limit(p, 1 - dir, v);
        return;
    }
    if (d->npending == H2_MAX_PENDING_SETTINGS) {
        /* Limitation: more unacknowledged SETTINGS than we track: the
         * oldest is applied now rather than at its ACK. */
        if (d->pending[0] != NO_LIMIT)
            apply_limit(p, 1 - dir, d->pending[0]);
        memmove(d->pending, d->pending + 1, sizeof(d->pending[0]) * (H2_MAX_PENDING_SETTINGS - 1));
        d->npending--;
    }
    d->pending[d->npending++] = v;
}

/* A SETTINGS ACK in dir acknowledges the oldest SETTINGS of the other
 * direction: dir's encoder uses the new table size from here on. */
static void settings_ack(struct h2_parser *p, int dir)
{
    struct h2_dir *peer = &p->d[1 - dir];
    uint32_t v;

    if (peer->npending == 0) {
        /* Mid-stream, ACKs of SETTINGS sent before the capture are normal. */
        if (p->facts.preface && p->d[dir].early_acks < UINT8_MAX)
            p->d[dir].early_acks++;
        return;
    }
    v = peer->pending[0];
    memmove(peer->pending, peer->pending + 1, sizeof(peer->pending[0]) * (peer->npending - 1));
    peer->npending--;
    if (v != NO_LIMIT)
        apply_limit(p, dir, v);
}

/* ---- Frames ------------------------------------------------------------------ */

static bool is_header_type(uint8_t t)
{
    return t == H2_HEADERS || t == H2_CONTINUATION || t == H2_PUSH_PROMISE;
}

/* Flags each type defines (RFC 9113 6). */
static uint8_t defined_flags(uint8_t type)
{
    switch (type) {
    case H2_DATA:
        return H2_FLAG_END_STREAM | H2_FLAG_PADDED;
    case H2_HEADERS:
        return H2_FLAG_END_STREAM | H2_FLAG_END_HEADERS | H2_FLAG_PADDED | H2_FLAG_PRIORITY;
    case H2_SETTINGS:
    case H2_PING:
        return H2_FLAG_ACK;
    case H2_PUSH_PROMISE:
        return H2_FLAG_END_HEADERS | H2_FLAG_PADDED;
    case H2_CONTINUATION:
        return H2_FLAG_END_HEADERS;
    default:
        return 0;
    }
}

/* Length and stream id rules every endpoint enforces (RFC 9113 6). */
static bool frame_legal(uint8_t type, uint8_t flags, uint32_t len, uint32_t stream)
{
    switch (type) {
    case H2_DATA:
    case H2_HEADERS:
    case H2_CONTINUATION:
    case H2_PUSH_PROMISE:
        return stream != 0;
    case H2_PRIORITY:
        return stream != 0 && len == 5;
    case H2_RST_STREAM:
        return stream != 0 && len == 4;
    case H2_SETTINGS:
        return stream == 0 && len % 6 == 0 && (!(flags & H2_FLAG_ACK) || len == 0);
    case H2_PING:
        return stream == 0 && len == 8;
    case H2_GOAWAY:
        return stream == 0 && len >= 8;
    case H2_WINDOW_UPDATE:
        return len == 4;
    default:
        return true; /* unknown types are ignored (RFC 9113 5.5) */
    }
}

/* The stricter checks used to recognise HTTP/2 without its preface. */
static bool frame_plausible(int dir, uint8_t type, uint8_t flags, uint32_t len, uint32_t stream,
                            bool reserved)
{
    if (type > H2_CONTINUATION || reserved || (flags & ~defined_flags(type)) != 0)
        return false;
    if (!frame_legal(type, flags, len, stream))
        return false;
    /* client-initiated streams are odd; a server pushes on even ones */
    if ((type == H2_HEADERS || type == H2_DATA || type == H2_CONTINUATION) && stream % 2 == 0)
        return false;
    if (type == H2_PUSH_PROMISE && dir == DISSECT_DIR_CLIENT)
        return false;
    return true;
}

/* Bytes of fixed fields before the body. */
static uint32_t pre_len(uint8_t type, uint8_t flags)
{
    uint32_t n = (flags & H2_FLAG_PADDED) ? 1 : 0;

    if (type == H2_HEADERS)
        return n + ((flags & H2_FLAG_PRIORITY) ? 5 : 0);
    if (type == H2_PUSH_PROMISE)
        return n + 4;
    if (type == H2_DATA)
        return n;
    return 0;
}

static void frame_end(struct h2_parser *p, int dir)
{
    struct h2_dir *d = &p->d[dir];

    d->st = ST_FHDR;
    d->fh_len = 0;
    if (is_header_type(d->type)) {
        if (d->flags & H2_FLAG_END_HEADERS)
            block_end(p, dir);
        else
            d->in_block = true;
    } else if (d->type == H2_SETTINGS && !(d->flags & H2_FLAG_ACK)) {
        settings_sent(p, dir);
    } else if (d->type == H2_GOAWAY) {
        p->facts.goaway[dir] = true;
    }
    check_done(p);
}

/* Header-block continuity: CONTINUATION follows its block and nothing
 * else may come between. Returns false when the frame breaks it. */
static bool block_order_ok(struct h2_parser *p, int dir)
{
    struct h2_dir *d = &p->d[dir];

    if (d->in_block)
        return d->type == H2_CONTINUATION && d->stream == d->block_stream;
    if (d->type != H2_CONTINUATION)
        return true;
    if (p->facts.frames[dir] == 0 && !p->facts.preface) {
        /* Mid-stream start inside a header block: the decoder missed it. */
        break_decoder(p, dir, NGHTTP2_ERR_HEADER_COMP);
        return true;
    }
    return false;
}

/* A frame header is complete: check it and set up its payload stages. */
static void frame_begin(struct h2_parser *p, int dir)
{
    struct h2_dir *d = &p->d[dir];
    bool reserved = (d->fh[5] & 0x80) != 0;

    d->len = (uint32_t)d->fh[0] << 16 | (uint32_t)d->fh[1] << 8 | d->fh[2];
    d->type = d->fh[3];
    d->flags = d->fh[4];
    d->stream = be32(d->fh + 5) & 0x7fffffffu;

    if (d->len > d->max_frame || !frame_legal(d->type, d->flags, d->len, d->stream) ||
        (!p->facts.recognised &&
         !frame_plausible(dir, d->type, d->flags, d->len, d->stream, reserved)) ||
        !block_order_ok(p, dir) || pre_len(d->type, d->flags) > d->len) {
        bad_frame(p, dir);
        return;
    }
    p->facts.frames[dir]++;
    if (++d->plausible >= H2_MIDSTREAM_FRAMES)
        recognise(p, false);

    if (d->type == H2_HEADERS || d->type == H2_PUSH_PROMISE) {
        d->block_bytes = 0;
        d->block_stream = d->stream;
    }
    if (d->type == H2_SETTINGS && (d->flags & H2_FLAG_ACK))
        settings_ack(p, dir);
    if (d->type == H2_SETTINGS)
        d->settings_table = NO_LIMIT;
    d->st = ST_PAYLOAD;
    d->sub = SUB_PRE;
    d->left = pre_len(d->type, d->flags);
    d->pad = 0;
    d->small_len = 0;
}

/* The fixed fields before the body are in d->small. */
static void pre_done(struct h2_parser *p, int dir)
{
    struct h2_dir *d = &p->d[dir];
    uint32_t pre = pre_len(d->type, d->flags);

    /* Pad Length (RFC 9113 6.1, 6.2, 6.6): padding must fit the payload */
    d->pad = (d->flags & H2_FLAG_PADDED) ? d->small[0] : 0;
    if (d->pad > d->len - pre) {
        bad_frame(p, dir);
        return;
    }
    d->sub = SUB_BODY;
    d->left = d->len - pre - d->pad;
    d->small_len = 0;
}

/* Move through stages that have no bytes left. */
static void advance(struct h2_parser *p, int dir)
{
    struct h2_dir *d = &p->d[dir];

    while (p->status == DISSECT_MORE && d->st == ST_PAYLOAD && d->left == 0) {
        if (d->sub == SUB_PRE) {
            pre_done(p, dir);
        } else if (d->sub == SUB_BODY) {
            d->sub = SUB_PAD;
            d->left = d->pad;
        } else {
            frame_end(p, dir);
        }
    }
}

static void body_bytes(struct h2_parser *p, int dir, const uint8_t *b, size_t n)
{
    struct h2_dir *d = &p->d[dir];

    if (is_header_type(d->type)) {
        fragment(p, dir, b, n);
        return;
    }
    if (d->type != H2_SETTINGS)
        return;
    /* SETTINGS entries: Identifier (16), Value (32) */
    for (size_t i = 0; i < n; i++) {
        d->small[d->small_len++] = b[i];
        if (d->small_len == 6) {
            settings_entry(p, dir, (uint16_t)(d->small[0] << 8 | d->small[1]), be32(d->small + 2));
            d->small_len = 0;
        }
    }
}

static size_t payload_take(struct h2_parser *p, int dir, const uint8_t *b, size_t n)
{
    struct h2_dir *d = &p->d[dir];
    size_t k = n < d->left ? n : d->left;

    if (d->sub == SUB_PRE) {
        memcpy(d->small + d->small_len, b, k);
        d->small_len = (uint8_t)(d->small_len + k);
    } else if (d->sub == SUB_BODY) {
        body_bytes(p, dir, b, k);
    }
    d->left -= (uint32_t)k;
    advance(p, dir);
    return k;
}

static size_t fhdr_take(struct h2_parser *p, int dir, const uint8_t *b, size_t n)
{
    struct h2_dir *d = &p->d[dir];
    size_t k = 9 - d->fh_len;

    if (k > n)
        k = n;
    memcpy(d->fh + d->fh_len, b, k);
    d->fh_len = (uint8_t)(d->fh_len + k);
    if (d->fh_len == 9) {
        frame_begin(p, dir);
        advance(p, dir);
    }
    return k;
}

static size_t preface_take(struct h2_parser *p, int dir, const uint8_t *b, size_t n)
{
    struct h2_dir *d = &p->d[dir];
    size_t k = H2_PREFACE_LEN - d->left;

    if (k > n)
        k = n;
    if (memcmp(b, &H2_PREFACE[d->left], k) != 0) {
        fail(p, H2_E_NOT_H2);
        return k;
    }
    d->left += (uint32_t)k;
    if (d->left == H2_PREFACE_LEN) {
        p->facts.preface = true;
        recognise(p, true);
        d->st = ST_FHDR;
        d->left = 0;
    }
    return k;
}

void h2_init(struct h2_parser *p)
{
    memset(p, 0, sizeof(*p));
    p->status = DISSECT_MORE;
    for (int i = 0; i < 2; i++) {
        p->d[i].st = i == DISSECT_DIR_CLIENT ? ST_START : ST_FHDR;
        p->d[i].max_frame = H2_DEFAULT_MAX_FRAME;
        p->d[i].table_limit = NO_LIMIT;
        p->d[i].defer_limit = NO_LIMIT;
        p->d[i].settings_table = NO_LIMIT;
        p->facts.header_table_size[i] = H2_NO_TABLE_SIZE;
    }
}

void h2_free(struct h2_parser *p)
{
    for (int i = 0; i < 2; i++) {
        if (p->d[i].inf != NULL)
            nghttp2_hd_inflate_del(p->d[i].inf);
        p->d[i].inf = NULL;
    }
    if (p->mem != NULL) {
        p->mem_peak = p->mem->peak;
        free(p->mem);
        p->mem = NULL;
    }
}

enum dissect_status h2_feed(struct h2_parser *p, int dir, const uint8_t *buf, size_t n)
{
    struct h2_dir *d;

    if (p->status != DISSECT_MORE || (dir != 0 && dir != 1))
        return (enum dissect_status)p->status;
    d = &p->d[dir];
    while (n > 0 && p->status == DISSECT_MORE && d->st != ST_LOST) {
        size_t used = 0;

        switch (d->st) {
        case ST_START:
            d->st = buf[0] == H2_PREFACE[0] ? ST_PREFACE : ST_FHDR;
            continue;
        case ST_PREFACE:
            used = preface_take(p, dir, buf, n);
            break;
        case ST_FHDR:
            used = fhdr_take(p, dir, buf, n);
            break;
        case ST_PAYLOAD:
            used = payload_take(p, dir, buf, n);
            break;
        }
        d->offset += used;
        buf += used;
        n -= used;
    }
    return (enum dissect_status)p->status;
}

enum dissect_status h2_gap(struct h2_parser *p, int dir, uint64_t n)
{
    if (p->status != DISSECT_MORE || (dir != 0 && dir != 1) || n == 0)
        return (enum dissect_status)p->status;
    p->facts.gap[dir] = true;
    p->d[dir].offset += n;
    /* Limitation: no frame resynchronisation after a gap. */
    if (p->d[dir].st != ST_LOST) {
        if (p->d[dir].in_block || p->d[dir].st == ST_PAYLOAD)
            break_decoder(p, dir, NGHTTP2_ERR_HEADER_COMP);
        lose(p, dir, false);
    }
    return (enum dissect_status)p->status;
}

enum dissect_status h2_status(const struct h2_parser *p)
{
    return (enum dissect_status)p->status;
}

enum h2_error h2_error(const struct h2_parser *p)
{
    return (enum h2_error)p->error;
}

const char *h2_error_name(enum h2_error e)
{
    switch (e) {
    case H2_E_NONE:
        return "none";
    case H2_E_NOT_H2:
        return "not-http2";
    case H2_E_GAP:
        return "gap";
    }
    return "unknown";
}

bool h2_final(const struct h2_parser *p)
{
    return p->status == DISSECT_DONE;
}

bool h2_recognised(const struct h2_parser *p)
{
    return p->facts.recognised;
}

const struct h2_facts *h2_facts(const struct h2_parser *p)
{
    return &p->facts;
}

size_t h2_mem(const struct h2_parser *p, size_t *peak)
{
    if (peak != NULL)
        *peak = p->mem != NULL ? p->mem->peak : p->mem_peak;
    return p->mem != NULL ? p->mem->mem : 0;
}

enum h2_probe_result h2_probe(int dir, const uint8_t *buf, size_t n)
{
    const uint8_t *p = buf, *end = buf + n;
    unsigned frames = 0;

    if (dir == DISSECT_DIR_CLIENT && n > 0 && buf[0] == H2_PREFACE[0]) {
        size_t k = n < H2_PREFACE_LEN ? n : H2_PREFACE_LEN;
        if (memcmp(buf, H2_PREFACE, k) != 0)
            return H2_PROBE_NO;
        return k == H2_PREFACE_LEN ? H2_PROBE_PREFACE : H2_PROBE_MORE;
    }
    while (9 <= (size_t)(end - p) && frames < H2_MIDSTREAM_FRAMES) {
        uint32_t len = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
        uint32_t stream = be32(p + 5) & 0x7fffffffu;

        if (len > H2_DEFAULT_MAX_FRAME ||
            !frame_plausible(dir, p[3], p[4], len, stream, (p[5] & 0x80) != 0))
            return H2_PROBE_NO;
        frames++;
        if (len > (size_t)(end - p) - 9)
            break;
        p += 9 + len;
    }
    return frames >= H2_MIDSTREAM_FRAMES ? H2_PROBE_FRAMES : H2_PROBE_MORE;
}
