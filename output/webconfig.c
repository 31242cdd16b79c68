/* exporter-toolkit web config: YAML loading, checks, bcrypt. See webconfig.h. */
#include "output/webconfig.h"

#include <crypt.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* Spent on an unknown user so it costs as much as a known one. */
#define WEBCONFIG_DUMMY_HASH "$2b$10$iCq3NJvunLQDGJ8JAvuI6eiFS0Sey9ym/dK8xrEoU4SWgcbVpyKCO"

struct webconfig_ctx {
    const char *path;
    yaml_document_t *doc;
    struct webconfig *wc;
    char *err;
};

static void webconfig_err(char *err, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, WEBCONFIG_ERRLEN, fmt, ap);
    va_end(ap);
}

/* "path:line:column: message" for node n (lines and columns from 1). */
static bool webconfig_node_err(struct webconfig_ctx *c, const yaml_node_t *n, const char *fmt, ...)
{
    char msg[WEBCONFIG_ERRLEN];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    webconfig_err(c->err, "%s:%zu:%zu: %s", c->path, n->start_mark.line + 1,
                  n->start_mark.column + 1, msg);
    return false;
}

static char *webconfig_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);

    if (d != NULL)
        memcpy(d, s, n);
    return d;
}

static const char *webconfig_scalar(const yaml_node_t *n)
{
    return n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* A path relative to the directory of the config file, as the toolkit does. */
static char *webconfig_resolve(const char *cfg, const char *p)
{
    const char *slash = strrchr(cfg, '/');
    size_t dir = slash ? (size_t)(slash - cfg) + 1 : 0;
    size_t n = strlen(p);
    char *out;

    if (p[0] == '/' || dir == 0)
        return webconfig_strdup(p);
    out = malloc(dir + n + 1);
    if (out == NULL)
        return NULL;
    memcpy(out, cfg, dir);
    memcpy(out + dir, p, n + 1);
    return out;
}

/* Read a whole (small) file into a NUL-terminated string. */
static char *webconfig_read(const char *path, char *err)
{
    FILE *fp = fopen(path, "rb");
    char *buf = NULL;
    size_t n;

    if (fp == NULL) {
        webconfig_err(err, "%s: %s", path, strerror(errno));
        return NULL;
    }
    buf = malloc(WEBCONFIG_MAX_FILE + 1);
    if (buf == NULL) {
        webconfig_err(err, "%s: out of memory", path);
        goto out;
    }
    n = fread(buf, 1, WEBCONFIG_MAX_FILE + 1, fp);
    if (ferror(fp) || n > WEBCONFIG_MAX_FILE || n == 0) {
        webconfig_err(err, "%s: %s", path,
                      ferror(fp) ? "read error" : (n ? "larger than 1 MiB" : "empty file"));
        free(buf);
        buf = NULL;
        goto out;
    }
    buf[n] = '\0';
out:
    fclose(fp);
    return buf;
}

/* Set *dst to the resolved path of scalar value v. */
static bool webconfig_path(struct webconfig_ctx *c, const yaml_node_t *v, char **dst)
{
    const char *s = webconfig_scalar(v);

    if (s == NULL)
        return webconfig_node_err(c, v, "expected a file name");
    free(*dst);
    *dst = NULL;
    if (*s == '\0')
        return true;
    *dst = webconfig_resolve(c->path, s);
    if (*dst == NULL)
        return webconfig_node_err(c, v, "out of memory");
    return true;
}

static bool webconfig_client_auth(struct webconfig_ctx *c, const yaml_node_t *v)
{
    static const char *const names[] = {"NoClientCert", "RequestClientCert", "RequireAnyClientCert",
                                        "VerifyClientCertIfGiven", "RequireAndVerifyClientCert"};
    const char *s = webconfig_scalar(v);

    for (size_t i = 0; s != NULL && i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(s, names[i]) == 0) {
            c->wc->client_auth = (enum webconfig_client_auth)i;
            return true;
        }
    }
    if (s != NULL && *s == '\0')
        return true;
    return webconfig_node_err(c, v, "invalid client_auth_type \"%s\"", s ? s : "");
}

static bool webconfig_version(struct webconfig_ctx *c, const yaml_node_t *v, uint16_t *dst)
{
    static const char *const names[] = {"TLS10", "TLS11", "TLS12", "TLS13"};
    const char *s = webconfig_scalar(v);

    for (size_t i = 0; s != NULL && i < 4; i++) {
        if (strcmp(s, names[i]) == 0) {
            *dst = (uint16_t)(0x0301 + i);
            return true;
        }
    }
    return webconfig_node_err(c, v, "invalid TLS version \"%s\" (TLS10..TLS13)", s ? s : "");
}

