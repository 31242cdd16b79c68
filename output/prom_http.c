/* The /metrics server on libmicrohttpd. See prom_http.h. */
#include "output/prom_http.h"

#include <arpa/inet.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PROM_REALM      "vtls-sensor"
#define PROM_MAX_CONNS  32
#define PROM_TIMEOUT_S  10
#define PROM_MAX_OPTS   16
#define PROM_AUTH_SLOTS 4 /* remembered good credentials */

static const char prom_index_html[] =
    "<!DOCTYPE html>\n<html><head><title>vtls-sensor</title></head>\n"
    "<body><h1>vtls-sensor</h1><p><a href=\"/metrics\">Metrics</a></p></body></html>\n";

struct prom_server {
    struct MHD_Daemon *d;
    struct metrics *m;
    const struct webconfig *wc;
    uint16_t port;
    char prio[128];
    char log[256]; /* the last libmicrohttpd message, for start errors */
    /* Counters written by the server thread, read by prom_get_stats(). */
    atomic_uint_fast64_t requests, scrapes, unauthorized, render_errors;
    /* Credentials that passed bcrypt lately: user and SHA-256 of user NUL
     * password, so a scraper's every request costs a hash, not a bcrypt run.
     * Only the server thread touches them. */
    struct {
        bool used;
        uint8_t digest[32];
    } auth[PROM_AUTH_SLOTS];
    unsigned auth_next;
};

static void prom_err(char *err, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(err, PROM_ERRLEN, fmt, ap);
    va_end(ap);
}

/* ---- listen address ---- */

static bool prom_parse_port(const char *s, uint16_t *port)
{
    unsigned long v = 0;

    if (*s == '\0' || strlen(s) > 5)
        return false;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9')
            return false;
        v = v * 10 + (unsigned long)(*s - '0');
    }
    if (v > 65535)
        return false;
    *port = (uint16_t)v;
    return true;
}

/* host is an address literal or a name; fill out->addr for it. */
static bool prom_resolve(const char *host, struct prom_listen *out)
{
    struct sockaddr_in *in4 = (struct sockaddr_in *)&out->addr;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&out->addr;
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG};
    struct addrinfo *res = NULL;

    memset(&out->addr, 0, sizeof(out->addr));
    if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
    } else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
    } else {
        if (getaddrinfo(host, NULL, &hints, &res) != 0 || res == NULL)
            return false;
        memcpy(&out->addr, res->ai_addr, res->ai_addrlen);
        freeaddrinfo(res);
    }
    if (out->addr.ss_family == AF_INET)
        in4->sin_port = htons(out->port);
    else
        in6->sin6_port = htons(out->port);
    return true;
}

bool prom_parse_listen(const char *s, struct prom_listen *out, char *err)
{
    char host[256];
    const char *colon, *h = s;
    size_t hlen;

    memset(out, 0, sizeof(*out));
    if (s[0] == '[') {
        colon = strchr(s, ']');
        if (colon == NULL || colon[1] != ':')
            goto bad;
        h = s + 1;
        hlen = (size_t)(colon - h);
        colon++;
    } else {
        colon = strrchr(s, ':');
        if (colon == NULL || memchr(s, ':', (size_t)(colon - s)) != NULL)
            goto bad; /* none, or an IPv6 address without brackets */
        hlen = (size_t)(colon - s);
    }
    if (hlen >= sizeof(host) || !prom_parse_port(colon + 1, &out->port))
        goto bad;
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    out->any = hlen == 0;
    if (out->any)
        return true;
    if (!prom_resolve(host, out)) {
        prom_err(err, "--metrics-listen %s: cannot resolve \"%s\"", s, host);
        return false;
    }
    return true;
bad:
    prom_err(err, "--metrics-listen %s: expected ADDR:PORT, [IPV6]:PORT or :PORT", s);
    return false;
}

/* ---- content negotiation ---- */

/* q of one media range's parameters (";q=0.5;version=1.0.0"); version out. */
static double prom_params(const char *p, const char *end, char *version, size_t vlen)
{
    double q = 1;

    version[0] = '\0';
    while (p < end) {
        const char *semi = memchr(p, ';', (size_t)(end - p));
        const char *stop = semi ? semi : end;

        while (p < stop && (*p == ' ' || *p == '\t' || *p == ';'))
            p++;
        if ((size_t)(stop - p) > 2 && strncasecmp(p, "q=", 2) == 0)
            q = strtod(p + 2, NULL);
        else if ((size_t)(stop - p) > 8 && strncasecmp(p, "version=", 8) == 0 &&
                 (size_t)(stop - p - 8) < vlen) {
            memcpy(version, p + 8, (size_t)(stop - p - 8));
            version[stop - p - 8] = '\0';
        }
        p = semi ? semi + 1 : end;
    }
    return q;
}

