/* The default policy rules/vitess-tls.yaml: every rule fires on an event
 * built for its bad case, with exactly the set of rules the captures'
 * expected files list, and stays silent on the matching good case.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "helper_rules.h"
#include "rules/rules.h"

#define POLICY VTLS_SOURCE_DIR "/rules/vitess-tls.yaml"

static struct rules_set *policy;

static void load_policy(void)
{
    const char *paths[] = {POLICY};
    struct rules_errors e = {0};
    policy = rules_load(paths, 1, &e);
    trl_dump(&e);
    rules_errors_free(&e);
    cr_assert_not_null(policy);
}

static void free_policy(void)
{
    rules_set_release(policy);
}

/* ---- events ---- */

static void set_v4(struct rules_addr *a, uint8_t last)
{
    a->family = RULES_AF_INET;
    memcpy(a->b, (uint8_t[]){10, 99, 0, last}, 4);
}

/* A clean TLS 1.2 flow like tls12-basic.pcap: nothing fires. */
static void base_flow(struct rules_event *ev)
{
    memset(ev, 0, sizeof(*ev));
    ev->kind = RULES_EVENT_FLOW;
    ev->time = RULES_NUM(1796300000);
    set_v4(&ev->flow.src_ip, 1);
    set_v4(&ev->flow.dst_ip, 2);
    ev->flow.src_port = RULES_NUM(40000);
    ev->flow.dst_port = RULES_NUM(4433);
    ev->flow.proto = RULES_NUM(6);
    ev->flow.midstream = RULES_BOOL(false);
    ev->flow.encrypted = RULES_BOOL(true);
    ev->flow.app = "tls";
    ev->vitess.client = "unknown";
    ev->vitess.server = "unknown";
    ev->tls.version = RULES_NUM(0x0303);
    ev->tls.client_max_version = RULES_NUM(0x0304);
    ev->tls.cipher = "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256";
    ev->tls.cipher_id = RULES_NUM(0xc02f);
    ev->tls.cs.kx = "ECDHE";
    ev->tls.cs.auth = "RSA";
    ev->tls.cs.enc = "AES-GCM";
    ev->tls.cs.mac = "AEAD";
    ev->tls.cs.strength = "recommended";
    ev->tls.cs.pfs = RULES_BOOL(true);
    ev->tls.cs.aead = RULES_BOOL(true);
    ev->tls.cs.bits = RULES_NUM(128);
    ev->tls.sni = "server.test";
    ev->tls.resumed = RULES_BOOL(false);
    ev->tls.client_cert = "not-requested";
}

static const char *const san[] = {"server.test"};

/* The leaf certificate of that flow: RSA 2048, 365 days, 300 left. */
static void base_cert(struct rules_event *ev)
{
    base_flow(ev);
    ev->kind = RULES_EVENT_CERTIFICATE;
    ev->cert.subject = "CN=server.test";
    ev->cert.issuer = "CN=vtls Test CA";
    ev->cert.subject_cn = "server.test";
    ev->cert.issuer_cn = "vtls Test CA";
    ev->cert.san.v = san;
    ev->cert.san.n = 1;
    ev->cert.not_before = RULES_NUM(1796300000 - 65 * 86400);
    ev->cert.not_after = RULES_NUM(1796300000 + 300 * 86400);
    ev->cert.days_left = RULES_NUM(300);
    ev->cert.validity_days = RULES_NUM(365);
    ev->cert.expired = RULES_BOOL(false);
    ev->cert.not_yet_valid = RULES_BOOL(false);
    ev->cert.key_type = "RSA";
    ev->cert.key_bits = RULES_NUM(2048);
    ev->cert.sig_alg = "sha256WithRSAEncryption";
    ev->cert.sig_hash_weak = RULES_BOOL(false);
    ev->cert.self_signed = RULES_BOOL(false);
    ev->cert.is_ca = RULES_BOOL(false);
    ev->cert.chain_valid = RULES_BOOL(true);
    ev->cert.sha256 = "8f1c0c0ffee0";
    ev->cert.sni_match = RULES_BOOL(true);
    ev->cert.observable = RULES_BOOL(true);
    ev->cert.shared_by_components = RULES_NUM(1);
    ev->cert.depth = RULES_NUM(0);
}

