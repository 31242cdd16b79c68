/* TLS handshake dissector: a resumable, allocation-light parser over the two
 * reassembled byte streams of one TCP connection.
 *
 * Usage (one parser per flow, storage owned by the caller):
 *
 *     struct tls_parser tp;
 *     tls_init(&tp);
 *     for each in-order chunk of direction dir:      (any size, even 1 byte)
 *         st = tls_feed(&tp, dir, bytes, n);
 *         if (st != TLS_MORE) break;                 (DONE: facts final; ERROR)
 *     for each hole of n bytes reported by reassembly:
 *         st = tls_gap(&tp, dir, n);
 *     ... read tls_facts(&tp), tls_cert_der(&tp, TLS_DIR_SERVER, i, &len) ...
 *     tls_free(&tp);
 *
 * Result convention (the same for every call that takes bytes):
 * - TLS_MORE  all n bytes were consumed; the facts are not final yet.
 * - TLS_DONE  the verdict is ready (see below): stop feeding this flow, its
 *             facts are final. Further calls return TLS_DONE and cost nothing.
 * - TLS_ERROR the input is not TLS or is malformed (see tls_error()); the
 *             parser stays failed and further calls return TLS_ERROR at once.
 *             Facts parsed before the error stay readable (e.g. the SNI).
 * tls_need() says how many more bytes of a direction would complete the
 * record or message being assembled.
 *
 * The verdict is ready when one of these holds:
 * - an alert was seen in plaintext (except the warnings no_certificate and
 *   no_renegotiation) or an encrypted alert record;
 * - TLS 1.3 was selected by a ServerHello (not a HelloRetryRequest): the rest
 *   of the handshake, certificates included, is encrypted;
 * - TLS 1.2 or older, full handshake: ServerHelloDone was seen and then the
 *   client's answer began (its Certificate, ClientKeyExchange or
 *   ChangeCipherSpec, or an alert such as unknown_ca rejecting the server's
 *   certificate);
 * - an abbreviated (resumed) handshake reached the server's ChangeCipherSpec;
 * - application data appeared in a direction before the above, both
 *   directions became encrypted, an SSLv2 ServerHello was seen, or gaps made
 *   both directions unreadable.
 *
 * Memory: sizeof(struct tls_parser) (about 2.1 KiB) in the caller's storage.
 * Heap use is bounded and happens only when a handshake message arrives in
 * pieces (buffer grown as bytes arrive, never from a claimed length, at most
 * TLS_MAX_HS_MSG per direction) and to keep certificate DER (one block per
 * Certificate message, at most the message's size). Buffers used for
 * reassembly are freed as soon as the verdict is ready; certificates stay
 * until tls_free(). tls_mem() reports current and peak heap bytes.
 *
 * The parser is pure: no I/O, no logging, no global state.
 */
#ifndef VTLS_TLS_H
#define VTLS_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Directions: same values as enum flow_dir in sensor/flow.h. */
#define TLS_DIR_CLIENT 0 /* bytes sent by the client (client to server) */
#define TLS_DIR_SERVER 1 /* bytes sent by the server (server to client) */

/* Caps. A handshake message longer than TLS_MAX_HS_MSG is an error for
 * hellos and skipped (counted in facts.oversize_msgs) for other messages. */
#define TLS_MAX_HS_MSG        (64u * 1024u)
#define TLS_MAX_CIPHERS       256
#define TLS_MAX_EXTS          64
#define TLS_MAX_GROUPS        48
#define TLS_MAX_POINT_FORMATS 8
#define TLS_MAX_SIGALGS       64
#define TLS_MAX_VERSIONS      16
#define TLS_MAX_KEY_SHARES    8
#define TLS_MAX_ALPN          8  /* ALPN protocol names kept */
#define TLS_ALPN_LEN          32 /* bytes kept of each ALPN name */
#define TLS_SNI_LEN           255
#define TLS_MAX_CERTS         10 /* certificates kept per Certificate message */

/* Protocol version numbers as on the wire. */
#define TLS_V_SSL2 0x0002
#define TLS_V_SSL3 0x0300
#define TLS_V_10   0x0301
#define TLS_V_11   0x0302
#define TLS_V_12   0x0303
#define TLS_V_13   0x0304