static bool prom_type_is(const char *p, const char *end, const char *type)
{
    size_t n = strlen(type);

    while (p < end && *p == ' ')
        p++;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    return (size_t)(end - p) == n && strncasecmp(p, type, n) == 0;
}

enum metrics_format prom_negotiate(const char *accept)
{
    double om = 0, text = 0;
    const char *p = accept;

    while (p != NULL && *p != '\0') {
        const char *comma = strchr(p, ',');
        const char *end = comma ? comma : p + strlen(p);
        const char *semi = memchr(p, ';', (size_t)(end - p));
        const char *tend = semi ? semi : end;
        char version[16];
        double q = prom_params(tend, end, version, sizeof(version));

        if (prom_type_is(p, tend, "application/openmetrics-text") &&
            (version[0] == '\0' || strcmp(version, "1.0.0") == 0))
            om = q > om ? q : om;
        else if (prom_type_is(p, tend, "text/plain"))
            text = q > text ? q : text;
        p = comma ? comma + 1 : NULL;
    }
    return om > 0 && om >= text ? METRICS_FMT_OPENMETRICS : METRICS_FMT_TEXT;
}

/* ---- client certificates ---- */

static bool prom_cert_verifies(const struct webconfig *wc)
{
    return wc->client_auth == WEBCONFIG_VERIFY_CLIENT_CERT_IF_GIVEN ||
           wc->client_auth == WEBCONFIG_REQUIRE_AND_VERIFY_CLIENT_CERT;
}

static bool prom_cert_required(const struct webconfig *wc)
{
    return wc->client_auth == WEBCONFIG_REQUIRE_ANY_CLIENT_CERT ||
           wc->client_auth == WEBCONFIG_REQUIRE_AND_VERIFY_CLIENT_CERT;
}

/* Does session's client certificate pass wc? */
static bool prom_cert_ok(const struct webconfig *wc, gnutls_session_t session)
{
    unsigned int n = 0, status = 1;

    if (gnutls_certificate_get_peers(session, &n) == NULL || n == 0)
        return !prom_cert_required(wc);
    if (!prom_cert_verifies(wc))
        return true;
    return gnutls_certificate_verify_peers2(session, &status) == 0 && status == 0;
}

/* Called by GnuTLS during the handshake once the client's certificate is in:
 * nonzero fails the handshake. The web config hangs off the session's ptr. */
static int prom_verify_cb(gnutls_session_t session)
{
    const struct webconfig *wc = gnutls_session_get_ptr(session);

    if (wc == NULL)
        return -1;
    return prom_cert_ok(wc, session) ? 0 : -1;
}

static gnutls_session_t prom_session(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);

    return ci ? (gnutls_session_t)ci->tls_session : NULL;
}

/* New connection, before its handshake: ask for a client certificate as
 * client_auth_type says and install the verifier. */
static void prom_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                        enum MHD_ConnectionNotificationCode toe)
{
    struct prom_server *s = cls;
    gnutls_session_t session;

    (void)socket_context;
    if (toe != MHD_CONNECTION_NOTIFY_STARTED || s->wc == NULL || !s->wc->tls ||
        s->wc->client_auth == WEBCONFIG_NO_CLIENT_CERT)
        return;
    session = prom_session(c);
    if (session == NULL)
        return;
    gnutls_certificate_server_set_request(session, prom_cert_required(s->wc) ? GNUTLS_CERT_REQUIRE
                                                                             : GNUTLS_CERT_REQUEST);
    gnutls_session_set_ptr(session, (void *)s->wc);
    gnutls_session_set_verify_function(session, prom_verify_cb);
}

/* ---- requests ---- */

static enum MHD_Result prom_reply(struct MHD_Connection *c, unsigned int status, const char *ctype,
                                  const char *body, size_t len, enum MHD_ResponseMemoryMode mode)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body, mode);
    enum MHD_Result ret;

    if (r == NULL)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result prom_text(struct MHD_Connection *c, unsigned int status, const char *msg)
{
    return prom_reply(c, status, "text/plain; charset=utf-8", msg, strlen(msg),
                      MHD_RESPMEM_PERSISTENT);
}

static enum MHD_Result prom_metrics(struct prom_server *s, struct MHD_Connection *c)
{
    const char *accept = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
    enum metrics_format fmt = prom_negotiate(accept);
    struct metrics_buf b = {0};