/* A plaintext flow of app between two components. */
static void plain(struct rules_event *ev, const char *app, const char *client, const char *server)
{
    base_flow(ev);
    memset(&ev->tls, 0, sizeof(ev->tls));
    ev->flow.encrypted = RULES_BOOL(false);
    ev->flow.app = app;
    ev->vitess.client = client;
    ev->vitess.server = server;
}

/* The same path in TLS 1.3 (certificate not observable). */
static void tls13(struct rules_event *ev, const char *app, const char *client, const char *server)
{
    base_flow(ev);
    ev->flow.app = app;
    ev->vitess.client = client;
    ev->vitess.server = server;
    ev->tls.version = RULES_NUM(0x0304);
    ev->tls.cipher = "TLS_AES_256_GCM_SHA384";
    ev->tls.cs.kx = "any";
    ev->tls.cs.auth = "any";
    ev->tls.client_cert = "not-observable";
}

static void grpc(struct rules_event *ev, const char *path, const char *service)
{
    ev->grpc.path = path;
    ev->grpc.service = service;
}

static void cipher(struct rules_event *ev, const char *name, const char *kx, const char *auth,
                   const char *enc, const char *mac, const char *strength, bool pfs)
{
    ev->tls.cipher = name;
    ev->tls.cs.kx = kx;
    ev->tls.cs.auth = auth;
    ev->tls.cs.enc = enc;
    ev->tls.cs.mac = mac;
    ev->tls.cs.strength = strength;
    ev->tls.cs.pfs = RULES_BOOL(pfs);
    ev->tls.cs.aead = RULES_BOOL(strcmp(mac, "AEAD") == 0);
}

/* ---- bad and good cases ---- */

static void app_vtgate_mysql_bad(struct rules_event *ev)
{
    plain(ev, "mysql", "app", "vtgate");
    ev->mysql.server_version = "8.0.30-Vitess";
    ev->mysql.user = "vt_app";
}
static void app_vtgate_mysql_bad_greeting(struct rules_event *ev)
{
    plain(ev, "mysql", "unknown", "unknown"); /* like mysql-vitess-greeting.pcap */
    ev->mysql.server_version = "8.0.30-Vitess";
}
static void app_vtgate_mysql_good(struct rules_event *ev)
{
    tls13(ev, "mysql", "app", "vtgate");
}

static void app_vtgate_grpc_bad(struct rules_event *ev)
{
    plain(ev, "grpc", "app", "vtgate");
    grpc(ev, "/vtgateservice.Vitess/Execute", "vtgateservice.Vitess");
}
static void app_vtgate_grpc_good(struct rules_event *ev)
{
    app_vtgate_grpc_bad(ev);
    ev->vitess.client = "vtadmin"; /* the default exception */
}

static void vtgate_vttablet_bad(struct rules_event *ev)
{
    plain(ev, "grpc", "vtgate", "vttablet");
    grpc(ev, "/queryservice.Query/StreamExecute", "queryservice.Query");
}
static void vtgate_vttablet_bad_midstream(struct rules_event *ev)
{
    plain(ev, "grpc", "vtgate", "vttablet"); /* grpc-midstream-plain: no path */
    ev->flow.midstream = RULES_BOOL(true);
}
static void vtgate_vttablet_good(struct rules_event *ev)
{
    tls13(ev, "tls", "vtgate", "vttablet");
}

static void vtctld_vttablet_bad(struct rules_event *ev)
{
    plain(ev, "grpc", "vtctld", "vttablet");
    grpc(ev, "/tabletmanagerservice.TabletManager/GetSchema", "tabletmanagerservice.TabletManager");
}
static void vtctld_vttablet_good(struct rules_event *ev)
{
    tls13(ev, "tls", "vtctld", "vttablet");
}

