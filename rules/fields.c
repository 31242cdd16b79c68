/* Field table of the rules language, value parsing and formatting, and the
 * arena the compiled sets live in.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rules/rules_int.h"

#define OFF(m) offsetof(struct rules_event, m)
#define F(name, type, store, kinds, member, desc)                                                  \
    {                                                                                              \
        name, RULES_T_##type, RULES_S_##store, kinds, OFF(member), desc                            \
    }
#define FLOW_ANY  RULES_K_ANY
#define CERT_ONLY RULES_K_CERT

static const struct rules_field rules_fields[] = {
    F("event.time", TIME, NUM, FLOW_ANY, time, "packet time of the event"),
    F("flow.src_ip", IP, ADDR, FLOW_ANY, flow.src_ip, "client address"),
    F("flow.dst_ip", IP, ADDR, FLOW_ANY, flow.dst_ip, "server address"),
    F("flow.src_port", NUM, NUM, FLOW_ANY, flow.src_port, "client port"),
    F("flow.dst_port", NUM, NUM, FLOW_ANY, flow.dst_port, "server port"),
    F("flow.proto", NUM, NUM, FLOW_ANY, flow.proto, "IP protocol number (6 = TCP)"),
    F("flow.midstream", BOOL, BOOL, FLOW_ANY, flow.midstream,
      "the flow was first seen after its start"),
    F("flow.encrypted", BOOL, BOOL, FLOW_ANY, flow.encrypted, "the flow is protected by TLS"),
    F("flow.app", STR, STR, FLOW_ANY, flow.app,
      "grpc, mysql, etcd, etcd-peer, zookeeper, http, tls or unknown"),
    F("vitess.client", STR, STR, FLOW_ANY, vitess.client,
      "client component: app, vtgate, vttablet, vtctld, vtctldclient, vtorc, vtadmin, mysqld, "
      "etcd, zookeeper, unknown"),
    F("vitess.server", STR, STR, FLOW_ANY, vitess.server, "server component (same names)"),
    F("vitess.evidence", STR, STR, FLOW_ANY, vitess.evidence,
      "why the components were recognised (inventory, grpc-path, greeting, sni, port)"),
    F("grpc.path", STR, STR, FLOW_ANY, grpc.path, "first gRPC path, /package.Service/Method"),
    F("grpc.service", STR, STR, FLOW_ANY, grpc.service, "gRPC service, package.Service"),
    F("grpc.method", STR, STR, FLOW_ANY, grpc.method, "gRPC method"),
    F("mysql.server_version", STR, STR, FLOW_ANY, mysql.server_version,
      "version string of the server greeting"),
    F("mysql.server_ssl", BOOL, BOOL, FLOW_ANY, mysql.server_ssl, "the server offered TLS"),
    F("mysql.client_ssl", BOOL, BOOL, FLOW_ANY, mysql.client_ssl,
      "the client asked for TLS (SSLRequest)"),
    F("mysql.auth_plugin", STR, STR, FLOW_ANY, mysql.auth_plugin,
      "authentication plugin of the client's login"),
    F("mysql.user", STR, STR, FLOW_ANY, mysql.user, "user name of a plaintext login"),
    F("mysql.downgrade", BOOL, BOOL, FLOW_ANY, mysql.downgrade,
      "the server offered TLS and the client logged in without it"),
    F("mysql.cleartext_password", BOOL, BOOL, FLOW_ANY, mysql.cleartext_password,
      "the password crossed the connection in clear (mysql_clear_password)"),
    F("tls.version", TLSVER, NUM, FLOW_ANY, tls.version, "negotiated TLS version"),
    F("tls.client_max_version", TLSVER, NUM, FLOW_ANY, tls.client_max_version,
      "highest TLS version the client offered"),
    F("tls.cipher", STR, STR, FLOW_ANY, tls.cipher, "negotiated cipher suite, IANA name"),
    F("tls.cipher_id", NUM, NUM, FLOW_ANY, tls.cipher_id, "negotiated cipher suite code point"),
    F("tls.cipher.kx", STR, STR, FLOW_ANY, tls.cs.kx, "key exchange: ECDHE, DHE, RSA, PSK, any"),
    F("tls.cipher.auth", STR, STR, FLOW_ANY, tls.cs.auth, "authentication: RSA, ECDSA, anon, any"),
    F("tls.cipher.enc", STR, STR, FLOW_ANY, tls.cs.enc,
      "bulk cipher: AES-GCM, AES-CBC, CHACHA20-POLY1305, 3DES, RC4, DES, NULL"),
    F("tls.cipher.mac", STR, STR, FLOW_ANY, tls.cs.mac, "record MAC: AEAD, SHA256, SHA1, MD5"),
    F("tls.cipher.strength", STR, STR, FLOW_ANY, tls.cs.strength,
      "insecure, weak, acceptable, recommended or unknown"),
    F("tls.cipher.pfs", BOOL, BOOL, FLOW_ANY, tls.cs.pfs, "forward secrecy (ephemeral kx)"),
    F("tls.cipher.aead", BOOL, BOOL, FLOW_ANY, tls.cs.aead, "authenticated encryption"),
    F("tls.cipher.bits", NUM, NUM, FLOW_ANY, tls.cs.bits, "bulk cipher key bits"),
    F("tls.sni", STR, STR, FLOW_ANY, tls.sni, "server name the client asked for"),
    F("tls.alpn", STR, STR, FLOW_ANY, tls.alpn, "application protocol the server selected"),
    F("tls.ja3", STR, STR, FLOW_ANY, tls.ja3, "JA3 client fingerprint"),
    F("tls.ja3s", STR, STR, FLOW_ANY, tls.ja3s, "JA3S server fingerprint"),
    F("tls.ja4", STR, STR, FLOW_ANY, tls.ja4, "JA4 client fingerprint"),
    F("tls.resumed", BOOL, BOOL, FLOW_ANY, tls.resumed, "session resumption"),
    F("tls.client_cert", STR, STR, FLOW_ANY, tls.client_cert,
      "presented, requested-none, not-requested or not-observable"),
    F("tls.alert", STR, STR, FLOW_ANY, tls.alert,
      "first alert before the handshake ended (handshake_failure, bad_certificate, ...)"),
    F("tls.alert_fatal", BOOL, BOOL, FLOW_ANY, tls.alert_fatal, "that alert was fatal"),
    F("cert.subject", STR, STR, CERT_ONLY, cert.subject, "subject name"),
    F("cert.issuer", STR, STR, CERT_ONLY, cert.issuer, "issuer name"),
    F("cert.subject_cn", STR, STR, CERT_ONLY, cert.subject_cn, "subject common name"),
    F("cert.issuer_cn", STR, STR, CERT_ONLY, cert.issuer_cn, "issuer common name"),
    F("cert.san", LIST, LIST, CERT_ONLY, cert.san, "subject alternative names"),
    F("cert.not_before", TIME, NUM, CERT_ONLY, cert.not_before, "start of validity"),
    F("cert.not_after", TIME, NUM, CERT_ONLY, cert.not_after, "end of validity"),
    F("cert.days_left", NUM, NUM, CERT_ONLY, cert.days_left,
      "whole days from packet time to not_after, negative once expired"),
    F("cert.validity_days", NUM, NUM, CERT_ONLY, cert.validity_days,
      "days from not_before to not_after"),
    F("cert.expired", BOOL, BOOL, CERT_ONLY, cert.expired, "not_after is before packet time"),
    F("cert.not_yet_valid", BOOL, BOOL, CERT_ONLY, cert.not_yet_valid,
      "not_before is after packet time"),
    F("cert.key_type", STR, STR, CERT_ONLY, cert.key_type, "RSA, EC, DSA, Ed25519, Ed448"),
    F("cert.key_bits", NUM, NUM, CERT_ONLY, cert.key_bits, "public key size in bits"),
    F("cert.sig_alg", STR, STR, CERT_ONLY, cert.sig_alg,
      "signature algorithm (sha256WithRSAEncryption)"),
    F("cert.sig_hash_weak", BOOL, BOOL, CERT_ONLY, cert.sig_hash_weak,
      "signed with an MD5 or SHA-1 hash"),
    F("cert.self_signed", BOOL, BOOL, CERT_ONLY, cert.self_signed, "issuer is the subject"),
    F("cert.is_ca", BOOL, BOOL, CERT_ONLY, cert.is_ca, "basic constraints CA:TRUE"),
    F("cert.chain_valid", BOOL, BOOL, CERT_ONLY, cert.chain_valid,
      "the chain verifies against the configured CA bundle"),
    F("cert.chain_error", STR, STR, CERT_ONLY, cert.chain_error, "why the chain did not verify"),
    F("cert.sha256", STR, STR, CERT_ONLY, cert.sha256, "SHA-256 fingerprint, lowercase hex"),
    F("cert.sni_match", BOOL, BOOL, CERT_ONLY, cert.sni_match,
      "the SNI matches a name of the certificate (absent without SNI)"),
    F("cert.observable", BOOL, BOOL, CERT_ONLY, cert.observable,
      "the certificate was visible (not TLS 1.3)"),
    F("cert.unparseable", BOOL, BOOL, CERT_ONLY, cert.unparseable,
      "OpenSSL could not decode the certificate"),
    F("cert.shared_by_components", NUM, NUM, CERT_ONLY, cert.shared_by_components,
      "distinct components seen presenting this certificate"),
    F("cert.depth", NUM, NUM, CERT_ONLY, cert.depth, "position in the chain, 0 = leaf"),
    F("geo.src.country", STR, STR, FLOW_ANY, geo.src.country, "client country (ISO code)"),
    F("geo.src.asn", NUM, NUM, FLOW_ANY, geo.src.asn, "client autonomous system number"),
    F("geo.src.as_org", STR, STR, FLOW_ANY, geo.src.as_org, "client AS organisation"),
    F("geo.src.*", STR, GEO, FLOW_ANY, geo.src, "any string key of a custom database (zone)"),
    F("geo.dst.country", STR, STR, FLOW_ANY, geo.dst.country, "server country (ISO code)"),
    F("geo.dst.asn", NUM, NUM, FLOW_ANY, geo.dst.asn, "server autonomous system number"),
    F("geo.dst.as_org", STR, STR, FLOW_ANY, geo.dst.as_org, "server AS organisation"),
    F("geo.dst.*", STR, GEO, FLOW_ANY, geo.dst, "any string key of a custom database (zone)"),
    F("ndpi.protocol", STR, STR, FLOW_ANY, ndpi.protocol, "nDPI protocol name"),
    F("ndpi.risks", LIST, LIST, FLOW_ANY, ndpi.risks, "nDPI risk names"),
};

#define NFIELDS (sizeof(rules_fields) / sizeof(rules_fields[0]))

static bool geo_key_ok(const char *s, size_t len)
{
    if (len == 0 || len > 64)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
            return false;
    }
    return true;
}

const struct rules_field *rules_field_find(const char *name, size_t len, const char **key,
                                           size_t *keylen)
{
    *key = NULL;
    *keylen = 0;
    for (size_t i = 0; i < NFIELDS; i++) {
        const struct rules_field *f = &rules_fields[i];
        if (f->store != RULES_S_GEO && strlen(f->name) == len && memcmp(f->name, name, len) == 0)
            return f;
    }

    /* geo.src.KEY / geo.dst.KEY: a custom key (8 = strlen("geo.src.")) */
    for (size_t i = 0; i < NFIELDS; i++) {
        const struct rules_field *f = &rules_fields[i];
        if (f->store != RULES_S_GEO || len <= 8 || memcmp(f->name, name, 8) != 0)
            continue;
        if (!geo_key_ok(name + 8, len - 8))
            return NULL;
        *key = name + 8;
        *keylen = len - 8;
        return f;
    }
    return NULL;
}