    if (!metrics_render(s->m, fmt, &b)) {
        metrics_buf_free(&b);
        atomic_fetch_add_explicit(&s->render_errors, 1, memory_order_relaxed);
        return prom_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "out of memory\n");
    }
    atomic_fetch_add_explicit(&s->scrapes, 1, memory_order_relaxed);
    return prom_reply(
        c, MHD_HTTP_OK, fmt == METRICS_FMT_OPENMETRICS ? METRICS_CT_OPENMETRICS : METRICS_CT_TEXT,
        b.data ? b.data : "", b.len, b.data ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
}

/* SHA-256 of user NUL pass into digest; false on failure. */
static bool prom_auth_digest(const char *user, const char *pass, uint8_t digest[32])
{
    size_t nu = strlen(user) + 1, np = strlen(pass);
    char *buf = malloc(nu + np);
    bool ok;

    if (buf == NULL)
        return false;
    memcpy(buf, user, nu);
    memcpy(buf + nu, pass, np);
    ok = gnutls_hash_fast(GNUTLS_DIG_SHA256, buf, nu + np, digest) == 0;
    explicit_bzero(buf, nu + np);
    free(buf);
    return ok;
}

/* Is digest among the remembered good credentials? Constant-time per slot. */
static bool prom_auth_cached(const struct prom_server *s, const uint8_t digest[32])
{
    bool hit = false;

    for (size_t i = 0; i < PROM_AUTH_SLOTS; i++) {
        uint8_t diff = 0;

        for (size_t k = 0; k < 32; k++)
            diff |= (uint8_t)(s->auth[i].digest[k] ^ digest[k]);
        hit |= s->auth[i].used && diff == 0;
    }
    return hit;
}

static bool prom_check_user(struct prom_server *s, const char *user, const char *pass)
{
    uint8_t digest[32];
    bool have = prom_auth_digest(user, pass, digest);

    if (have && prom_auth_cached(s, digest))
        return true;
    if (!webconfig_check_user(s->wc, user, pass))
        return false;
    if (have) {
        memcpy(s->auth[s->auth_next].digest, digest, sizeof(digest));
        s->auth[s->auth_next].used = true;
        s->auth_next = (s->auth_next + 1) % PROM_AUTH_SLOTS;
    }
    return true;
}

/* Basic auth per the web config: true when allowed. */
static bool prom_authorized(struct prom_server *s, struct MHD_Connection *c)
{
    char *pass = NULL;
    char *user;
    bool ok;

    if (!webconfig_has_users(s->wc))
        return true;
    user = MHD_basic_auth_get_username_password(c, &pass);
    ok = user != NULL && pass != NULL && prom_check_user(s, user, pass);
    if (pass != NULL) {
        explicit_bzero(pass, strlen(pass));
        MHD_free(pass);
    }
    if (user != NULL)
        MHD_free(user);
    return ok;
}

static enum MHD_Result prom_unauthorized(struct prom_server *s, struct MHD_Connection *c)
{
    static const char msg[] = "Unauthorized\n";
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(msg), (void *)msg, MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ret;

    atomic_fetch_add_explicit(&s->unauthorized, 1, memory_order_relaxed);
    if (r == NULL)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
    ret = MHD_queue_basic_auth_fail_response(c, PROM_REALM, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result prom_handle(void *cls, struct MHD_Connection *c, const char *url,
                                   const char *method, const char *version, const char *upload_data,
                                   size_t *upload_size, void **con_cls)
{
    struct prom_server *s = cls;
    gnutls_session_t session;

    (void)version, (void)upload_data, (void)upload_size, (void)con_cls;
    atomic_fetch_add_explicit(&s->requests, 1, memory_order_relaxed);
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return prom_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "Method Not Allowed\n");
    if (s->wc != NULL && s->wc->tls && s->wc->client_auth != WEBCONFIG_NO_CLIENT_CERT) {
        session = prom_session(c);
        if (session == NULL || !prom_cert_ok(s->wc, session)) {
            atomic_fetch_add_explicit(&s->unauthorized, 1, memory_order_relaxed);
            return prom_text(c, MHD_HTTP_FORBIDDEN, "client certificate refused\n");
        }
    }
    if (!prom_authorized(s, c))
        return prom_unauthorized(s, c);
    if (strcmp(url, "/metrics") == 0)
        return prom_metrics(s, c);
    if (strcmp(url, "/") == 0)
        return prom_reply(c, MHD_HTTP_OK, "text/html; charset=utf-8", prom_index_html,
                          strlen(prom_index_html), MHD_RESPMEM_PERSISTENT);
    return prom_text(c, MHD_HTTP_NOT_FOUND, "Not Found\n");
}

/* ---- start and stop ---- */

static void prom_log(void *cls, const char *fmt, va_list ap)
{
    struct prom_server *s = cls;

    size_t n;

    vsnprintf(s->log, sizeof(s->log), fmt, ap);
    n = strlen(s->log);
    while (n > 0 && (s->log[n - 1] == '\n' || s->log[n - 1] == '\r'))
        s->log[--n] = '\0';
}

static void prom_opt(struct MHD_OptionItem *o, size_t *n, enum MHD_OPTION opt, intptr_t v, void *p)
{
    o[*n].option = opt;
    o[*n].value = v;
    o[*n].ptr_value = p;
    (*n)++;
}

/* The option list for s on l; returns the MHD_USE_* flags. */
static unsigned int prom_options(struct prom_server *s, struct prom_listen *l,
                                 struct MHD_OptionItem *o)
{
    unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG;
    size_t n = 0;

