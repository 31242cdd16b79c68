/* Plain HTTP/1.x dissector: the first request line and header block of the
 * client direction, the first status line and header block of the server
 * direction. Used for Vitess web ports (which serve HTTP without TLS) and
 * for etcd's HTTP/1.1 client and peer APIs (dissectors/etcd.h).
 *
 * Usage (one parser per flow, storage owned by the caller; see dissect.h):
 *
 *     struct http1_parser hp;
 *     http1_init(&hp);
 *     st = http1_feed(&hp, dir, bytes, n);  (any chunking gives the same result)
 *     st = http1_gap(&hp, dir, n);
 *     http1_facts(&hp)                      method, path, Host, ...
 *     http1_free(&hp);                      (owns no heap: no-op)
 *
 * Client direction: the first line must be a request line, METHOD SP
 * request-target SP "HTTP/1." DIGIT (RFC 9112 3), with METHOD one of GET,
 * POST, PUT, DELETE, HEAD, OPTIONS, PATCH, CONNECT, TRACE. The method is
 * checked byte by byte as it arrives, so other protocols fail on their
 * first bytes. Server direction: the first line must be a status line,
 * "HTTP/1." DIGIT SP 3DIGIT (RFC 9112 4). Header fields (RFC 9112 5) are
 * read up to the empty line; names compare case-insensitively.
 *
 * Verdict (DISSECT_DONE): the request's header block is complete and the
 * response's header block is complete (or the server direction failed or
 * was lost). DISSECT_ERROR: the client's first bytes are not an HTTP/1.x
 * request (HTTP1_E_NOT_HTTP), or a gap came before the request line was
 * complete (HTTP1_E_GAP). A server direction that is not HTTP after a good
 * request sets facts.response_bad and ends that direction.
 *
 * Caps: a line is kept up to HTTP1_LINE_CAP bytes (longer lines are cut:
 * facts.*_cut); a header block is read up to HTTP1_HEADERS_CAP bytes, then
 * counted as complete with facts.headers_cut[dir]. A request line cut by
 * the cap is accepted when method, space and target start are there (its
 * version is then unknown: version_minor -1).
 *
 * Memory: sizeof(struct http1_parser) (about 3.1 KiB), no heap.
 * Limitation: only the first request and response of a connection are
 * read; a client stream captured mid-stream (not starting at a request
 * line) fails with HTTP1_E_NOT_HTTP.
 */
#ifndef VTLS_HTTP1_H
#define VTLS_HTTP1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dissectors/dissect.h"

#define HTTP1_LINE_CAP    1024
#define HTTP1_HEADERS_CAP (16u * 1024u)
#define HTTP1_PATH_LEN    255
#define HTTP1_VALUE_LEN   127
#define HTTP1_ID_LEN      63 /* etcd member / cluster ids */

enum http1_error {
    HTTP1_E_NONE = 0,
    HTTP1_E_NOT_HTTP, /* the client's first bytes are not an HTTP/1.x request */
    HTTP1_E_GAP,      /* bytes lost before the request line was complete */
};

/* Strings: NUL-terminated, printable ASCII (other bytes become '?'), empty
 * when absent. */
struct http1_facts {
    /* Request (client direction). */
    bool request; /* request line parsed */
    char method[16];
    char path[HTTP1_PATH_LEN + 1]; /* request-target as sent */
    bool path_cut;                 /* longer than HTTP1_PATH_LEN or the line cap */
    int8_t version_minor;          /* 0 or 1 for HTTP/1.0, 1.1; -1 unknown */
    char host[HTTP1_VALUE_LEN + 1];
    char user_agent[HTTP1_VALUE_LEN + 1];
    char content_type[HTTP1_VALUE_LEN + 1];
    bool upgrade_h2c; /* "Upgrade: h2c" */

    /* etcd headers (either direction, first value kept). */
    char x_server_from[HTTP1_ID_LEN + 1];
    char x_etcd_cluster_id[HTTP1_ID_LEN + 1];
    char x_raft_to[HTTP1_ID_LEN + 1];
    char x_server_version[HTTP1_ID_LEN + 1]; /* X-Server-Version */

    /* Response (server direction). */
    bool response;     /* status line parsed */
    bool response_bad; /* server direction is not HTTP/1.x */
    uint16_t status;
    char server[HTTP1_VALUE_LEN + 1]; /* Server header */

    /* Per direction. */
    bool headers_done[2]; /* the empty line ending the header block was seen */
    bool headers_cut[2];  /* the block exceeded HTTP1_HEADERS_CAP */
    bool line_cut[2];     /* some line exceeded HTTP1_LINE_CAP */
    uint16_t headers[2];  /* header fields seen */
    bool gap[2];
};

/* Per-direction state (private). */
struct http1_dir {
    uint8_t st;
    uint16_t line_len; /* bytes kept of the current line */
    bool line_over;    /* the current line is longer than the cap */
    uint32_t block;    /* header block bytes read */
    uint8_t line[HTTP1_LINE_CAP];
};

struct http1_parser {
    struct http1_facts facts;
    struct http1_dir d[2];
    int8_t status; /* enum dissect_status */
    uint8_t error; /* enum http1_error */
};

/* Prepare p (caller storage). Never fails; allocates nothing. */
void http1_init(struct http1_parser *p);

/* Nothing to release; present for the common life cycle. */
void http1_free(struct http1_parser *p);

/* Feed n in-order bytes of direction dir. buf is read during the call
 * only; n may be 0; all bytes are consumed. Returns DISSECT_MORE,
 * DISSECT_DONE or DISSECT_ERROR as described at the top of this file. */
enum dissect_status http1_feed(struct http1_parser *p, int dir, const uint8_t *buf, size_t n);

/* n bytes of direction dir were lost: that direction is no longer parsed.
 * Returns the status after the call. */
enum dissect_status http1_gap(struct http1_parser *p, int dir, uint64_t n);

enum dissect_status http1_status(const struct http1_parser *p);
enum http1_error http1_error(const struct http1_parser *p);
const char *http1_error_name(enum http1_error e);
bool http1_final(const struct http1_parser *p);
const struct http1_facts *http1_facts(const struct http1_parser *p);

/* Could buf[0..n) be the start of an HTTP/1.x request (a known method
 * followed by a space, checked as far as n goes)? 1 yes (method and space
 * seen), 0 no, -1 need more bytes. Reads buf only. */
int http1_probe_request(const uint8_t *buf, size_t n);

#endif
