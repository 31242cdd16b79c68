/* Metrics registry: counters, gauges and histograms in labelled families,
 * rendered in the Prometheus text format 0.0.4 or OpenMetrics 1.0.
 *
 * A registry is an explicit object (no globals). One recursive mutex guards
 * it: every update and every render takes it, so the HTTP thread can render
 * while the packet thread updates.
 *
 * Cost model and how to publish from the packet path: an update is a hash of
 * the label values, a short chain walk and a mutex lock/unlock (uncontended:
 * tens of nanoseconds). Do not call it per packet. Keep per-packet counts in
 * your own structs and publish them in batches, e.g. once per second of
 * packet time or every 4096 packets, with metrics_set() of the absolute
 * values, bracketed by metrics_lock()/metrics_unlock() so one scrape never
 * sees half a batch. Per-flow events (a flow's verdict, an alert) are rare
 * enough to call metrics_add() directly.
 *
 * Bounded labels: each family has fixed label names and a cap on distinct
 * label-value combinations (series), METRICS_DEFAULT_CAP unless the spec
 * says otherwise. Beyond the cap:
 *  - METRICS_BOUND_OVERFLOW (default): counter and histogram updates land in
 *    one extra series whose every label value is METRICS_OVERFLOW_VALUE, so
 *    sums over the family stay right; gauge updates and metrics_set() on a
 *    counter are dropped. Both are counted per family and exposed as
 *    vtls_metrics_series_overflow_total{family} (rendered last, only once an
 *    overflow happened) and by metrics_family_stats().
 *  - METRICS_BOUND_LRU: the least recently updated series is evicted to make
 *    room (for vtls_cert_not_after_timestamp_seconds); evictions are counted.
 *
 * Label values are sanitised once when a series is created: truncated to
 * METRICS_VALUE_MAX - 1 bytes at a UTF-8 boundary, invalid UTF-8 and control
 * bytes but newline replaced by '?'. Escaping for the exposition formats (backslash,
 * double quote, newline) happens when rendering.
 */
#ifndef VTLS_METRICS_H
#define VTLS_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define METRICS_ERRLEN         256
#define METRICS_MAX_LABELS     6
#define METRICS_MAX_BUCKETS    24
#define METRICS_VALUE_MAX      128 /* bytes of one stored label value, with its NUL */
#define METRICS_DEFAULT_CAP    1000
#define METRICS_CERT_LRU_CAP   1000
#define METRICS_OVERFLOW_VALUE "_overflow"

enum metrics_type { METRICS_COUNTER, METRICS_GAUGE, METRICS_HISTOGRAM };

enum metrics_bound { METRICS_BOUND_OVERFLOW, METRICS_BOUND_LRU };

enum metrics_format {
    METRICS_FMT_TEXT,       /* text/plain; version=0.0.4 */
    METRICS_FMT_OPENMETRICS /* application/openmetrics-text; version=1.0.0 */
};

#define METRICS_CT_TEXT        "text/plain; version=0.0.4; charset=utf-8"
#define METRICS_CT_OPENMETRICS "application/openmetrics-text; version=1.0.0; charset=utf-8"

struct metrics;
struct metrics_family;

/* What metrics_register() creates. Unset fields take their defaults. */
struct metrics_spec {
    enum metrics_type type;
    const char *name;   /* [a-zA-Z_:][a-zA-Z0-9_:]*; a counter's must end in "_total" */
    const char *help;   /* one line of text; copied */
    const char *labels; /* comma-separated label names ("client,server"), NULL or "" for none */
    size_t cap;         /* max series; 0 means METRICS_DEFAULT_CAP */
    enum metrics_bound bound;
    const double *buckets; /* histogram upper bounds, strictly increasing, finite; no +Inf */
    size_t nbuckets;       /* 1..METRICS_MAX_BUCKETS for a histogram */
};

struct metrics_family_stats {
    size_t series;      /* live series, the overflow series included */
    uint64_t overflows; /* updates sent to the overflow series or dropped */
    uint64_t evictions; /* LRU evictions */
};

/* A growable output buffer. Zero-initialise it; metrics_buf_free() releases. */
struct metrics_buf {
    char *data; /* NUL-terminated when len > 0 */
    size_t len;
    size_t cap;
    bool failed; /* an allocation failed; contents incomplete */
};

void metrics_buf_free(struct metrics_buf *b);

/* A new empty registry, or NULL when out of memory. */
struct metrics *metrics_new(void);

/* Free the registry and all its families; NULL is a no-op. No other thread
 * may use it (stop the HTTP server first). */
void metrics_free(struct metrics *m);