static bool webconfig_tls_key(struct webconfig_ctx *c, const char *key, const yaml_node_t *k,
                              const yaml_node_t *v)
{
    struct webconfig *wc = c->wc;

    if (strcmp(key, "cert_file") == 0)
        return webconfig_path(c, v, &wc->cert_file);
    if (strcmp(key, "key_file") == 0)
        return webconfig_path(c, v, &wc->key_file);
    if (strcmp(key, "client_ca_file") == 0)
        return webconfig_path(c, v, &wc->client_ca_file);
    if (strcmp(key, "client_auth_type") == 0)
        return webconfig_client_auth(c, v);
    if (strcmp(key, "min_version") == 0)
        return webconfig_version(c, v, &wc->min_version);
    if (strcmp(key, "max_version") == 0)
        return webconfig_version(c, v, &wc->max_version);
    if (strcmp(key, "cipher_suites") == 0 || strcmp(key, "curve_preferences") == 0 ||
        strcmp(key, "prefer_server_cipher_suites") == 0 || strcmp(key, "client_allowed_sans") == 0)
        return webconfig_node_err(c, k, "%s is not supported by vtls-sensor", key);
    return webconfig_node_err(c, k, "unknown key \"%s\" in tls_server_config", key);
}

/* Call fn for each (key, value) of mapping n; keys must be scalars. */
static bool webconfig_each(struct webconfig_ctx *c, const yaml_node_t *n,
                           bool (*fn)(struct webconfig_ctx *, const char *, const yaml_node_t *,
                                      const yaml_node_t *))
{
    if (n->type == YAML_SCALAR_NODE && n->data.scalar.length == 0)
        return true; /* "key:" with nothing: an empty section */
    if (n->type != YAML_MAPPING_NODE)
        return webconfig_node_err(c, n, "expected a mapping");
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        const yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
        const yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
        const char *key = k ? webconfig_scalar(k) : NULL;

        if (key == NULL || v == NULL)
            return webconfig_node_err(c, k ? k : n, "expected a scalar key");
        if (!fn(c, key, k, v))
            return false;
    }
    return true;
}

static bool webconfig_hash_ok(const char *h)
{
    return (strncmp(h, "$2a$", 4) == 0 || strncmp(h, "$2b$", 4) == 0 ||
            strncmp(h, "$2y$", 4) == 0) &&
           crypt_checksalt(h) == CRYPT_SALT_OK && strlen(h) == 60;
}

static bool webconfig_user(struct webconfig_ctx *c, const char *key, const yaml_node_t *k,
                           const yaml_node_t *v)
{
    struct webconfig *wc = c->wc;
    const char *hash = webconfig_scalar(v);
    struct webconfig_user *u;

    if (hash == NULL || !webconfig_hash_ok(hash))
        return webconfig_node_err(c, v, "user \"%s\": not a bcrypt hash ($2a$, $2b$, $2y$)", key);
    for (size_t i = 0; i < wc->nusers; i++)
        if (strcmp(wc->users[i].name, key) == 0)
            return webconfig_node_err(c, k, "user \"%s\" listed twice", key);
    if (wc->nusers == WEBCONFIG_MAX_USERS)
        return webconfig_node_err(c, k, "more than %d users", WEBCONFIG_MAX_USERS);
    if (wc->users == NULL)
        wc->users = calloc(WEBCONFIG_MAX_USERS, sizeof(*wc->users));
    if (wc->users == NULL)
        return webconfig_node_err(c, k, "out of memory");
    u = &wc->users[wc->nusers];
    u->name = webconfig_strdup(key);
    u->hash = webconfig_strdup(hash);
    wc->nusers++;
    if (u->name == NULL || u->hash == NULL)
        return webconfig_node_err(c, k, "out of memory");
    return true;
}

static bool webconfig_top(struct webconfig_ctx *c, const char *key, const yaml_node_t *k,
                          const yaml_node_t *v)
{
    if (strcmp(key, "tls_server_config") == 0)
        return webconfig_each(c, v, webconfig_tls_key);
    if (strcmp(key, "basic_auth_users") == 0)
        return webconfig_each(c, v, webconfig_user);
    if (strcmp(key, "http_server_config") == 0)
        return webconfig_node_err(c, k, "http_server_config is not supported by vtls-sensor");
    return webconfig_node_err(c, k, "unknown key \"%s\"", key);
}

