/* EVE-like JSON lines: the writer (one write() per line on an O_APPEND file
 * or stdout, reopened on request) and the records built from flows.
 */
#ifndef VTLS_EVE_H
#define VTLS_EVE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "sensor/flow.h"

#define EVE_ERRLEN 256

struct eve_stats {
    uint64_t lines;         /* lines written whole */
    uint64_t bytes;         /* bytes written */
    uint64_t write_errors;  /* lines lost: failed or short write (disk full, closed pipe) */
    uint64_t encode_errors; /* records jansson could not encode */
    int last_errno;         /* errno of the last failed write, 0 if none */
};

struct eve_writer;

/* Open path for appending (created 0640 if missing); "-" is stdout.
 * Returns NULL with a message naming the path in err (EVE_ERRLEN bytes). */
struct eve_writer *eve_open(const char *path, char *err);

/* Reopen the file (after logrotate moved it). stdout is left alone.
 * Returns false, keeping the old descriptor, with a message in err. */
bool eve_reopen(struct eve_writer *w, char *err);

/* Write obj as one line with a single write(). Failures are counted in the
 * stats, never fatal. Returns true when the whole line was written. */
bool eve_write(struct eve_writer *w, const json_t *obj);

const struct eve_stats *eve_writer_stats(const struct eve_writer *w);
const char *eve_writer_path(const struct eve_writer *w);

/* Flush nothing (lines are written whole) and close; NULL is a no-op. */
void eve_close(struct eve_writer *w);

/* Record scope. jansson values made on the calling thread between
 * eve_scope_begin() and eve_scope_end() come from a per-thread bump arena
 * (32 KiB; past that, from malloc) and are all released by eve_scope_end():
 * a record costs no malloc/free pair per key and value. Every value made
 * inside must be freed (json_decref) before eve_scope_end(); values made
 * outside may be used and freed inside. Scopes do not nest. Memory jansson
 * hands to its caller (json_dumps) must be released with jansson's free
 * function, never free(). */
void eve_scope_begin(void);
void eve_scope_end(void);

/* Bytes the calling thread's arena has handed out in the open scope (0
 * outside a scope). */
size_t eve_scope_used(void);

/* Format packet time us (microseconds since the epoch) as ISO 8601 UTC with
 * microseconds, e.g. "2026-12-03T15:30:07.123456Z", into buf (32 bytes). */
char *eve_time(uint64_t us, char buf[32]);

/* A new record with the common fields of every event: timestamp (ts_us),
 * event_type, flow_id, community_id (seeded), src (client) and dest (server)
 * address and port, proto, vlan when tagged. Returns NULL on allocation
 * failure. The caller owns the result. */
json_t *eve_record(const struct flow *f, const char *event_type, uint64_t ts_us, uint16_t cid_seed);

/* The flow record written when f ends for reason why: the common fields plus
 * the "flow" object (packets and bytes each way, start, end, age, state,
 * end reason, midstream). Returns NULL on allocation failure. */
json_t *eve_flow_record(const struct flow *f, enum flow_end why, uint16_t cid_seed);

#endif
