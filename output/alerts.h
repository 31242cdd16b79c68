/* Alerts: de-duplication in packet time, a rate limiter for messages about
 * failed writes, and the alert record in the EVE and ECS layouts.
 *
 * De-duplication: an alert's key is (rule, client address, server address,
 * server port). The first alert of a key is written; later ones for the same
 * key within window microseconds of packet time after it are suppressed and
 * counted; the first one after the window is written again carrying how many
 * were suppressed since the previous written one, and opens a new window.
 * The table holds at most cap keys; a new key when full evicts the least
 * recently seen one (counted; its pending suppressed count is lost and
 * counted too), so a sensor running for months stays bounded.
 */
#ifndef VTLS_ALERTS_H
#define VTLS_ALERTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ALERTS_DEFAULT_WINDOW_US (3600ULL * 1000000ULL)
#define ALERTS_DEFAULT_CAP       100000
#define ALERTS_RATELIMIT_US      (60ULL * 1000000ULL)

struct alerts_dedup;

struct alerts_dedup_stats {
    uint64_t emitted;    /* alerts let through */
    uint64_t suppressed; /* alerts suppressed */
    uint64_t evictions;  /* keys evicted from a full table */
    uint64_t lost;       /* suppressed counts dropped with evicted keys */
    size_t keys;         /* keys in the table */
};

/* An address as the flow table holds it: family 4 or 6, IPv4 in b[0..3]
 * with the rest zero. */
struct alerts_addr {
    uint8_t family;
    uint8_t b[16];
};

/* A table for window_us (0: ALERTS_DEFAULT_WINDOW_US) and cap keys (0:
 * ALERTS_DEFAULT_CAP). Memory for cap keys is reserved up front (about
 * 64 bytes each, touched as used). Returns NULL when out of memory. */
struct alerts_dedup *alerts_dedup_new(uint64_t window_us, size_t cap);

void alerts_dedup_free(struct alerts_dedup *d);

/* Decide one alert of rule for (client, server, server_port) at packet time
 * now_us. Returns true when it is to be written; *suppressed (may be NULL)
 * then holds how many were suppressed for this key since the last written
 * one. Returns false when it is suppressed (counted). Packet time that goes
 * backwards (a capture out of order) never reopens a window early. */
bool alerts_dedup_check(struct alerts_dedup *d, const char *rule, const struct alerts_addr *client,
                        const struct alerts_addr *server, uint16_t server_port, uint64_t now_us,
                        uint64_t *suppressed);

void alerts_dedup_stats(const struct alerts_dedup *d, struct alerts_dedup_stats *st);

/* At most one message per interval, counting the ones held back. Zero-
 * initialise, or use ALERTS_RATELIMIT_INIT for ALERTS_RATELIMIT_US. */
struct alerts_ratelimit {
    uint64_t interval_us; /* 0 means ALERTS_RATELIMIT_US */
    uint64_t last_us;
    uint64_t held; /* messages held back since the last one let through */
    bool started;
};
#define ALERTS_RATELIMIT_INIT                                                                      \
    {                                                                                              \
        ALERTS_RATELIMIT_US, 0, 0, false                                                           \
    }

/* True when a message may go out at now_us (any clock that only moves
 * forward; wall or monotonic time for write failures). *held (may be NULL)
 * gets how many were held back before this one. */
bool alerts_ratelimit_allow(struct alerts_ratelimit *rl, uint64_t now_us, uint64_t *held);

/* Report a failed write of what (e.g. the alerts path) with errno err to
 * stderr, at most once per interval of rl, with the count held back. Uses
 * CLOCK_MONOTONIC. Returns true when a line was printed. */
bool alerts_report_write_failure(struct alerts_ratelimit *rl, const char *what, int err);

/* The alert of one rule firing. Strings are borrowed for the call. */
struct alerts_info {
    const char *rule;
    const char *severity;    /* "info", "low", "medium", "high", "critical" */
    const char *message;     /* the rule's message template, filled in */
    const char *description; /* the rule's description; NULL: none */
    const char *const *tags;
    size_t ntags;
    uint64_t suppressed; /* from alerts_dedup_check(); 0 omits the field */
};

/* Turn rec, a record from eve_record() with the objects that apply (vitess,
 * tls, mysql, grpc, geo), into the EVE alert record: event_type "alert" and
 * "alert": {rule, severity, message, description?, tags, suppressed?}.
 * Returns false when out of memory (rec may then lack the alert object). */
bool alerts_eve(json_t *rec, const struct alerts_info *ai);

/* The ECS (Elastic Common Schema 8) layout of an EVE alert record: a new
 * object the caller owns, or NULL when eve is not an object or out of memory
 * (a field whose allocation fails is left out).
 * Mapping: timestamp -> @timestamp; event.kind "alert", event.category
 * ["network"], event.type ["info"], event.severity (info 1, low 21, medium
 * 47, high 73, critical 99); src_ip/src_port -> source.ip/port, dest_* ->
 * destination.*; proto -> network.transport (lower case); community_id ->
 * network.community_id; app_proto -> network.protocol; tls.version "TLS 1.2"
 * -> tls.version "1.2" with tls.version_protocol "tls"; vlan [outer, inner]
 * -> network.vlan.id, network.inner.vlan.id (strings); tls.cipher,
 * tls.sni -> tls.client.server_name, tls.ja3 -> tls.client.ja3, tls.ja3s ->
 * tls.server.ja3s; tls.cert.{subject, issuer, not_after, sha256} ->
 * tls.server.x509.{subject.common_name, issuer.common_name, not_after} and
 * tls.server.{subject, issuer, not_after, hash.sha256 (upper case)};
 * alert.rule -> rule.name, alert.description (else message) ->
 * rule.description, alert.severity -> event.severity and
 * vtls.alert.severity, alert.message -> message, alert.tags -> tags,
 * alert.suppressed -> vtls.alert.suppressed; geo.src/dst country, asn,
 * as_org -> source/destination.geo.country_iso_code, .as.number,
 * .as.organization.name; flow_id, vitess, mysql, grpc, geo and the whole
 * EVE tls object are kept under "vtls". ecs.version is "8.11.0". */
json_t *alerts_ecs(const json_t *eve);

/* ECS event.severity for a severity name; 0 for an unknown one. */
int alerts_severity_num(const char *severity);

#endif