/* Extension types used by the parser and the fingerprints. */
#define TLS_EXT_SERVER_NAME        0
#define TLS_EXT_SUPPORTED_GROUPS   10
#define TLS_EXT_EC_POINT_FORMATS   11
#define TLS_EXT_SIGNATURE_ALGS     13
#define TLS_EXT_ALPN               16
#define TLS_EXT_EXTENDED_MS        23
#define TLS_EXT_SESSION_TICKET     35
#define TLS_EXT_PRE_SHARED_KEY     41
#define TLS_EXT_EARLY_DATA         42
#define TLS_EXT_SUPPORTED_VERSIONS 43
#define TLS_EXT_PSK_KEX_MODES      45
#define TLS_EXT_KEY_SHARE          51
#define TLS_EXT_RENEGOTIATION_INFO 0xff01

enum tls_status {
    TLS_ERROR = -1,
    TLS_MORE = 0,
    TLS_DONE = 1,
};

/* Why a parser failed (tls_error()). */
enum tls_error {
    TLS_E_NONE = 0,
    TLS_E_NOT_TLS,   /* first bytes are not a TLS or SSLv2 record */
    TLS_E_RECORD,    /* bad record header: type, version or length */
    TLS_E_HANDSHAKE, /* a handshake message or one of its fields is malformed */
    TLS_E_ALERT,     /* plaintext alert or ChangeCipherSpec record of wrong size */
    TLS_E_OVERSIZE,  /* a hello longer than TLS_MAX_HS_MSG */
    TLS_E_NOMEM,     /* allocation failed (the flow is given up, not the process) */
};

/* How the session was resumed. */
enum tls_resumption {
    TLS_RESUME_NONE = 0,
    TLS_RESUME_SESSION_ID, /* <= 1.2: server echoed the client's session ID */
    TLS_RESUME_TICKET,     /* <= 1.2: abbreviated handshake after a session ticket */
    TLS_RESUME_PSK,        /* 1.3: ServerHello carries pre_shared_key */
};

/* Client certificate state; names match DESIGN.md's tls.client_cert. */
enum tls_client_cert {
    TLS_CC_UNKNOWN = 0,    /* verdict not reached, or the client side was lost */
    TLS_CC_NOT_REQUESTED,  /* "not-requested": no CertificateRequest (<= 1.2) */
    TLS_CC_REQUESTED_NONE, /* "requested-none": requested, empty or no Certificate */
    TLS_CC_PRESENTED,      /* "presented": at least one certificate sent */
    TLS_CC_NOT_OBSERVABLE, /* "not-observable": TLS 1.3 encrypts it */
};

/* A list of 16-bit values as sent: the first TLS_MAX_* kept in order, and
 * `total` counting all of them (total > n means truncated). GREASE values
 * are kept; consumers filter them with tls_is_grease(). */
#define TLS_U16_LIST(cap)                                                                          \
    struct {                                                                                       \
        uint16_t v[cap];                                                                           \
        uint16_t n, total;                                                                         \
    }

/* The first ClientHello of the connection (the one fingerprinted). */
struct tls_client_hello {
    bool seen;
    bool sslv2;          /* sent as an SSLv2-compatible CLIENT-HELLO */
    bool has_extensions; /* the extensions block was present */
    uint16_t version;    /* legacy_version (client_version) */
    uint16_t record_version;
    uint8_t session_id_len;
    uint8_t session_id[32];
    uint8_t compression_n;  /* number of compression methods */
    uint16_t sslv2_ciphers; /* SSLv2-only cipher kinds (not mappable to 16 bits) */
    TLS_U16_LIST(TLS_MAX_CIPHERS) ciphers;
    TLS_U16_LIST(TLS_MAX_EXTS) exts; /* extension types, wire order */
    TLS_U16_LIST(TLS_MAX_GROUPS) groups;
    TLS_U16_LIST(TLS_MAX_SIGALGS) sigalgs;
    TLS_U16_LIST(TLS_MAX_VERSIONS) versions;     /* supported_versions */
    TLS_U16_LIST(TLS_MAX_KEY_SHARES) key_shares; /* key_share groups */
    uint8_t point_formats[TLS_MAX_POINT_FORMATS];
    uint8_t point_formats_n, point_formats_total;
    /* SNI: first host_name, printable ASCII (other bytes become '?'). */
    bool has_sni, sni_truncated, sni_odd;
    char sni[TLS_SNI_LEN + 1];
    /* ALPN: names as printable strings (non-printable bytes become '?'). */
    bool has_alpn, alpn_truncated;
    uint8_t alpn_n, alpn_total;
    char alpn[TLS_MAX_ALPN][TLS_ALPN_LEN + 1];
    /* First ALPN name, raw: its length and first and last byte (JA4). */
    uint8_t alpn0_len, alpn0_first, alpn0_last;
    bool has_session_ticket, session_ticket_nonempty;
    bool has_psk, has_early_data, has_ems, has_reneg_info;
};