size_t rules_levenshtein(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t row[65];

    alen = alen > 64 ? 64 : alen;
    blen = blen > 64 ? 64 : blen;
    for (size_t j = 0; j <= blen; j++)
        row[j] = j;
    for (size_t i = 1; i <= alen; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= blen; j++) {
            size_t up = row[j];
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            size_t best = diag + cost;
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[blen];
}

const char *rules_field_suggest(const char *name, size_t len)
{
    const char *best = NULL;
    size_t bestd = (size_t)-1;

    for (size_t i = 0; i < NFIELDS; i++) {
        const char *n = rules_fields[i].name;
        size_t d = rules_levenshtein(name, len, n, strlen(n));
        if (d < bestd) {
            bestd = d;
            best = n;
        }
    }
    return bestd <= 2 + len / 4 ? best : NULL;
}

const char *rules_type_name(enum rules_type t)
{
    static const char *const names[] = {"string",     "number",    "boolean",        "TLS version",
                                        "IP address", "timestamp", "list of strings"};
    return (size_t)t < sizeof(names) / sizeof(names[0]) ? names[t] : "?";
}

const char *rules_geo_custom(const struct rules_geo *g, const char *key)
{
    size_t n = g->n_custom < RULES_GEO_CUSTOM_MAX ? g->n_custom : RULES_GEO_CUSTOM_MAX;
    for (size_t i = 0; i < n; i++) {
        if (g->custom[i].key && strcmp(g->custom[i].key, key) == 0)
            return g->custom[i].value;
    }
    return NULL;
}

/* ---- TLS versions and timestamps ---- */

static const struct {
    int64_t v;
    const char *name;
} rules_tlsvers[] = {
    {0x0200, "SSL 2.0"}, {0x0300, "SSL 3.0"}, {0x0301, "TLS 1.0"},
    {0x0302, "TLS 1.1"}, {0x0303, "TLS 1.2"}, {0x0304, "TLS 1.3"},
};
#define NTLSVERS (sizeof(rules_tlsvers) / sizeof(rules_tlsvers[0]))

const char *rules_tlsver_name(int64_t v)
{
    for (size_t i = 0; i < NTLSVERS; i++) {
        if (rules_tlsvers[i].v == v)
            return rules_tlsvers[i].name;
    }
    return NULL;
}

bool rules_num_parse(const char *s, size_t len, int64_t *out)
{
    char buf[32];
    char *end;

    if (len == 0 || len >= sizeof(buf))
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (isspace((unsigned char)buf[0]))
        return false;
    long long v = strtoll(buf, &end, 0);
    if (*end != '\0')
        return false;
    *out = v;
    return true;
}

bool rules_tlsver_parse(const char *s, size_t len, int64_t *out)
{
    /* "TLS 1.2", "TLSv1.2", "TLS1.2", "SSL 3.0" (case-insensitive) */
    if (len >= 6 && (strncasecmp(s, "TLS", 3) == 0 || strncasecmp(s, "SSL", 3) == 0)) {
        size_t i = 3;
        if (s[i] == ' ' || s[i] == 'v' || s[i] == 'V')
            i++;
        if (len - i == 3 && isdigit((unsigned char)s[i]) && s[i + 1] == '.' &&
            isdigit((unsigned char)s[i + 2])) {
            char name[8] = {0};
            memcpy(name, s, 3);
            name[0] = (char)toupper((unsigned char)name[0]);
            name[1] = (char)toupper((unsigned char)name[1]);
            name[2] = (char)toupper((unsigned char)name[2]);
            name[3] = ' ';
            memcpy(name + 4, s + i, 3);
            for (size_t k = 0; k < NTLSVERS; k++) {
                if (strcmp(rules_tlsvers[k].name, name) == 0) {
                    *out = rules_tlsvers[k].v;
                    return true;
                }
            }
        }
        return false;
    }
    return rules_num_parse(s, len, out) && *out >= 0 && *out <= 0xffff;
}

bool rules_time_parse(const char *s, size_t len, int64_t *out)
{
    char buf[32];
    struct tm tm = {0};
    int y, mo, d, h = 0, mi = 0, sec = 0, used = 0;

    if (len > 0 && len < sizeof(buf) && s[0] != '-' && memchr(s, '-', len) == NULL)
        return rules_num_parse(s, len, out);
    if (len == 0 || len >= sizeof(buf))
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (sscanf(buf, "%4d-%2d-%2d%n", &y, &mo, &d, &used) != 3)
        return false;
    if (buf[used] == 'T' || buf[used] == ' ') {
        int more = 0;
        if (sscanf(buf + used + 1, "%2d:%2d:%2d%n", &h, &mi, &sec, &more) != 3)
            return false;
        used += 1 + more;
        if (buf[used] == 'Z')
            used++;
    }
    if (buf[used] != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return false;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    *out = (int64_t)timegm(&tm);
    return true;
}

/* ---- addresses ---- */

bool rules_cidr_parse(const char *s, size_t len, struct rules_cidr *out)
{
    char buf[64];
    const char *slash;
    int64_t bits = -1;

    if (len == 0 || len >= sizeof(buf))
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    slash = strchr(buf, '/');
    if (slash) {
        size_t nd = strlen(slash + 1);
        if (nd == 0 || nd > 3 || strspn(slash + 1, "0123456789") != nd)
            return false;
        bits = atoi(slash + 1);
        buf[slash - buf] = '\0';
    }
    memset(out, 0, sizeof(*out));
    if (inet_pton(AF_INET, buf, out->b) == 1) {
        out->family = RULES_AF_INET;
        out->bits = 32;
    } else if (inet_pton(AF_INET6, buf, out->b) == 1) {
        out->family = RULES_AF_INET6;
        out->bits = 128;
    } else {
        return false;
    }
    if (bits >= 0) {
        if (bits > out->bits)
            return false;
        out->bits = (uint8_t)bits;
    }
    return true;
}

bool rules_cidr_match(const struct rules_cidr *c, const struct rules_addr *a)
{
    size_t full = c->bits / 8;
    unsigned rest = c->bits % 8;

    if (a->family != c->family)
        return false;
    if (memcmp(a->b, c->b, full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (a->b[full] & mask) == (c->b[full] & mask);
}

/* ---- formatting ---- */

static size_t put(char *buf, size_t len, const char *s)
{
    size_t n = strlen(s);
    if (len > 0) {
        size_t k = n < len - 1 ? n : len - 1;
        memcpy(buf, s, k);
        buf[k] = '\0';
    }
    return n;
}

/* put() at offset at of buf, doing nothing once buf is full. */
static size_t put_at(char *buf, size_t len, size_t at, const char *s)
{
    if (at >= len)
        return strlen(s);
    return put(buf + at, len - at, s);
}

static size_t format_time(int64_t t, char *buf, size_t len)
{
    struct tm tm;
    char tmp[40];
    time_t tt = (time_t)t;

    if (!gmtime_r(&tt, &tm))
        return put(buf, len, "<NA>");
    strftime(tmp, sizeof(tmp), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return put(buf, len, tmp);
}

static size_t format_list(const struct rules_strlist *l, char *buf, size_t len)
{
    size_t need = 0;

    if (len > 0)
        buf[0] = '\0';
    for (size_t i = 0; i < l->n; i++) {
        if (i > 0)
            need += put_at(buf, len, need, ",");
        need += put_at(buf, len, need, l->v[i] ? l->v[i] : "");
    }
    return need;
}

static size_t format_num(const struct rules_field *f, int64_t v, char *buf, size_t len)
{
    char tmp[32];

    if (f->type == RULES_T_TIME)
        return format_time(v, buf, len);
    if (f->type == RULES_T_TLSVER && rules_tlsver_name(v))
        return put(buf, len, rules_tlsver_name(v));
    if (f->type == RULES_T_TLSVER)
        snprintf(tmp, sizeof(tmp), "0x%04" PRIx64, (uint64_t)v);
    else
        snprintf(tmp, sizeof(tmp), "%" PRId64, v);
    return put(buf, len, tmp);
}

size_t rules_field_format(const struct rules_field *f, const char *key,
                          const struct rules_event *ev, char *buf, size_t len)
{
    const void *p = rules_field_ptr(f, ev);
    char tmp[INET6_ADDRSTRLEN];

    switch ((enum rules_store)f->store) {
    case RULES_S_STR: {
        const char *s = *(const char *const *)p;
        return put(buf, len, s ? s : "<NA>");
    }
    case RULES_S_NUM: {
        const struct rules_num *n = p;
        return n->set ? format_num(f, n->v, buf, len) : put(buf, len, "<NA>");
    }
    case RULES_S_BOOL: {
        rules_bool b = *(const rules_bool *)p;
        return put(buf, len, b == RULES_TRUE ? "true" : b == RULES_FALSE ? "false" : "<NA>");
    }
    case RULES_S_ADDR: {
        const struct rules_addr *a = p;
        int af = a->family == RULES_AF_INET ? AF_INET : AF_INET6;
        if (a->family == RULES_AF_NONE || !inet_ntop(af, a->b, tmp, sizeof(tmp)))
            return put(buf, len, "<NA>");
        return put(buf, len, tmp);
    }
    case RULES_S_LIST: {
        const struct rules_strlist *l = p;
        return l->v ? format_list(l, buf, len) : put(buf, len, "<NA>");
    }
    case RULES_S_GEO: {
        const char *s = rules_geo_custom(p, key);
        return put(buf, len, s ? s : "<NA>");
    }
    }
    return put(buf, len, "<NA>");
}

void rules_list_fields(FILE *out)
{
    fprintf(out, "%-28s %-16s %-17s %s\n", "FIELD", "TYPE", "EVENTS", "DESCRIPTION");
    for (size_t i = 0; i < NFIELDS; i++) {
        const struct rules_field *f = &rules_fields[i];
        const char *kinds = f->kinds == RULES_K_CERT ? "certificate" : "flow,certificate";
        fprintf(out, "%-28s %-16s %-17s %s\n", f->name, rules_type_name(f->type), kinds, f->desc);
    }
    fprintf(out, "\nTypes: TLS version literals are written \"TLS 1.2\", \"SSL 3.0\"; IP "
                 "addresses accept CIDR with `in`;\ntimestamps are epoch seconds or "
                 "\"2026-12-03T15:30:07Z\"; booleans are true or false.\n");
}

/* ---- arena ---- */

struct rules_arena_chunk {
    struct rules_arena_chunk *next;
    size_t used, size;
    _Alignas(16) unsigned char data[];
};

#define ARENA_CHUNK 8192

void *rules_arena_alloc(struct rules_arena *a, size_t size)
{
    struct rules_arena_chunk *c = a->head;

    size = (size + 15) & ~(size_t)15;
    if (size == 0)
        size = 16;
    if (!c || c->size - c->used < size) {
        size_t cs = size > ARENA_CHUNK ? size : ARENA_CHUNK;
        c = malloc(sizeof(*c) + cs);
        if (!c)
            return NULL;
        c->next = a->head;
        c->used = 0;
        c->size = cs;
        a->head = c;
    }
    void *p = c->data + c->used;
    c->used += size;
    a->total += size;
    memset(p, 0, size);
    return p;
}

char *rules_arena_strndup(struct rules_arena *a, const char *s, size_t len)
{
    char *d = rules_arena_alloc(a, len + 1);
    if (d) {
        memcpy(d, s, len);
        d[len] = '\0';
    }
    return d;
}

void rules_arena_free(struct rules_arena *a)
{
    struct rules_arena_chunk *c = a->head;
    while (c) {
        struct rules_arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    a->head = NULL;
    a->total = 0;
}
