/* Rules engine: YAML rule files compiled once into condition trees, then
 * evaluated against struct rules_event with no parsing and no allocation.
 *
 * File format (see rules/vitess-tls.yaml for a complete example): a YAML
 * sequence of items, each a mapping with one of these keys:
 *
 *   - rule: NAME            # required: condition, output, severity
 *     desc: TEXT
 *     condition: EXPR
 *     output: "TEXT with %field or %{field}, %% for a percent sign"
 *     severity: critical | high | medium | low | info
 *     tags: [a, b]
 *     enabled: true           # default true
 *     event: flow             # or certificate; default flow
 *     exceptions:             # do not fire when every field equals a row
 *       - name: NAME
 *         fields: [vitess.client, flow.src_ip]
 *         values: [[vtadmin, 10.0.0.0/8]]   # CIDR for IP fields; a
 *                                           # sequence means "any of"
 *   - list: NAME
 *     items: [a, b, other_list]             # names of earlier lists expand
 *   - macro: NAME
 *     condition: EXPR
 *
 * Conditions: FIELD OP VALUE with OP one of = != < <= > >= contains
 * startswith endswith glob, `FIELD in (v1, v2, list_name)`, `FIELD in
 * list_name`, `FIELD exists`, and, or, not, parentheses, macro names.
 * CIDR membership: `flow.dst_ip in (10.0.0.0/8, fd00::/8)`. Values are
 * bare words or quoted strings ("TLS 1.2"). Comparisons against an absent
 * field are false, `!=` included.
 *
 * Later items (in the same or a later file) change an earlier one of the
 * same kind and name only explicitly, with `override:` naming each key and
 * how: `override: {condition: append, exceptions: append, tags: replace}`.
 * condition/items/tags/exceptions take append or replace; the others only
 * replace. Appending a condition concatenates the text after a space
 * (write `and not ...`); appending an exception with an existing name adds
 * its rows. Shortcut: an item with only `rule: NAME` and `enabled: BOOL`
 * enables or disables an existing rule.
 */
#ifndef VTLS_RULES_H
#define VTLS_RULES_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "rules/event.h"

enum rules_severity {
    RULES_SEV_INFO = 0,
    RULES_SEV_LOW,
    RULES_SEV_MEDIUM,
    RULES_SEV_HIGH,
    RULES_SEV_CRITICAL,
};

struct rules_set;
struct rules_rule;

/* Error messages collected while loading, each "FILE:LINE:COLUMN: message"
 * (1-based). Zero-initialise, then rules_errors_free() when done. */
struct rules_errors {
    size_t count;   /* messages kept */
    size_t dropped; /* messages not kept once RULES_ERRORS_MAX was reached */
    size_t cap;
    char **msg;
};
#define RULES_ERRORS_MAX 200

void rules_errors_free(struct rules_errors *e);
/* Print every message, one per line. */
void rules_errors_print(const struct rules_errors *e, FILE *out);

/* ---- loading ---- */

/* Load and compile the rule files at paths[0..n-1]; a path that is a
 * directory contributes its *.yaml and *.yml files in byte order (names
 * starting with '.' skipped, symlinks followed). Every error found is
 * appended to errs (may be NULL); any error rejects the whole set.
 * Returns the set with one reference owned by the caller, or NULL. */
struct rules_set *rules_load(const char *const *paths, size_t n, struct rules_errors *errs);

/* As rules_load() but from one in-memory document; name is used in
 * messages. For tests and the fuzzer. */
struct rules_set *rules_load_string(const char *name, const char *text, size_t len,
                                    struct rules_errors *errs);

/* --check-rules: load paths, print every error to err, then a summary line.
 * Returns 0 when the set is valid, 1 otherwise. */
int rules_check_files(const char *const *paths, size_t n, FILE *err);

/* --list-fields: every field with its type, event kinds and meaning. */
void rules_list_fields(FILE *out);

/* ---- sets ---- */

/* Take and drop a reference. The set is freed when the last one goes.
 * Thread-safe. NULL is a no-op for both. */
struct rules_set *rules_set_ref(struct rules_set *s);
void rules_set_release(struct rules_set *s);

/* Rules in load order, enabled or not; i < rules_set_count(). */
size_t rules_set_count(const struct rules_set *s);
const struct rules_rule *rules_set_rule(const struct rules_set *s, size_t i);
/* Number of enabled rules. */
size_t rules_set_enabled(const struct rules_set *s);