/* The ServerHello (or HelloRetryRequest, see hrr in tls_facts). */
struct tls_server_hello {
    bool seen;
    bool sslv2; /* SSLv2 SERVER-HELLO */
    bool has_extensions;
    uint16_t version;          /* legacy_version (server_version) */
    uint16_t selected_version; /* supported_versions extension, 0 if absent */
    uint16_t cipher;
    uint8_t compression;
    uint8_t session_id_len;
    bool session_id_echo;  /* non-empty and equal to the client's */
    bool downgrade_marker; /* random ends in RFC 8446 4.1.3 "DOWNGRD" bytes */
    TLS_U16_LIST(TLS_MAX_EXTS) exts;
    bool has_alpn;
    char alpn[TLS_ALPN_LEN + 1];
    bool has_key_share;
    uint16_t key_share_group;
    bool has_psk;
    uint16_t psk_identity;
    bool has_session_ticket, has_ems, has_reneg_info;
};

/* Everything learned about the connection. Fields are valid as they are
 * filled; all are final once tls_feed() returned TLS_DONE. */
struct tls_facts {
    struct tls_client_hello ch;
    struct tls_server_hello sh;

    /* Derived. */
    uint16_t version;            /* negotiated (selected_version else legacy), 0 unknown */
    uint16_t client_max_version; /* highest non-GREASE supported_versions, else legacy */
    uint16_t cipher;             /* == sh.cipher when sh.seen */
    enum tls_resumption resumed;
    enum tls_client_cert client_cert;
    bool cert_requested;         /* CertificateRequest seen (<= 1.2) */
    bool server_cert_observable; /* server Certificate seen in plaintext */
    uint16_t server_certs;       /* certificates in it (all, kept or not) */
    uint16_t client_certs;       /* certificates the client presented */

    /* HelloRetryRequest. */
    bool hrr;
    uint16_t hrr_group; /* key_share group asked for, 0 if none */
    uint16_t hrr_cipher;
    uint8_t client_hellos; /* ClientHellos seen (2 after an HRR) */

    /* ServerKeyExchange (<= 1.2). */
    bool ske_seen;
    uint16_t ske_group; /* ECDHE named curve (0 if none or explicit) */
    bool ske_explicit_curve;
    uint16_t ske_dh_bits;  /* DHE / DH_anon prime size in bits */
    uint16_t ske_rsa_bits; /* RSA_EXPORT temporary key size in bits */
    bool server_hello_done;
    bool new_session_ticket; /* server issued a ticket (<= 1.2) */

    /* Alerts: the first one seen. */
    bool alert;
    bool alert_encrypted; /* an alert record after encryption: contents unknown */
    uint8_t alert_level, alert_desc;
    uint8_t alert_dir; /* TLS_DIR_CLIENT or TLS_DIR_SERVER */

    /* Encryption per direction: ChangeCipherSpec (<= 1.2), or application
     * data, or (server, 1.3) the ServerHello. */
    bool encrypted[2];
    bool early_data; /* client application data before the ServerHello */

    /* Bookkeeping. */
    bool gap[2];            /* a gap was reported in that direction */
    uint16_t oversize_msgs; /* non-hello messages over TLS_MAX_HS_MSG skipped */
    uint16_t certs_dropped; /* certificates beyond TLS_MAX_CERTS not kept */
    uint32_t records[2];    /* records seen per direction */
};

