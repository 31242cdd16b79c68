/* Cleartext HTTP/2 dissector: a resumable parser over the two reassembled
 * byte streams of one TCP connection, decoding header blocks with
 * libnghttp2's HPACK inflater (one per direction, fed every header block in
 * order), plus a stateless frame-chain check for mid-stream recognition.
 *
 * Usage (one parser per flow, storage owned by the caller; see dissect.h):
 *
 *     struct h2_parser hp;
 *     h2_init(&hp);
 *     st = h2_feed(&hp, dir, bytes, n);    (any chunking gives the same result)
 *     st = h2_gap(&hp, dir, n);
 *     h2_recognised(&hp)                   plaintext HTTP/2 established
 *     h2_facts(&hp)                        paths, authority, status, ...
 *     h2_free(&hp);                        frees the inflaters
 *
 * Recognition (facts.recognised):
 * - with a start: the client direction begins with the 24-byte client
 *   preface (RFC 9113 3.4);
 * - mid-stream: a direction whose first byte is not 'P' is read as frames
 *   from its first byte; it is recognised after H2_MIDSTREAM_FRAMES frames
 *   in a row pass the plausibility checks (known type 0-9, length within
 *   the maximum frame size, reserved bit clear, flags defined for the type,
 *   stream id zero or not as the type requires and odd for DATA, HEADERS
 *   and CONTINUATION, fixed lengths of PRIORITY, RST_STREAM, PING,
 *   WINDOW_UPDATE, SETTINGS and GOAWAY). facts.midstream is then set,
 *   and cleared again if the client preface arrives after all (servers
 *   send their SETTINGS without waiting for the preface).
 * Before recognition any failed check fails the parser (DISSECT_ERROR,
 * H2_E_NOT_H2). After it, a malformed frame stops that direction only
 * (facts.lost[dir], facts.malformed[dir]); unknown frame types are skipped.
 *
 * HPACK (RFC 7541) and SETTINGS_HEADER_TABLE_SIZE (RFC 9113 6.5.2): the
 * value a peer sends is the size of ITS decoder's table, i.e. the most the
 * OTHER direction's encoder may use. The sender's peer applies it on
 * receipt and acknowledges; header blocks the peer sends after its ACK may
 * use it. So a SETTINGS frame seen in direction d is remembered, and when
 * the SETTINGS ACK appears in direction 1-d, the value is applied
 * (nghttp2_hd_inflate_change_table_size) to the decoder of direction 1-d,
 * between two of its header blocks, exactly where the encoder switched.
 * The encoder then announces the table size it actually uses with a
 * dynamic table size update, which the inflater checks against that limit.
 * An ACK seen before its SETTINGS (capture reordering across directions)
 * is kept and matched when the SETTINGS arrives.
 *
 * A decoder is broken (facts.decoder_broken[dir], path etc. unknown from
 * then on, frames still parsed) when the inflater fails: typically
 * NGHTTP2_ERR_HEADER_COMP on a reference to a dynamic-table entry created
 * before the capture started (mid-stream), or a header block we could not
 * see whole (a CONTINUATION without its HEADERS, a gap), a block over
 * H2_MAX_HEADER_BLOCK bytes (counted in facts.blocks_too_large, no longer
 * fed, so the table can no longer be trusted), or the memory cap.
 *
 * Verdict (DISSECT_DONE): recognised and nothing more to learn from header
 * blocks: H2_MAX_PATHS request paths kept (or the client decoder broken or
 * direction lost) and a response :status seen (or the server decoder
 * broken or direction lost). Until then DISSECT_MORE; the caller may stop
 * earlier (depth, timeout) and read the facts: h2_recognised() says whether
 * the flow is plaintext HTTP/2.
 * DISSECT_ERROR: not HTTP/2 (H2_E_NOT_H2), or both directions lost to gaps
 * before recognition (H2_E_GAP). An inflater that cannot be created (memory
 * cap) breaks that direction's decoder (decoder_error NGHTTP2_ERR_NOMEM).
 *
 * Memory: sizeof(struct h2_parser) (about 1.2 KiB) in the caller's storage,
 * plus the two inflaters, created on the first header block of each
 * direction and allocated through an accounting allocator capped at
 * H2_MEM_CAP bytes per parser (measured: 4.6-5.1 KiB for both on gRPC
 * flows: the dynamic tables and the buffer of the field being decoded,
 * plus the accounting block). h2_mem() reports it.
 * Header block bytes are streamed into the inflater, never assembled here.
 *
 * Pure apart from libnghttp2: no I/O, no logging, no global state.
 */
