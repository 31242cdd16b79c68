/* Shared conventions of the application dissectors (mysql_, h2_, http1_,
 * etcd_, zk_): one result type, one direction numbering.
 *
 * Every resumable dissector has the same life cycle, with storage owned by
 * the caller:
 *
 *     x_init(&p);                          allocates nothing
 *     x_feed(&p, dir, bytes, n)            any chunking, even 1 byte at a time,
 *                                          gives the same result
 *     x_gap(&p, dir, n)                    n bytes of dir were lost
 *     x_status(&p) / x_final(&p)           the verdict so far
 *     x_facts(&p)                          what was learned
 *     x_free(&p)                           releases what p owns (safe twice)
 *
 * The values match enum tls_status in dissectors/tls.h (TLS_ERROR -1,
 * TLS_MORE 0, TLS_DONE 1), so a caller can treat all dissectors alike.
 */
#ifndef VTLS_DISSECT_H
#define VTLS_DISSECT_H

/* Directions: same values as enum flow_dir in sensor/flow.h and TLS_DIR_*. */
#define DISSECT_DIR_CLIENT 0 /* bytes sent by the client (client to server) */
#define DISSECT_DIR_SERVER 1 /* bytes sent by the server (server to client) */

enum dissect_status {
    /* The bytes are not this protocol or are malformed before anything was
     * recognised. The parser stays failed: later calls return DISSECT_ERROR
     * at once and cost nothing. Facts gathered before stay readable. */
    DISSECT_ERROR = -1,
    /* Everything offered was consumed (unless a function says otherwise);
     * the facts are not final yet: feed more. */
    DISSECT_MORE = 0,
    /* The verdict is ready: the facts are final, stop feeding this flow.
     * Later calls return DISSECT_DONE and cost nothing. */
    DISSECT_DONE = 1,
};

#endif
