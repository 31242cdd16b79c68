/* ZooKeeper client-connection dissector: recognises the client's first
 * frame, a ConnectRequest, or a four-letter admin command.
 *
 * Usage (one parser per flow, storage owned by the caller; see dissect.h):
 *
 *     struct zk_parser zp;
 *     zk_init(&zp);
 *     st = zk_feed(&zp, dir, bytes, n);     (any chunking gives the same result)
 *     st = zk_gap(&zp, dir, n);
 *     zk_facts(&zp)
 *     zk_free(&zp);                         (no heap: no-op)
 *
 * Wire format (ZooKeeper jute serialisation, big-endian; zookeeper.jute
 * ConnectRequest): frame length (int32), then protocolVersion (int32, 0),
 * lastZxidSeen (int64), timeOut (int32, ms), sessionId (int64), passwd
 * (buffer: int32 length + bytes, 16 bytes in practice, -1 for null), and
 * an optional readOnly (bool, 1 byte) that clients since 3.4 send. The
 * frame is consumed exactly by these fields. Measured: python3-kazoo 2.9
 * sends a 45-byte frame (readOnly included; captured against ZooKeeper
 * 3.8.0 on loopback); Vitess' Go client (go-zookeeper) sends 44 (no
 * readOnly). So the frame length is 28 + passwd length (+1), at most 45.
 *
 * Only the client direction is parsed; server bytes are consumed and
 * ignored. Checks run on every prefix as bytes arrive, so other protocols
 * fail within their first bytes.
 *
 * Verdict: DISSECT_DONE once a valid ConnectRequest (facts.connect) or a
 * four-letter command (facts.four_letter: "ruok", "stat", "mntr", ...) was
 * read. DISSECT_ERROR otherwise (zk_error()): ZK_E_TLS when the client
 * starts with a TLS handshake record (16 03: the secure client port; hand
 * the flow to the TLS dissector), ZK_E_NOT_ZK for anything else, ZK_E_GAP
 * when client bytes were lost before the frame was complete.
 *
 * Memory: sizeof(struct zk_parser) (about 100 bytes), no heap.
 * Limitation: a connection captured mid-stream (no ConnectRequest) is not
 * recognised here.
 */
#ifndef VTLS_ZOOKEEPER_H
#define VTLS_ZOOKEEPER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dissectors/dissect.h"

#define ZK_CONNECT_MIN_LEN 28 /* frame length with a null / empty passwd */
#define ZK_CONNECT_MAX_LEN 45 /* 16-byte passwd and readOnly */
#define ZK_PASSWD_LEN      16
#define ZK_MAX_TIMEOUT_MS  3600000 /* sanity bound on the requested session timeout */

enum zk_error {
    ZK_E_NONE = 0,
    ZK_E_NOT_ZK, /* not a ConnectRequest or four-letter command */
    ZK_E_TLS,    /* a TLS record: the client port speaks TLS */
    ZK_E_GAP,    /* client bytes lost before the frame was complete */
};

struct zk_facts {
    bool connect;       /* a valid ConnectRequest */
    uint32_t frame_len; /* its length field */
    int32_t protocol_version;
    int64_t last_zxid;  /* 0 on a first connection */
    int32_t timeout_ms; /* requested session timeout */
    int64_t session_id; /* 0 on a first connection */
    int32_t passwd_len; /* -1 null, else 0..16 */
    bool has_read_only;
    bool read_only;
    bool reconnect;   /* session_id != 0: resuming a session */
    bool four_letter; /* a four-letter admin command */
    char command[5];  /* that command, NUL-terminated */
    bool gap[2];
};

struct zk_parser {
    struct zk_facts facts;
    uint8_t buf[4 + ZK_CONNECT_MAX_LEN]; /* the client's first frame (private) */
    uint8_t have;
    int8_t status; /* enum dissect_status */
    uint8_t error; /* enum zk_error */
};

void zk_init(struct zk_parser *p);
void zk_free(struct zk_parser *p);

/* Feed n in-order bytes of direction dir. buf is read during the call only;
 * n may be 0. Client bytes after the first frame and all server bytes are
 * consumed and ignored. Returns DISSECT_MORE, DISSECT_DONE or
 * DISSECT_ERROR as described at the top of this file. */
enum dissect_status zk_feed(struct zk_parser *p, int dir, const uint8_t *buf, size_t n);

/* n bytes of direction dir were lost. Client bytes lost before the verdict
 * fail the parser (ZK_E_GAP). Returns the status after the call. */
enum dissect_status zk_gap(struct zk_parser *p, int dir, uint64_t n);

enum dissect_status zk_status(const struct zk_parser *p);
enum zk_error zk_error(const struct zk_parser *p);
const char *zk_error_name(enum zk_error e);
bool zk_final(const struct zk_parser *p);
const struct zk_facts *zk_facts(const struct zk_parser *p);

#endif
