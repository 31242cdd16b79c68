/* MySQL / MariaDB connection-phase dissector: a resumable parser over the two
 * reassembled byte streams of one TCP connection, plus a stateless check for
 * MySQL command/result traffic seen without its handshake (mid-stream).
 *
 * Usage (one parser per flow, storage owned by the caller; see dissect.h):
 *
 *     struct mysql_parser mp;
 *     mysql_init(&mp);
 *     for each in-order chunk of direction dir:      (any size, even 1 byte)
 *         before = mysql_offset(&mp, dir);
 *         st = mysql_feed(&mp, dir, bytes, n);
 *         if (st == DISSECT_DONE && mysql_facts(&mp)->tls_handoff) {
 *             used = mysql_offset(&mp, dir) - before; (bytes of this chunk used)
 *             hand bytes + used, n - used to the TLS dissector, and every
 *             later byte of both directions;
 *         }
 *         if (st != DISSECT_MORE) break;
 *     for each hole of n bytes reported by reassembly:
 *         st = mysql_gap(&mp, dir, n);
 *     mysql_free(&mp);                               (owns no heap: no-op)
 *
 * What is parsed (MySQL Client/Server Protocol, "Connection Phase"):
 * - server: the first packet, a protocol-10 greeting (or an ERR packet when
 *   the server refuses the connection), then after the client's plaintext
 *   HandshakeResponse41 the server's next packet (OK, ERR, AuthSwitchRequest
 *   0xfe, AuthMoreData 0x01);
 * - client: the first packet after the greeting: SSLRequest (32-byte payload
 *   with CLIENT_SSL) or HandshakeResponse41.
 *
 * The verdict (DISSECT_DONE) is ready when:
 * - the client sent an SSLRequest: facts.tls_handoff is set and
 *   facts.tls_offset[dir] gives the stream offset of each direction where the
 *   TLS bytes begin (client: right after the SSLRequest packet; server: right
 *   after the greeting packet). mysql_feed() consumes exactly up to that
 *   offset in the client direction and nothing after it. A server sends
 *   nothing between its greeting and the client's answer, so the server's
 *   TLS bytes arrive after the verdict and are never consumed here;
 * - the server answered a plaintext HandshakeResponse41 (facts.reply);
 * - the server's first packet was an ERR packet (facts.greeting_error);
 * - the exchange became malformed after the greeting was recognised
 *   (facts.malformed), or a gap hit it (facts.gap[]).
 * DISSECT_ERROR: the server's first packet is not a greeting (not MySQL, or
 * the capture started mid-stream: use mysql_probe()), the server's first
 * bytes are a TLS record (MYSQL_E_TLS: a mid-stream TLS connection), or a
 * gap came before the greeting was complete. mysql_error() says which.
 *
 * Memory: sizeof(struct mysql_parser) (about 2.6 KiB) in the caller's
 * storage; no heap. Packets of the connection phase are assembled in a
 * fixed buffer of MYSQL_PKT_CAP bytes; a longer packet is parsed from its
 * first MYSQL_PKT_CAP bytes (fields past the cut are reported as truncated).
 *
 * Pure: no I/O, no logging, no global state.
 */
#ifndef VTLS_MYSQL_H
#define VTLS_MYSQL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dissectors/dissect.h"

/* Capability flags (MySQL protocol docs, "Capabilities Flags"). */
#define MYSQL_CAP_LONG_PASSWORD   0x00000001u /* "CLIENT_MYSQL": clear in MariaDB servers */
#define MYSQL_CAP_CONNECT_WITH_DB 0x00000008u
#define MYSQL_CAP_PROTOCOL_41     0x00000200u
#define MYSQL_CAP_SSL             0x00000800u
#define MYSQL_CAP_SECURE_CONN     0x00008000u
#define MYSQL_CAP_PLUGIN_AUTH     0x00080000u
#define MYSQL_CAP_CONNECT_ATTRS   0x00100000u
#define MYSQL_CAP_AUTH_LENENC     0x00200000u /* PLUGIN_AUTH_LENENC_CLIENT_DATA */

/* Caps: connection-phase packet buffer and kept strings (longer strings are
 * cut and flagged). */