static void vtorc_vttablet_bad(struct rules_event *ev)
{
    plain(ev, "grpc", "vtorc", "vttablet");
    grpc(ev, "/tabletmanagerservice.TabletManager/FullStatus",
         "tabletmanagerservice.TabletManager");
}
static void vtorc_vttablet_good(struct rules_event *ev)
{
    tls13(ev, "tls", "vtorc", "vttablet");
}

static void vttablet_vttablet_bad(struct rules_event *ev)
{
    plain(ev, "grpc", "vttablet", "vttablet");
    grpc(ev, "/queryservice.Query/VStream", "queryservice.Query");
}
static void vttablet_vttablet_good(struct rules_event *ev)
{
    tls13(ev, "tls", "vttablet", "vttablet");
}

static void vttablet_mysqld_bad(struct rules_event *ev)
{
    plain(ev, "mysql", "vttablet", "mysqld");
    ev->mysql.server_version = "8.0.36";
    ev->mysql.server_ssl = RULES_BOOL(false);
    ev->mysql.client_ssl = RULES_BOOL(false);
    ev->mysql.user = "vt_dba";
    ev->mysql.auth_plugin = "caching_sha2_password";
}
static void vttablet_mysqld_good(struct rules_event *ev)
{
    tls13(ev, "mysql", "vttablet", "mysqld");
    ev->mysql.server_ssl = RULES_BOOL(true);
    ev->mysql.client_ssl = RULES_BOOL(true);
}

static void replication_bad(struct rules_event *ev)
{
    plain(ev, "mysql", "mysqld", "mysqld");
    ev->mysql.user = "vt_repl";
}
static void replication_good(struct rules_event *ev)
{
    tls13(ev, "mysql", "mysqld", "mysqld");
}

static void to_vtctld_bad(struct rules_event *ev)
{
    plain(ev, "grpc", "vtctldclient", "vtctld");
    grpc(ev, "/vtctlservice.Vtctld/GetKeyspaces", "vtctlservice.Vtctld");
}
static void to_vtctld_good(struct rules_event *ev)
{
    tls13(ev, "tls", "vtctldclient", "vtctld");
}

static void etcd_bad(struct rules_event *ev)
{
    plain(ev, "etcd", "vttablet", "etcd");
    grpc(ev, "/etcdserverpb.KV/Range", "etcdserverpb.KV");
}
static void etcd_good(struct rules_event *ev)
{
    plain(ev, NULL, "etcd", "etcd"); /* no payload recognised (etcd-peer-plain.pcap) */
}

static void zk_bad(struct rules_event *ev)
{
    plain(ev, "zookeeper", "unknown", "zookeeper");
}
static void zk_good(struct rules_event *ev)
{
    tls13(ev, "tls", "vtctld", "zookeeper");
}

static void etcd_peer_bad(struct rules_event *ev)
{
    plain(ev, "etcd-peer", "etcd", "etcd");
}
static void etcd_peer_good(struct rules_event *ev)
{
    tls13(ev, "tls", "etcd", "etcd");
}

static void http_admin_bad(struct rules_event *ev)
{
    plain(ev, "http", "unknown", "vttablet");
    ev->flow.dst_port = RULES_NUM(15100);
}
static void http_admin_good(struct rules_event *ev)
{
    plain(ev, "http", "unknown", "unknown"); /* not a Vitess web port */
}

static void downgrade_bad(struct rules_event *ev)
{
    plain(ev, "mysql", "unknown", "mysqld"); /* mysql-downgrade.pcap */
    ev->mysql.server_version = "5.5.5-10.11.19-MariaDB-0+deb12u1";
    ev->mysql.server_ssl = RULES_BOOL(true);
    ev->mysql.client_ssl = RULES_BOOL(false);
    ev->mysql.user = "vt_app";
    ev->mysql.auth_plugin = "mysql_native_password";
    ev->mysql.downgrade = RULES_BOOL(true);
}
static void downgrade_good(struct rules_event *ev)
{
    vttablet_mysqld_good(ev);
    ev->mysql.downgrade = RULES_BOOL(false);
}