/* Consistency checks of the toolkit, then the files are read. */
static bool webconfig_finish(struct webconfig *wc, const char *path, char *err)
{
    bool verify = wc->client_auth == WEBCONFIG_VERIFY_CLIENT_CERT_IF_GIVEN ||
                  wc->client_auth == WEBCONFIG_REQUIRE_AND_VERIFY_CLIENT_CERT;

    if ((wc->cert_file == NULL) != (wc->key_file == NULL)) {
        webconfig_err(err, "%s: tls_server_config needs both cert_file and key_file", path);
        return false;
    }
    wc->tls = wc->cert_file != NULL;
    if (!wc->tls && (wc->client_ca_file != NULL || wc->client_auth != WEBCONFIG_NO_CLIENT_CERT)) {
        webconfig_err(err, "%s: client certificates need cert_file and key_file", path);
        return false;
    }
    if (wc->client_ca_file != NULL && !verify) {
        webconfig_err(err,
                      "%s: client_ca_file needs client_auth_type VerifyClientCertIfGiven "
                      "or RequireAndVerifyClientCert",
                      path);
        return false;
    }
    if (verify && wc->client_ca_file == NULL) {
        webconfig_err(err, "%s: this client_auth_type needs client_ca_file", path);
        return false;
    }
    if (wc->min_version > wc->max_version) {
        webconfig_err(err, "%s: min_version is above max_version", path);
        return false;
    }
    if (!wc->tls)
        return true;
    wc->cert_pem = webconfig_read(wc->cert_file, err);
    wc->key_pem = wc->cert_pem ? webconfig_read(wc->key_file, err) : NULL;
    if (wc->key_pem != NULL && wc->client_ca_file != NULL)
        wc->ca_pem = webconfig_read(wc->client_ca_file, err);
    return wc->key_pem != NULL && (wc->client_ca_file == NULL || wc->ca_pem != NULL);
}

static bool webconfig_parse(struct webconfig_ctx *c, FILE *fp)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    yaml_node_t *root;
    bool ok = false;

    yaml_parser_initialize(&parser);
    yaml_parser_set_input_file(&parser, fp);
    if (!yaml_parser_load(&parser, &doc)) {
        webconfig_err(c->err, "%s:%zu:%zu: %s", c->path, parser.problem_mark.line + 1,
                      parser.problem_mark.column + 1,
                      parser.problem ? parser.problem : "YAML error");
        yaml_parser_delete(&parser);
        return false;
    }
    c->doc = &doc;
    root = yaml_document_get_root_node(&doc);
    ok = root == NULL || webconfig_each(c, root, webconfig_top);
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    return ok;
}

struct webconfig *webconfig_load(const char *path, char *err)
{
    struct webconfig *wc = calloc(1, sizeof(*wc));
    struct webconfig_ctx c = {.path = path, .wc = wc, .err = err};
    FILE *fp;

    if (wc == NULL) {
        webconfig_err(err, "%s: out of memory", path);
        return NULL;
    }
    wc->min_version = 0x0303;
    wc->max_version = 0x0304;
    fp = fopen(path, "rb");
    if (fp == NULL) {
        webconfig_err(err, "%s: %s", path, strerror(errno));
        webconfig_free(wc);
        return NULL;
    }
    if (!webconfig_parse(&c, fp) || !webconfig_finish(wc, path, err)) {
        fclose(fp);
        webconfig_free(wc);
        return NULL;
    }
    fclose(fp);
    return wc;
}

void webconfig_free(struct webconfig *wc)
{
    if (wc == NULL)
        return;
    for (size_t i = 0; i < wc->nusers; i++) {
        free(wc->users[i].name);
        free(wc->users[i].hash);
    }
    free(wc->users);
    free(wc->cert_file);
    free(wc->key_file);
    free(wc->client_ca_file);
    free(wc->cert_pem);
    if (wc->key_pem != NULL)
        explicit_bzero(wc->key_pem, strlen(wc->key_pem));
    free(wc->key_pem);
    free(wc->ca_pem);
    free(wc);
}

bool webconfig_has_users(const struct webconfig *wc)
{
    return wc != NULL && wc->nusers > 0;
}

/* Compare two strings in time that depends only on their lengths. */
static bool webconfig_equal(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    unsigned char diff = na != nb;

    for (size_t i = 0; i < na && i < nb; i++)
        diff |= (unsigned char)(a[i] ^ b[i]);
    return diff == 0;
}

bool webconfig_check_user(const struct webconfig *wc, const char *user, const char *pass)
{
    const char *hash = WEBCONFIG_DUMMY_HASH;
    bool known = false;
    struct crypt_data *cd;
    bool ok;

    if (wc == NULL || user == NULL || pass == NULL)
        return false;
    for (size_t i = 0; i < wc->nusers; i++) {
        if (strcmp(wc->users[i].name, user) == 0) {
            hash = wc->users[i].hash;
            known = true;
        }
    }
    cd = calloc(1, sizeof(*cd));
    if (cd == NULL)
        return false;
    ok = crypt_rn(pass, hash, cd, sizeof(*cd)) != NULL && webconfig_equal(cd->output, hash);
    explicit_bzero(cd, sizeof(*cd));
    free(cd);
    return ok && known;
}

const char *webconfig_priorities(const struct webconfig *wc, char *buf, size_t len)
{
    static const char *const vers[] = {"+VERS-TLS1.0", "+VERS-TLS1.1", "+VERS-TLS1.2",
                                       "+VERS-TLS1.3"};
    size_t o = (size_t)snprintf(buf, len, "NORMAL:-VERS-ALL");

    for (uint16_t v = wc->min_version; v <= wc->max_version && v <= 0x0304; v++)
        if (v >= 0x0301 && o < len)
            o += (size_t)snprintf(buf + o, len - o, ":%s", vers[v - 0x0301]);
    return buf;
}