#define MYSQL_PKT_CAP      1024
#define MYSQL_VERSION_LEN  63
#define MYSQL_NAME_LEN     63 /* user, database, plugin names */
#define MYSQL_MAX_ATTRS    12
#define MYSQL_ATTR_KEY_LEN 31
#define MYSQL_ATTR_VAL_LEN 63

/* Why a parser failed (mysql_error()). */
enum mysql_error {
    MYSQL_E_NONE = 0,
    MYSQL_E_NOT_MYSQL, /* the server's first packet is not a greeting or ERR */
    MYSQL_E_GREETING,  /* a protocol-10 greeting with a malformed field */
    MYSQL_E_GAP,       /* bytes lost before the greeting was complete */
    MYSQL_E_TLS,       /* the server's first bytes are a TLS record (mid-stream TLS):
                        * not MySQL here, hand the flow to the TLS dissector */
};

/* The server's answer to a plaintext HandshakeResponse41. */
enum mysql_reply {
    MYSQL_REPLY_NONE = 0,
    MYSQL_REPLY_OK,        /* 0x00: logged in */
    MYSQL_REPLY_ERR,       /* 0xff: refused */
    MYSQL_REPLY_SWITCH,    /* 0xfe: AuthSwitchRequest, see switch_plugin */
    MYSQL_REPLY_MORE_DATA, /* 0x01: AuthMoreData (caching_sha2_password ...) */
    MYSQL_REPLY_OTHER,
};

/* One connection attribute (CLIENT_CONNECT_ATTRS), printable ASCII (other
 * bytes become '?'), cut to the caps. */
struct mysql_attr {
    char key[MYSQL_ATTR_KEY_LEN + 1];
    char value[MYSQL_ATTR_VAL_LEN + 1];
};

/* Everything learned. Strings are NUL-terminated, printable ASCII (other
 * bytes become '?'), empty when absent. Valid as filled; final once DONE. */
struct mysql_facts {
    /* Server greeting. */
    bool greeting;       /* a protocol-10 greeting was parsed */
    bool greeting_error; /* the server's first packet was ERR (e.g. host blocked) */
    uint16_t error_code; /* of that ERR packet, or of an ERR reply */
    char server_version[MYSQL_VERSION_LEN + 1]; /* MariaDB's "5.5.5-" removed */
    bool mariadb_prefix;                        /* the version began with "5.5.5-" */
    bool mariadb; /* MariaDB: prefix, "MariaDB" in version, or LONG_PASSWORD clear */
    bool vitess;  /* the version ends with "-Vitess" (vtgate) */
    uint32_t conn_id;
    uint32_t server_caps;  /* low 16 | high 16 << 16 */
    uint32_t mariadb_caps; /* MariaDB extended capabilities (reserved bytes) */
    uint8_t charset;
    uint16_t status;
    char server_plugin[MYSQL_NAME_LEN + 1]; /* default auth plugin */
    bool server_ssl;                        /* greeting offers CLIENT_SSL */

    /* Client answer. */
    bool ssl_request; /* SSLRequest seen */
    bool client_ssl;  /* == ssl_request: the client upgraded to TLS */
    bool response;    /* plaintext HandshakeResponse41 parsed */
    bool old_client;  /* a HandshakeResponse320 (no PROTOCOL_41): not parsed */
    uint32_t client_caps;
    uint32_t max_packet;
    uint8_t client_charset;
    char user[MYSQL_NAME_LEN + 1];
    uint16_t auth_len; /* length of the auth response */
    char database[MYSQL_NAME_LEN + 1];
    char client_plugin[MYSQL_NAME_LEN + 1];
    struct mysql_attr attrs[MYSQL_MAX_ATTRS];
    uint8_t nattrs;          /* attributes kept */
    uint16_t attrs_total;    /* attributes seen (> nattrs: not all kept) */
    bool response_truncated; /* packet over MYSQL_PKT_CAP: later fields missing */

    /* Server reply to the response. */
    enum mysql_reply reply;
    char switch_plugin[MYSQL_NAME_LEN + 1]; /* AuthSwitchRequest plugin */
    uint8_t more_data; /* AuthMoreData first byte (caching_sha2_password: 3 fast
                        * auth done, 4 full authentication requested), 0 if none */