/* Register a family. Returns its handle, owned by the registry and valid
 * until metrics_free(), or NULL with a reason in err (METRICS_ERRLEN bytes):
 * invalid name or label name, duplicate name, too many labels or buckets,
 * out of memory. A family without labels has its one series from the start
 * (value 0), so it is rendered before its first update. */
struct metrics_family *metrics_register(struct metrics *m, const struct metrics_spec *spec,
                                        char *err);

/* The family registered under name, or NULL. */
struct metrics_family *metrics_find(struct metrics *m, const char *name);

/* Updates. vals holds one value per label name of the family, in order (NULL
 * when the family has no labels); a NULL value is stored as "". Return true
 * when applied (to its own series or the overflow series), false when
 * dropped: wrong metric type, a negative delta or NaN on a counter, the
 * series cap (gauges, set on counters), or out of memory.
 *
 * metrics_add: counter or gauge, value += delta.
 * metrics_set: gauge, or a counter published as an absolute value (the
 *   batch pattern above; going down makes Prometheus see a counter reset).
 * metrics_observe: histogram, one observation of v. */
bool metrics_add(struct metrics_family *f, const char *const *vals, double delta);
bool metrics_set(struct metrics_family *f, const char *const *vals, double v);
bool metrics_observe(struct metrics_family *f, const char *const *vals, double v);

/* Remove one series (e.g. a gauge that no longer applies). Returns true when
 * it existed. */
bool metrics_remove(struct metrics_family *f, const char *const *vals);

/* Hold the registry lock across a batch of updates; calls nest. */
void metrics_lock(struct metrics *m);
void metrics_unlock(struct metrics *m);

/* Append the whole registry to out in format fmt, families in registration
 * order, series in creation order. Returns false when an allocation failed
 * (out->failed is then set and out holds a truncated rendering). */
bool metrics_render(struct metrics *m, enum metrics_format fmt, struct metrics_buf *out);

void metrics_family_stats(struct metrics_family *f, struct metrics_family_stats *st);

/* --- The standard vtls_ set ---------------------------------------------
 *
 * Names, types and labels (all registered by metrics_register_std()):
 *  vtls_packets_total                      counter
 *  vtls_bytes_total                        counter
 *  vtls_capture_drops_total                counter  where (kernel|interface)
 *  vtls_decode_errors_total                counter  kind
 *  vtls_parser_errors_total                counter  parser, kind
 *  vtls_flows_active                       gauge
 *  vtls_flows_total                        counter  client, server, app, encryption, tls_version
 *  vtls_tls_handshakes_total               counter  version, cipher_class
 *  vtls_alerts_total                       counter  rule, severity
 *  vtls_alerts_suppressed_total            counter  rule
 *  vtls_cert_not_after_timestamp_seconds   gauge    subject_cn, issuer_cn, fingerprint_sha256,
 *                                                   server  (LRU, METRICS_CERT_LRU_CAP)
 *  vtls_plaintext_last_seen_timestamp_seconds gauge client, server
 *  vtls_tls_handshake_duration_seconds     histogram server (METRICS_HANDSHAKE_BUCKETS)
 *  vtls_flow_evictions_total               counter
 *  vtls_memory_bytes                       gauge
 *  vtls_rules_reloads_total                counter  result (success|failure)
 *  vtls_rules_last_reload_success_timestamp_seconds gauge
 *  vtls_rules_loaded                       gauge
 *  vtls_build_info                         gauge    version, commit, libpcap, ndpi  (always 1)
 * fingerprint_sha256 carries the first 16 hex digits of the certificate's
 * SHA-256, lower case. Timestamps are packet time, seconds since the epoch.
 */
#define METRICS_HANDSHAKE_BUCKETS                                                                  \
    {                                                                                              \
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5                 \
    }

struct metrics_std {
    struct metrics_family *packets, *bytes, *capture_drops, *decode_errors, *parser_errors;
    struct metrics_family *flows_active, *flows, *tls_handshakes, *alerts, *alerts_suppressed;
    struct metrics_family *cert_not_after, *plaintext_last_seen, *handshake_duration;
    struct metrics_family *flow_evictions, *memory, *rules_reloads, *rules_last_reload_success;
    struct metrics_family *rules_loaded, *build_info;
};

struct metrics_build_info {
    const char *version, *commit, *libpcap, *ndpi; /* NULL is rendered as "" */
};

/* Register the standard set in m and fill std with the handles; sets
 * vtls_build_info to 1 with bi's labels. Returns false with err on failure
 * (e.g. a name already registered). */
bool metrics_register_std(struct metrics *m, struct metrics_std *std,
                          const struct metrics_build_info *bi, char *err);

#endif
