/* Web configuration of the metrics endpoint, in the file format of the
 * Prometheus exporter-toolkit (--web-config FILE):
 *
 *   tls_server_config:
 *     cert_file: server.crt          # paths relative to the config file
 *     key_file: server.key
 *     client_auth_type: RequireAndVerifyClientCert
 *     client_ca_file: ca.crt
 *     min_version: TLS12             # TLS10 .. TLS13; default TLS12
 *     max_version: TLS13
 *   basic_auth_users:
 *     alice: $2y$10$...              # bcrypt hashes, checked with libxcrypt
 *
 * client_auth_type is one of NoClientCert (default), RequestClientCert,
 * RequireAnyClientCert, VerifyClientCertIfGiven, RequireAndVerifyClientCert,
 * with Go's meaning. The toolkit's other keys (cipher_suites,
 * curve_preferences, prefer_server_cipher_suites, client_allowed_sans,
 * http_server_config) are rejected with an error rather than ignored, so a
 * config never looks stricter than what is enforced.
 */
#ifndef VTLS_WEBCONFIG_H
#define VTLS_WEBCONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WEBCONFIG_ERRLEN    512
#define WEBCONFIG_MAX_USERS 64
#define WEBCONFIG_MAX_FILE  (1024 * 1024) /* cert, key and CA files, bytes */

enum webconfig_client_auth {
    WEBCONFIG_NO_CLIENT_CERT,
    WEBCONFIG_REQUEST_CLIENT_CERT,
    WEBCONFIG_REQUIRE_ANY_CLIENT_CERT,
    WEBCONFIG_VERIFY_CLIENT_CERT_IF_GIVEN,
    WEBCONFIG_REQUIRE_AND_VERIFY_CLIENT_CERT,
};

struct webconfig_user {
    char *name;
    char *hash; /* bcrypt: $2a$, $2b$ or $2y$ */
};

struct webconfig {
    bool tls;                                    /* cert_file and key_file given */
    char *cert_file, *key_file, *client_ca_file; /* resolved paths, NULL if unset */
    char *cert_pem, *key_pem, *ca_pem;           /* their contents, NUL-terminated */
    enum webconfig_client_auth client_auth;
    uint16_t min_version, max_version; /* 0x0301 (TLS 1.0) .. 0x0304 (TLS 1.3) */
    struct webconfig_user *users;
    size_t nusers;
};

/* Load and check path. Returns the config (free with webconfig_free) or NULL
 * with "path:line:column: reason" in err (WEBCONFIG_ERRLEN bytes) for YAML
 * and schema errors, "path: reason" for unreadable files, inconsistent
 * settings (cert without key, a client CA without a verifying
 * client_auth_type or the reverse) and invalid bcrypt hashes. */
struct webconfig *webconfig_load(const char *path, char *err);

/* NULL is a no-op. */
void webconfig_free(struct webconfig *wc);

/* True when wc asks for basic auth (at least one user). */
bool webconfig_has_users(const struct webconfig *wc);

/* Check user and password against the bcrypt hashes. An unknown user costs
 * one bcrypt run too, and the final comparison is constant-time. Returns
 * true only for a listed user with the right password. */
bool webconfig_check_user(const struct webconfig *wc, const char *user, const char *pass);

/* The GnuTLS priority string for wc's version range into buf (len bytes);
 * returns buf. */
const char *webconfig_priorities(const struct webconfig *wc, char *buf, size_t len);

#endif