static void cleartext_bad(struct rules_event *ev)
{
    plain(ev, "mysql", "unknown", "mysqld"); /* mysql-cleartext.pcap */
    ev->mysql.server_ssl = RULES_BOOL(false);
    ev->mysql.client_ssl = RULES_BOOL(false);
    ev->mysql.user = "vt_app";
    ev->mysql.auth_plugin = "mysql_clear_password";
    ev->mysql.cleartext_password = RULES_BOOL(true);
    ev->mysql.downgrade = RULES_BOOL(false);
}
static void cleartext_good(struct rules_event *ev)
{
    tls13(ev, "mysql", "app", "vtgate"); /* clear text inside TLS is fine */
    ev->mysql.auth_plugin = "mysql_clear_password";
    ev->mysql.cleartext_password = RULES_BOOL(true);
}

static void tls10_cbc_bad(struct rules_event *ev)
{
    base_flow(ev); /* tls10-cbc.pcap */
    ev->tls.version = RULES_NUM(0x0301);
    ev->tls.client_max_version = RULES_NUM(0x0301);
    cipher(ev, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE", "RSA", "AES-CBC", "SHA1",
           "acceptable", true);
}
static void tls11_server_bad(struct rules_event *ev)
{
    base_flow(ev); /* a modern client, a server stuck at TLS 1.1 */
    ev->tls.version = RULES_NUM(0x0302);
}
static void tls12_good(struct rules_event *ev)
{
    base_flow(ev);
}

static void client_max_bad(struct rules_event *ev)
{
    base_flow(ev);
    ev->tls.version = RULES_NUM(0x0302);
    ev->tls.client_max_version = RULES_NUM(0x0302);
}

static void rc4_bad(struct rules_event *ev)
{
    base_flow(ev);
    cipher(ev, "TLS_RSA_WITH_RC4_128_SHA", "RSA", "RSA", "RC4", "SHA1", "insecure", false);
}
static void null_bad(struct rules_event *ev)
{
    base_flow(ev);
    ev->flow.encrypted = RULES_BOOL(false); /* as tls12-null.json says */
    cipher(ev, "TLS_RSA_WITH_NULL_SHA256", "RSA", "RSA", "NULL", "SHA256", "insecure", false);
}
static void anon_bad(struct rules_event *ev)
{
    base_flow(ev);
    cipher(ev, "TLS_DH_anon_WITH_AES_128_GCM_SHA256", "DH", "anon", "AES-GCM", "AEAD", "insecure",
           false);
}
static void des3_bad(struct rules_event *ev)
{
    base_flow(ev);
    cipher(ev, "TLS_RSA_WITH_3DES_EDE_CBC_SHA", "RSA", "RSA", "3DES", "SHA1", "weak", false);
}
static void no_pfs_bad(struct rules_event *ev)
{
    base_flow(ev);
    cipher(ev, "TLS_RSA_WITH_AES_128_GCM_SHA256", "RSA", "RSA", "AES-GCM", "AEAD", "weak", false);
}
static void tls13_good(struct rules_event *ev)
{
    tls13(ev, "tls", "unknown", "unknown");
    ev->tls.cs.pfs = RULES_BOOL(false); /* TLS 1.3 suites name no kx */
}
static void cbc_bad(struct rules_event *ev)
{
    base_flow(ev);
    cipher(ev, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", "ECDHE", "RSA", "AES-CBC", "SHA256",
           "acceptable", true);
}

static void expired_bad(struct rules_event *ev)
{
    base_cert(ev);
    ev->cert.days_left = RULES_NUM(-3);
    ev->cert.expired = RULES_BOOL(true);
}
static void expired_bad_last_hours(struct rules_event *ev)
{
    base_cert(ev); /* expired hours ago: days_left floors to -1 */
    ev->cert.days_left = RULES_NUM(-1);
    ev->cert.expired = RULES_BOOL(true);
}
static void cert_good(struct rules_event *ev)
{
    base_cert(ev);
}