#ifndef VTLS_HTTP2_H
#define VTLS_HTTP2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nghttp2/nghttp2.h>

#include "dissectors/dissect.h"

#define H2_PREFACE            "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define H2_PREFACE_LEN        24
#define H2_DEFAULT_MAX_FRAME  16384u
#define H2_DEFAULT_TABLE_SIZE 4096u
/* Table size limit a mid-stream decoder accepts: it never saw SETTINGS. */
#define H2_MIDSTREAM_TABLE_SIZE (64u * 1024u)
#define H2_MAX_HEADER_BLOCK     (64u * 1024u)  /* one header block, all fragments */
#define H2_MEM_CAP              (160u * 1024u) /* heap of both inflaters */
#define H2_MIDSTREAM_FRAMES     2
#define H2_MAX_PENDING_SETTINGS 4
#define H2_NO_TABLE_SIZE        UINT32_MAX

/* Kept per flow (longer values are cut, flagged in facts.cut). */
#define H2_MAX_PATHS 4
#define H2_PATH_LEN  127
#define H2_VALUE_LEN 95

/* Frame types (RFC 9113 6). */
enum h2_frame_type {
    H2_DATA = 0,
    H2_HEADERS = 1,
    H2_PRIORITY = 2,
    H2_RST_STREAM = 3,
    H2_SETTINGS = 4,
    H2_PUSH_PROMISE = 5,
    H2_PING = 6,
    H2_GOAWAY = 7,
    H2_WINDOW_UPDATE = 8,
    H2_CONTINUATION = 9,
};

/* Frame flags. */
#define H2_FLAG_END_STREAM  0x01
#define H2_FLAG_ACK         0x01
#define H2_FLAG_END_HEADERS 0x04
#define H2_FLAG_PADDED      0x08
#define H2_FLAG_PRIORITY    0x20

/* SETTINGS identifiers used here. */
#define H2_SETTINGS_HEADER_TABLE_SIZE 0x1
#define H2_SETTINGS_MAX_FRAME_SIZE    0x5

enum h2_error {
    H2_E_NONE = 0,
    H2_E_NOT_H2, /* bad preface, or frames failed the plausibility checks */
    H2_E_GAP,    /* both directions lost to gaps before recognition */
};

/* Everything learned. Strings: NUL-terminated, printable ASCII (other
 * bytes become '?'), empty when not seen. Directions index [2] arrays. */
struct h2_facts {
    bool recognised; /* plaintext HTTP/2 established */
    bool preface;    /* client preface seen */
    bool midstream;  /* recognised from frames without the preface */

    /* From client header blocks: the first H2_MAX_PATHS :path values. */
    char paths[H2_MAX_PATHS][H2_PATH_LEN + 1];
    uint8_t npaths;
    uint32_t requests; /* client header blocks carrying :path */
    char method[16];   /* first :method */
    char authority[H2_VALUE_LEN + 1];
    char content_type[H2_VALUE_LEN + 1]; /* first request content-type */
    char user_agent[H2_VALUE_LEN + 1];
    bool cut; /* a kept value was longer than its field */

    /* From server header blocks. */
    uint16_t status; /* first :status, 0 if none */
    bool has_grpc_status;
    uint16_t grpc_status; /* first grpc-status (trailers) */

    /* Per direction. */
    uint32_t frames[2];
    uint32_t header_blocks[2];    /* header blocks completed */
    uint32_t blocks_too_large[2]; /* over H2_MAX_HEADER_BLOCK */
    bool decoder_broken[2];
    int decoder_error[2];          /* the nghttp2 error code that broke it, 0 if none */
    uint32_t header_table_size[2]; /* last SETTINGS_HEADER_TABLE_SIZE sent, or H2_NO_TABLE_SIZE */
    bool goaway[2];
    bool lost[2]; /* the direction is no longer parsed (gap or malformed) */
    bool gap[2];
    bool malformed[2];
};