/* Called once per matching rule, in load order. Return false to stop. */
typedef bool (*rules_match_fn)(const struct rules_rule *r, const struct rules_event *ev, void *ctx);

/* Evaluate every enabled rule of ev->kind against ev, calling cb (may be
 * NULL to just count) for each match. No allocation, no locking.
 * Returns the number of matches. */
size_t rules_set_eval(const struct rules_set *s, const struct rules_event *ev, rules_match_fn cb,
                      void *ctx);

/* ---- rule accessors (valid while the set is referenced) ---- */

const char *rules_rule_name(const struct rules_rule *r);
const char *rules_rule_desc(const struct rules_rule *r); /* "" when none */
enum rules_severity rules_rule_severity(const struct rules_rule *r);
enum rules_event_kind rules_rule_event(const struct rules_rule *r);
bool rules_rule_enabled(const struct rules_rule *r);
/* Position in load order (index for per-rule counters). */
size_t rules_rule_index(const struct rules_rule *r);
size_t rules_rule_tag_count(const struct rules_rule *r);
const char *rules_rule_tag(const struct rules_rule *r, size_t i);

/* Write the rule's output template for ev into buf (always NUL-terminated
 * when len > 0), absent fields as "<NA>". Returns the length the full
 * message needs (excluding the NUL), like snprintf: >= len means truncated. */
size_t rules_rule_format(const struct rules_rule *r, const struct rules_event *ev, char *buf,
                         size_t len);

/* "critical", "high", "medium", "low", "info". */
const char *rules_severity_name(enum rules_severity s);

/* ---- holder: the set in force, swapped atomically on reload ---- */

struct rules_reload_stats {
    uint64_t success;     /* reloads that swapped in a new set (and the first load) */
    uint64_t failure;     /* reloads rejected; the previous set stayed */
    int64_t last_success; /* caller's clock (seconds) of the last success, 0 if none */
    int64_t last_failure; /* likewise for the last failure */
    size_t rules_loaded;  /* enabled rules in the set in force */
};

struct rules_holder {
    pthread_mutex_t lock;
    struct rules_set *cur; /* one reference owned by the holder */
    struct rules_reload_stats stats;
};

/* Initialise empty (no set: acquire returns NULL). Returns false if the
 * mutex cannot be created. */
bool rules_holder_init(struct rules_holder *h);
/* Drop the holder's reference; sets still acquired stay valid. */
void rules_holder_destroy(struct rules_holder *h);

/* The set in force with a new reference for the caller (release it with
 * rules_set_release()), or NULL when none. Cheap (one uncontended mutex):
 * acquire per event or per batch. A set acquired stays whole and valid
 * until released, whatever reloads happen meanwhile. */
struct rules_set *rules_holder_acquire(struct rules_holder *h);

/* Load and compile paths completely, then swap the new set in; on any
 * error keep the set in force. now is the caller's clock for the stats.
 * Returns true when swapped. Errors go to errs (may be NULL). */
bool rules_holder_reload(struct rules_holder *h, const char *const *paths, size_t n, int64_t now,
                         struct rules_errors *errs);

/* Swap in s (the holder takes the caller's reference; NULL empties it),
 * counted as a success. */
void rules_holder_swap(struct rules_holder *h, struct rules_set *s, int64_t now);

/* Copy of the counters. */
struct rules_reload_stats rules_holder_stats(struct rules_holder *h);

/* ---- reload triggers ---- */

/* Async-signal-safe: mark a reload as requested (call from a SIGHUP
 * handler, or install rules_sighup_handler directly). */
void rules_reload_request(void);
void rules_sighup_handler(int sig);
/* Returns true, and clears the mark, when a reload was requested. */
bool rules_reload_pending(void);

struct rules_watch;

/* Watch every path (file or directory) and the directory of each file with
 * inotify, so that editing a file, replacing it by rename, or a Kubernetes
 * ConfigMap swapping its `..data` symlink are all seen. Returns NULL with
 * a message in err (errlen bytes) on failure. */
struct rules_watch *rules_watch_open(const char *const *paths, size_t n, char *err, size_t errlen);
/* Non-blocking fd to poll for POLLIN. */
int rules_watch_fd(const struct rules_watch *w);
/* Drain pending notifications; returns true when one concerns a rule file
 * (the caller should then reload). Re-arms watches on replaced files. */
bool rules_watch_changed(struct rules_watch *w);
void rules_watch_close(struct rules_watch *w);

#endif