static void not_yet_valid_bad(struct rules_event *ev)
{
    base_cert(ev);
    ev->cert.not_yet_valid = RULES_BOOL(true);
    ev->cert.days_left = RULES_NUM(366);
}

static void expiring_bad(struct rules_event *ev)
{
    base_cert(ev);
    ev->cert.days_left = RULES_NUM(12);
}
static void expiring_good(struct rules_event *ev)
{
    base_cert(ev);
    ev->cert.days_left = RULES_NUM(30);
}

static void weak_key_bad(struct rules_event *ev)
{
    base_cert(ev);
    ev->cert.key_bits = RULES_NUM(1024);
}
static void weak_ec_bad(struct rules_event *ev)
{
    base_cert(ev);
    ev->cert.key_type = "EC";
    ev->cert.key_bits = RULES_NUM(224);
}
static void ec256_good(struct rules_event *ev)
{
    base_cert(ev);
    ev->cert.key_type = "EC";
    ev->cert.key_bits = RULES_NUM(256);
}

static void sha1_bad(struct rules_event *ev)
{
    base_cert(ev);
    ev->cert.sig_alg = "sha1WithRSAEncryption";
    ev->cert.sig_hash_weak = RULES_BOOL(true);
}
static void sha1_root_good(struct rules_event *ev)
{
    sha1_bad(ev); /* an old root's self-signature does not matter */
    ev->cert.depth = RULES_NUM(1);
    ev->cert.self_signed = RULES_BOOL(true);
    ev->cert.is_ca = RULES_BOOL(true);
    ev->cert.validity_days = RULES_NUM(365);
}

static void selfsigned_1024_bad(struct rules_event *ev)
{
    base_cert(ev); /* cert-selfsigned-1024.pcap */
    ev->cert.key_bits = RULES_NUM(1024);
    ev->cert.self_signed = RULES_BOOL(true);
    ev->cert.chain_valid = RULES_BOOL(false);
    ev->cert.chain_error = "self-signed certificate";
}
static void selfsigned_bad(struct rules_event *ev)
{
    selfsigned_1024_bad(ev);
    ev->cert.key_bits = RULES_NUM(2048);
}
static void root_in_chain_good(struct rules_event *ev)
{
    base_cert(ev);
    ev->cert.depth = RULES_NUM(1);
    ev->cert.self_signed = RULES_BOOL(true);
    ev->cert.is_ca = RULES_BOOL(true);
}

static void untrusted_bad(struct rules_event *ev)
{
    base_cert(ev);
    ev->cert.chain_valid = RULES_BOOL(false);
    ev->cert.chain_error = "unable to get local issuer certificate";
}

static void mismatch_bad(struct rules_event *ev)
{
    base_cert(ev);
    ev->tls.sni = "other.test";
    ev->cert.sni_match = RULES_BOOL(false);
}
static void no_sni_good(struct rules_event *ev)
{
    base_cert(ev);
    ev->tls.sni = NULL;
    ev->cert.sni_match = RULES_UNSET;
}

static void long_validity_bad(struct rules_event *ev)
{
    base_cert(ev);
    ev->cert.validity_days = RULES_NUM(825);
}
static void ca_validity_good(struct rules_event *ev)
{
    root_in_chain_good(ev);
    ev->cert.validity_days = RULES_NUM(3650);
}

static void shared_bad(struct rules_event *ev)
{
    base_cert(ev);
    ev->cert.shared_by_components = RULES_NUM(3);
}

static void no_client_cert_bad(struct rules_event *ev)
{
    base_flow(ev);
    ev->vitess.client = "vtgate";
    ev->vitess.server = "vttablet";
    ev->tls.client_cert = "requested-none";
}
static void client_cert_good(struct rules_event *ev)
{
    no_client_cert_bad(ev);
    ev->tls.client_cert = "presented";
}
static void client_cert_hidden_good(struct rules_event *ev)
{
    tls13(ev, "tls", "vtgate", "vttablet"); /* TLS 1.3: not observable */
}