    prom_opt(o, &n, MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)prom_log, s);
    prom_opt(o, &n, MHD_OPTION_CONNECTION_LIMIT, PROM_MAX_CONNS, NULL);
    prom_opt(o, &n, MHD_OPTION_CONNECTION_TIMEOUT, PROM_TIMEOUT_S, NULL);
    if (l->any)
        flags |= MHD_USE_DUAL_STACK;
    else
        prom_opt(o, &n, MHD_OPTION_SOCK_ADDR, 0, &l->addr);
    if (!l->any && l->addr.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    if (s->wc != NULL && s->wc->tls) {
        flags |= MHD_USE_TLS;
        webconfig_priorities(s->wc, s->prio, sizeof(s->prio));
        prom_opt(o, &n, MHD_OPTION_HTTPS_MEM_KEY, 0, s->wc->key_pem);
        prom_opt(o, &n, MHD_OPTION_HTTPS_MEM_CERT, 0, s->wc->cert_pem);
        prom_opt(o, &n, MHD_OPTION_HTTPS_PRIORITIES, 0, s->prio);
        if (s->wc->ca_pem != NULL)
            prom_opt(o, &n, MHD_OPTION_HTTPS_MEM_TRUST, 0, s->wc->ca_pem);
        prom_opt(o, &n, MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)prom_notify, s);
    }
    prom_opt(o, &n, MHD_OPTION_END, 0, NULL);
    return flags;
}

static struct MHD_Daemon *prom_daemon(struct prom_server *s, struct prom_listen *l)
{
    struct MHD_OptionItem opts[PROM_MAX_OPTS];
    unsigned int flags = prom_options(s, l, opts);

    return MHD_start_daemon(flags, l->port, NULL, NULL, prom_handle, s, MHD_OPTION_ARRAY, opts,
                            MHD_OPTION_END);
}

struct prom_server *prom_start(struct metrics *m, const char *listen, const struct webconfig *wc,
                               char *err)
{
    struct prom_listen l;
    struct prom_server *s;
    const union MHD_DaemonInfo *di;

    if (!prom_parse_listen(listen, &l, err))
        return NULL;
    s = calloc(1, sizeof(*s));
    if (s == NULL) {
        prom_err(err, "--metrics-listen %s: out of memory", listen);
        return NULL;
    }
    s->m = m;
    s->wc = wc;
    s->d = prom_daemon(s, &l);
    if (s->d == NULL && l.any) {
        /* No IPv6 on this host: all IPv4 addresses instead. */
        struct sockaddr_in *in4 = (struct sockaddr_in *)&l.addr;
        l.any = false;
        in4->sin_family = AF_INET;
        in4->sin_port = htons(l.port);
        in4->sin_addr.s_addr = htonl(INADDR_ANY);
        s->d = prom_daemon(s, &l);
    }
    if (s->d == NULL) {
        prom_err(err, "--metrics-listen %s: cannot serve: %s", listen,
                 s->log[0] ? s->log : "libmicrohttpd failed to start");
        free(s);
        return NULL;
    }
    di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : l.port;
    return s;
}

uint16_t prom_port(const struct prom_server *s)
{
    return s->port;
}

void prom_get_stats(const struct prom_server *s, struct prom_stats *st)
{
    struct prom_server *w = (struct prom_server *)s; /* atomics loads need non-const */

    st->requests = atomic_load_explicit(&w->requests, memory_order_relaxed);
    st->scrapes = atomic_load_explicit(&w->scrapes, memory_order_relaxed);
    st->unauthorized = atomic_load_explicit(&w->unauthorized, memory_order_relaxed);
    st->render_errors = atomic_load_explicit(&w->render_errors, memory_order_relaxed);
}

void prom_stop(struct prom_server *s)
{
    if (s == NULL)
        return;
    MHD_stop_daemon(s->d);
    free(s);
}