    /* Derived. */
    bool downgrade;         /* server offered SSL, client answered in plaintext */
    bool cleartext;         /* mysql_clear_password used (response or switch) without TLS */
    bool tls_handoff;       /* TLS follows: see tls_offset */
    uint64_t tls_offset[2]; /* per direction: stream offset of the first TLS byte */

    /* Bookkeeping. */
    bool malformed; /* a packet after the greeting was malformed */
    bool gap[2];    /* a gap was reported in that direction */
};

/* Per-direction position (private). */
struct mysql_dir_state {
    uint64_t offset; /* stream bytes consumed (gaps included) */
};

struct mysql_parser {
    struct mysql_facts facts;
    struct mysql_dir_state d[2];
    /* Connection-phase packet being assembled (private). The exchange
     * alternates, so one buffer serves the direction whose turn it is. */
    uint8_t hdr[4];
    uint8_t hdr_len;
    uint32_t pkt_len;  /* payload length from the header */
    uint32_t pkt_have; /* payload bytes seen (kept: min(have, MYSQL_PKT_CAP)) */
    uint8_t buf[MYSQL_PKT_CAP];
    uint8_t state; /* private state machine */
    int8_t status; /* enum dissect_status */
    uint8_t error; /* enum mysql_error */
};

/* Prepare p (caller storage). Never fails; allocates nothing. */
void mysql_init(struct mysql_parser *p);

/* Nothing to release (no heap); present for the common life cycle. */
void mysql_free(struct mysql_parser *p);

/* Feed n in-order bytes of direction dir (DISSECT_DIR_CLIENT or _SERVER).
 * buf is read during the call only; n may be 0. Returns:
 * - DISSECT_MORE: all n bytes consumed, facts not final;
 * - DISSECT_DONE: verdict ready (see top of file). When this call made it
 *   DONE, the bytes consumed are mysql_offset() after minus before: on a
 *   TLS hand-off that is exactly up to facts.tls_offset[dir]. Later calls
 *   consume nothing and return DONE;
 * - DISSECT_ERROR: not MySQL from the start (mysql_error()); stays failed.
 * Bytes the server sends after its greeting and before the client's first
 * packet are consumed and ignored (a server never does so). */
enum dissect_status mysql_feed(struct mysql_parser *p, int dir, const uint8_t *buf, size_t n);

/* n bytes of direction dir were lost. Before the greeting is complete this
 * fails the parser (MYSQL_E_GAP); afterwards it ends it (DONE, facts.gap).
 * Returns the status after the call. */
enum dissect_status mysql_gap(struct mysql_parser *p, int dir, uint64_t n);

enum dissect_status mysql_status(const struct mysql_parser *p);
enum mysql_error mysql_error(const struct mysql_parser *p);
const char *mysql_error_name(enum mysql_error e);
bool mysql_final(const struct mysql_parser *p);

/* Stream bytes of direction dir consumed so far (gaps included). */
uint64_t mysql_offset(const struct mysql_parser *p, int dir);

const struct mysql_facts *mysql_facts(const struct mysql_parser *p);

/* "ok", "err", "switch", "more-data", "other" or "none". */
const char *mysql_reply_name(enum mysql_reply r);

/* Mid-stream recognition of one direction's bytes, starting at a packet
 * boundary (e.g. the first bytes reassembly delivered for a flow whose
 * handshake was not captured). */
enum mysql_probe_result {
    MYSQL_PROBE_NO = 0, /* not MySQL command/result traffic */
    MYSQL_PROBE_MORE,   /* consistent so far; no complete packet to judge yet */
    MYSQL_PROBE_TLS,    /* not MySQL: a TLS record starts here (16 03 0x, 17 03 03 ...) */
    MYSQL_PROBE_YES,    /* packet headers chain over the buffer with plausible
                         * sequence ids and command / response bytes */
};

/* Judge buf[0..n) of direction dir. Client bytes must be commands
 * (sequence id 0, a known command byte; COM_QUERY text printable); server
 * bytes must be responses (sequence id >= 1: OK, ERR, EOF, a column count)
 * followed by packets whose sequence ids go up by one. All complete packets
 * must pass; the last packet may be cut by the end of buf. *packets (may be
 * NULL) receives the number of complete packets checked. Reads only buf. */
enum mysql_probe_result mysql_probe(int dir, const uint8_t *buf, size_t n, unsigned *packets);

#endif