static void alert_bad(struct rules_event *ev)
{
    base_flow(ev);
    ev->tls.alert = "unknown_ca";
    ev->tls.alert_fatal = RULES_BOOL(true);
}
static void alert_good(struct rules_event *ev)
{
    base_flow(ev);
    ev->tls.alert = "close_notify";
    ev->tls.alert_fatal = RULES_BOOL(false);
}

struct policy_case {
    const char *rule;
    void (*bad)(struct rules_event *);
    const char *fires; /* every rule the bad event fires, comma-separated */
    void (*good)(struct rules_event *);
};

static const struct policy_case cases[] = {
    {"plaintext-app-to-vtgate-mysql", app_vtgate_mysql_bad, "plaintext-app-to-vtgate-mysql",
     app_vtgate_mysql_good},
    {"plaintext-app-to-vtgate-mysql", app_vtgate_mysql_bad_greeting,
     "plaintext-app-to-vtgate-mysql", app_vtgate_mysql_good},
    {"plaintext-app-to-vtgate-grpc", app_vtgate_grpc_bad, "plaintext-app-to-vtgate-grpc",
     app_vtgate_grpc_good},
    {"plaintext-vtgate-to-vttablet", vtgate_vttablet_bad, "plaintext-vtgate-to-vttablet",
     vtgate_vttablet_good},
    {"plaintext-vtgate-to-vttablet", vtgate_vttablet_bad_midstream, "plaintext-vtgate-to-vttablet",
     vtgate_vttablet_good},
    {"plaintext-vtctld-to-vttablet", vtctld_vttablet_bad, "plaintext-vtctld-to-vttablet",
     vtctld_vttablet_good},
    {"plaintext-vtorc-to-vttablet", vtorc_vttablet_bad, "plaintext-vtorc-to-vttablet",
     vtorc_vttablet_good},
    {"plaintext-vttablet-to-vttablet", vttablet_vttablet_bad, "plaintext-vttablet-to-vttablet",
     vttablet_vttablet_good},
    {"plaintext-vttablet-to-mysqld", vttablet_mysqld_bad, "plaintext-vttablet-to-mysqld",
     vttablet_mysqld_good},
    {"plaintext-mysql-replication", replication_bad, "plaintext-mysql-replication",
     replication_good},
    {"plaintext-to-vtctld", to_vtctld_bad, "plaintext-to-vtctld", to_vtctld_good},
    {"plaintext-topology-etcd", etcd_bad, "plaintext-topology-etcd", etcd_good},
    {"plaintext-topology-zookeeper", zk_bad, "plaintext-topology-zookeeper", zk_good},
    {"plaintext-etcd-peer", etcd_peer_bad, "plaintext-etcd-peer", etcd_peer_good},
    {"plaintext-vitess-http-admin", http_admin_bad, "plaintext-vitess-http-admin", http_admin_good},
    {"mysql-tls-downgrade", downgrade_bad, "plaintext-vttablet-to-mysqld,mysql-tls-downgrade",
     downgrade_good},
    {"mysql-cleartext-password-without-tls", cleartext_bad,
     "plaintext-vttablet-to-mysqld,mysql-cleartext-password-without-tls", cleartext_good},
    {"tls-version-below-1.2", tls10_cbc_bad,
     "tls-version-below-1.2,tls-client-max-below-1.2,tls-cipher-cbc", tls12_good},
    {"tls-version-below-1.2", tls11_server_bad, "tls-version-below-1.2", tls12_good},
    {"tls-client-max-below-1.2", client_max_bad, "tls-version-below-1.2,tls-client-max-below-1.2",
     tls12_good},
    {"tls-cipher-insecure", rc4_bad, "tls-cipher-insecure,tls-cipher-no-forward-secrecy",
     tls12_good},
    {"tls-cipher-insecure", null_bad, "tls-cipher-insecure,tls-cipher-no-forward-secrecy",
     tls12_good},
    {"tls-cipher-insecure", anon_bad, "tls-cipher-insecure", tls12_good},
    {"tls-cipher-weak", des3_bad, "tls-cipher-weak,tls-cipher-no-forward-secrecy,tls-cipher-cbc",
     tls12_good},
    {"tls-cipher-no-forward-secrecy", no_pfs_bad, "tls-cipher-no-forward-secrecy", tls13_good},
    {"tls-cipher-cbc", cbc_bad, "tls-cipher-cbc", tls12_good},
    {"cert-expired", expired_bad, "cert-expired", cert_good},
    {"cert-expired", expired_bad_last_hours, "cert-expired", cert_good},
    {"cert-not-yet-valid", not_yet_valid_bad, "cert-not-yet-valid", cert_good},
    {"cert-expiring-soon", expiring_bad, "cert-expiring-soon", expiring_good},
    {"cert-weak-key", weak_key_bad, "cert-weak-key", cert_good},
    {"cert-weak-key", weak_ec_bad, "cert-weak-key", ec256_good},
    {"cert-weak-signature", sha1_bad, "cert-weak-signature", sha1_root_good},
    {"cert-self-signed", selfsigned_1024_bad, "cert-weak-key,cert-self-signed,cert-untrusted-ca",
     root_in_chain_good},
    {"cert-self-signed", selfsigned_bad, "cert-self-signed,cert-untrusted-ca", cert_good},
    {"cert-untrusted-ca", untrusted_bad, "cert-untrusted-ca", cert_good},
    {"cert-name-mismatch", mismatch_bad, "cert-name-mismatch", no_sni_good},
    {"cert-validity-too-long", long_validity_bad, "cert-validity-too-long", ca_validity_good},
    {"cert-shared-by-components", shared_bad, "cert-shared-by-components", cert_good},
    {"grpc-no-client-cert", no_client_cert_bad, "grpc-no-client-cert", client_cert_good},
    {"grpc-no-client-cert", no_client_cert_bad, "grpc-no-client-cert", client_cert_hidden_good},
    {"tls-fatal-alert", alert_bad, "tls-fatal-alert", alert_good},
};