/* Per-direction parsing state (private: use the functions). */
struct tls_dir_state {
    uint8_t hdr[5];
    uint8_t hdr_len;
    uint8_t type; /* content type of the current record */
    uint8_t small[2];
    uint8_t small_len;
    bool in_record;
    uint16_t first_version; /* record version of the first record */
    uint16_t rec_len;       /* length of the current record */
    bool lost;              /* a gap broke record sync: nothing more is parsed */
    bool hs_lost;           /* a gap inside a record broke handshake message sync */
    uint32_t rec_left;
    /* Handshake message being assembled. */
    uint8_t hs_hdr[4];
    uint8_t hs_hdr_len;
    bool hs_skip;
    uint8_t hs_type;
    uint32_t hs_len, hs_have;
    uint8_t *buf;
    uint32_t cap;
    /* Certificates kept from this direction's Certificate message. */
    uint8_t *certs;
    size_t certs_size;
    uint32_t cert_off[TLS_MAX_CERTS], cert_len[TLS_MAX_CERTS];
    uint16_t ncerts;
    bool ccs;     /* ChangeCipherSpec seen */
    bool kx_seen; /* client: ClientKeyExchange or Certificate seen */
};

struct tls_parser {
    struct tls_facts facts;
    struct tls_dir_state d[2];
    int8_t status; /* enum tls_status */
    uint8_t error; /* enum tls_error */
    size_t mem, mem_peak;
};

/* Prepare p (caller storage). Never fails; allocates nothing. */
void tls_init(struct tls_parser *p);

/* Release every buffer p owns (certificate DER included). p may be
 * re-initialised with tls_init(). Safe to call twice. */
void tls_free(struct tls_parser *p);

/* Feed n in-order bytes of direction dir (TLS_DIR_CLIENT or TLS_DIR_SERVER).
 * buf is read during the call only. Returns TLS_MORE, TLS_DONE or TLS_ERROR
 * as described at the top of this file. n may be 0. */
enum tls_status tls_feed(struct tls_parser *p, int dir, const uint8_t *buf, size_t n);

/* n bytes of direction dir were lost before the next bytes fed. A gap inside
 * a record body keeps record sync (the record's handshake message is lost);
 * a gap over a record boundary makes the direction unreadable. Returns
 * TLS_DONE when nothing more can be learned (facts.gap[] says why), else the
 * current status. */
enum tls_status tls_gap(struct tls_parser *p, int dir, uint64_t n);

/* Current status, and the reason for TLS_ERROR (TLS_E_NONE otherwise). */
enum tls_status tls_status(const struct tls_parser *p);
enum tls_error tls_error(const struct tls_parser *p);
const char *tls_error_name(enum tls_error e);

/* True once the facts are final (tls_status() == TLS_DONE). */
bool tls_final(const struct tls_parser *p);

/* Bytes of direction dir still needed to finish the record or handshake
 * message in progress (at least 1 while TLS_MORE). */
size_t tls_need(const struct tls_parser *p, int dir);

/* The facts; valid until tls_free(). */
const struct tls_facts *tls_facts(const struct tls_parser *p);

/* Certificates (DER) kept from direction dir's Certificate message (TLS 1.2
 * and older; index 0 is the leaf). tls_cert_count() returns how many are
 * kept; tls_cert_der() returns certificate i and its length in *len, or NULL
 * when i is out of range. Memory owned by p, valid until tls_free(). */
size_t tls_cert_count(const struct tls_parser *p, int dir);
const uint8_t *tls_cert_der(const struct tls_parser *p, int dir, size_t i, size_t *len);

/* Heap bytes owned by p now, and the most it ever owned. */
size_t tls_mem(const struct tls_parser *p, size_t *peak);

/* Does buf (the first bytes of a stream) look like a TLS or SSLv2 record
 * start? 1 yes, 0 no, -1 need more bytes (n < 5 or < 3 for SSLv2). */
int tls_probe(const uint8_t *buf, size_t n);

/* "SSL 2.0", "SSL 3.0", "TLS 1.0" ... "TLS 1.3", or NULL when unknown
 * (GREASE, drafts, 0). tls_version_str() writes the name or "0x%04x" into
 * buf (at least 9 bytes) and returns buf. */
const char *tls_version_name(uint16_t v);
const char *tls_version_str(uint16_t v, char buf[9]);

/* Alert names (RFC 8446 6, RFC 5246 7.2): "handshake_failure", ...; NULL when
 * unknown. Level: "warning", "fatal" or NULL. */
const char *tls_alert_name(uint8_t desc);
const char *tls_alert_level_name(uint8_t level);

/* "presented", "requested-none", "not-requested", "not-observable", "unknown". */
const char *tls_client_cert_name(enum tls_client_cert c);

/* "none", "session-id", "ticket", "psk". */
const char *tls_resumption_name(enum tls_resumption r);

#endif