/* Per-direction state (private). */
struct h2_dir {
    uint64_t offset;
    uint8_t st, sub;
    uint8_t fh[9], fh_len; /* frame header being read */
    uint8_t type, flags;
    uint32_t len, stream;
    uint32_t left; /* bytes of the current stage */
    uint32_t pad;  /* padding after the body */
    uint8_t small[8], small_len;
    uint32_t plausible; /* frames in a row that passed the checks */
    uint32_t max_frame; /* largest frame this direction may send */
    bool in_block;      /* a header block waits for CONTINUATION */
    uint32_t block_stream, block_bytes;
    struct nghttp2_hd_inflater *inf;
    uint32_t table_limit;    /* settings limit to apply at creation (UINT32_MAX: default) */
    uint32_t defer_limit;    /* limit to apply at the end of the open block (UINT32_MAX: none) */
    uint32_t settings_table; /* HEADER_TABLE_SIZE in the SETTINGS frame being read */
    /* SETTINGS this direction sent, not yet acknowledged: table size or
     * UINT32_MAX when the frame did not carry one. */
    uint32_t pending[H2_MAX_PENDING_SETTINGS];
    uint8_t npending;
    uint8_t early_acks; /* ACKs seen (other direction) before the SETTINGS */
};

/* Heap accounting shared by a parser's two inflaters (private). The
 * inflaters keep a pointer to its nghttp2_mem (nghttp2 1.52 hd contexts
 * store it), so it lives on the heap and the parser itself may be moved. */
struct h2_mem_ctx {
    nghttp2_mem fns;
    size_t mem, peak; /* bytes, this block included */
};

struct h2_parser {
    struct h2_facts facts;
    struct h2_dir d[2];
    struct h2_mem_ctx *mem; /* created with the first inflater */
    size_t mem_peak;        /* kept after h2_free() */
    int8_t status;          /* enum dissect_status */
    uint8_t error;          /* enum h2_error */
};

/* Prepare p (caller storage). Allocates nothing. */
void h2_init(struct h2_parser *p);

/* Delete both inflaters. p may be re-initialised. Safe to call twice. */
void h2_free(struct h2_parser *p);

/* Feed n in-order bytes of direction dir. buf is read during the call
 * only; n may be 0. All n bytes are consumed. Returns DISSECT_MORE,
 * DISSECT_DONE or DISSECT_ERROR as described at the top of this file. */
enum dissect_status h2_feed(struct h2_parser *p, int dir, const uint8_t *buf, size_t n);

/* n bytes of direction dir were lost: the direction is no longer parsed
 * (frame sync and HPACK state are gone). Returns the status after the
 * call: DONE if recognised and nothing more can be learned, ERROR
 * (H2_E_GAP) if both directions are lost before recognition. */
enum dissect_status h2_gap(struct h2_parser *p, int dir, uint64_t n);

enum dissect_status h2_status(const struct h2_parser *p);
enum h2_error h2_error(const struct h2_parser *p);
const char *h2_error_name(enum h2_error e);
bool h2_final(const struct h2_parser *p);
bool h2_recognised(const struct h2_parser *p);
const struct h2_facts *h2_facts(const struct h2_parser *p);

/* Heap bytes the inflaters hold now, and the most they ever held. */
size_t h2_mem(const struct h2_parser *p, size_t *peak);

enum h2_probe_result {
    H2_PROBE_NO = 0,  /* not HTTP/2 */
    H2_PROBE_MORE,    /* consistent so far: fewer than H2_MIDSTREAM_FRAMES frames */
    H2_PROBE_PREFACE, /* the client preface (dir 0 only) */
    H2_PROBE_FRAMES,  /* H2_MIDSTREAM_FRAMES plausible frame headers chain */
};

/* Judge the first bytes of one direction (stateless; reads buf[0..n)
 * only). Frames are checked as described above with the default maximum
 * frame size. */
enum h2_probe_result h2_probe(int dir, const uint8_t *buf, size_t n);

#endif