/* The names fired on ev, comma-separated in policy order. */
static void fired(const struct rules_event *ev, char *buf, size_t len)
{
    struct trl_hits h = {.n = 0};
    buf[0] = '\0';
    rules_set_eval(policy, ev, trl_collect, &h);
    for (size_t i = 0; i < h.n; i++) {
        if (i)
            strncat(buf, ",", len - strlen(buf) - 1);
        strncat(buf, h.names[i], len - strlen(buf) - 1);
    }
}

Test(rules_policy, each_rule_fires_on_bad_and_not_on_good, .init = load_policy, .fini = free_policy)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct policy_case *c = &cases[i];
        struct rules_event ev;
        char got[1024];

        c->bad(&ev);
        fired(&ev, got, sizeof(got));
        cr_expect_str_eq(got, c->fires, "case %zu (%s): bad event fired [%s]", i, c->rule, got);
        c->good(&ev);
        fired(&ev, got, sizeof(got));
        cr_expect_str_eq(got, "", "case %zu (%s): good event fired [%s]", i, c->rule, got);
    }
}

Test(rules_policy, every_rule_is_tested_and_named_as_agreed, .init = load_policy,
     .fini = free_policy)
{
    /* /work/notes/rule-names.md, the names expected files use */
    static const char *const names[] = {
        "plaintext-app-to-vtgate-mysql",
        "plaintext-app-to-vtgate-grpc",
        "plaintext-vtgate-to-vttablet",
        "plaintext-vtctld-to-vttablet",
        "plaintext-vtorc-to-vttablet",
        "plaintext-vttablet-to-vttablet",
        "plaintext-vttablet-to-mysqld",
        "plaintext-mysql-replication",
        "plaintext-to-vtctld",
        "plaintext-topology-etcd",
        "plaintext-topology-zookeeper",
        "plaintext-etcd-peer",
        "plaintext-vitess-http-admin",
        "mysql-tls-downgrade",
        "mysql-cleartext-password-without-tls",
        "tls-version-below-1.2",
        "tls-client-max-below-1.2",
        "tls-cipher-insecure",
        "tls-cipher-weak",
        "tls-cipher-no-forward-secrecy",
        "tls-cipher-cbc",
        "cert-expired",
        "cert-not-yet-valid",
        "cert-expiring-soon",
        "cert-weak-key",
        "cert-weak-signature",
        "cert-self-signed",
        "cert-untrusted-ca",
        "cert-name-mismatch",
        "cert-validity-too-long",
        "cert-shared-by-components",
        "grpc-no-client-cert",
        "tls-fatal-alert",
    };
    size_t n = sizeof(names) / sizeof(names[0]);

    cr_assert_eq(rules_set_count(policy), n);
    cr_assert_eq(rules_set_enabled(policy), n);
    for (size_t i = 0; i < n; i++) {
        const struct rules_rule *r = rules_set_rule(policy, i);
        cr_expect_str_eq(rules_rule_name(r), names[i]);
        cr_expect_gt(strlen(rules_rule_desc(r)), 100, "%s: desc too short", names[i]);
        cr_expect_gt(rules_rule_tag_count(r), 0, "%s: no tags", names[i]);
        bool tested = false;
        for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++)
            tested |= strcmp(cases[k].rule, names[i]) == 0;
        cr_expect(tested, "%s has no test case", names[i]);
    }
}

Test(rules_policy, messages_name_what_was_found, .init = load_policy, .fini = free_policy)
{
    struct rules_event ev;
    char buf[512];

    cleartext_bad(&ev);
    const struct rules_rule *r = rules_set_rule(policy, 14);
    cr_assert_str_eq(rules_rule_name(r), "mysql-cleartext-password-without-tls");
    rules_rule_format(r, &ev, buf, sizeof(buf));
    cr_assert_str_eq(buf, "cleartext MySQL password for user vt_app from 10.99.0.1 to mysqld "
                          "10.99.0.2:4433");

    weak_key_bad(&ev);
    r = rules_set_rule(policy, 24);
    rules_rule_format(r, &ev, buf, sizeof(buf));
    cr_assert_str_eq(buf, "certificate server.test has a 1024-bit RSA key, served by unknown "
                          "10.99.0.2:4433");

    tls10_cbc_bad(&ev);
    r = rules_set_rule(policy, 15);
    rules_rule_format(r, &ev, buf, sizeof(buf));
    cr_assert_str_eq(buf, "TLS 1.0 negotiated between unknown 10.99.0.1 and unknown "
                          "10.99.0.2:4433");
}

Test(rules_policy, operator_overrides_thresholds_and_exceptions)
{
    const char *paths[] = {POLICY, VTLS_SOURCE_DIR "/tests/unit/data/rules/policy-local.yaml"};
    struct rules_errors e = {0};
    struct rules_set *s = rules_load(paths, 2, &e);
    trl_dump(&e);
    cr_assert_not_null(s);
    struct rules_event ev;

    expiring_good(&ev); /* 30 days left: silent by default, warned at 45 */
    cr_assert(trl_fires(s, &ev, "cert-expiring-soon"));
    app_vtgate_grpc_bad(&ev);
    ev.vitess.client = "vtctldclient";
    cr_assert_not(trl_fires(s, &ev, "plaintext-app-to-vtgate-grpc"));
    ev.vitess.client = "vtadmin"; /* the default row is still there */
    cr_assert_not(trl_fires(s, &ev, "plaintext-app-to-vtgate-grpc"));
    ev.vitess.client = "app";
    cr_assert(trl_fires(s, &ev, "plaintext-app-to-vtgate-grpc"));
    cbc_bad(&ev);
    cr_assert_not(trl_fires(s, &ev, "tls-cipher-cbc"));
    http_admin_bad(&ev);
    set_v4(&ev.flow.src_ip, 200);
    ev.flow.src_ip.b[2] = 7; /* 10.99.7.200: the monitoring network */
    cr_assert_not(trl_fires(s, &ev, "plaintext-vitess-http-admin"));
    rules_set_release(s);
}
