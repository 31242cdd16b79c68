#!/bin/bash
# MySQL protocol between MariaDB 10.11 (mariadbd started by hand) and the mariadb client,
# client namespace c (10.99.0.1), server namespace s (10.99.0.2):
#   mysql-plain.pcap          server without TLS, plaintext login (vt_app) and a query
#   mysql-tls13.pcap          server with TLS, client --ssl: SSLRequest, TLS 1.3
#   mysql-tls12.pcap          the same with --tls-version=TLSv1.2: server certificate visible
#   mysql-client-cert.pcap    user REQUIRE X509 with a client certificate, TLS 1.2
#   mysql-downgrade.pcap      server offers TLS, client --skip-ssl: plaintext login
#   mysql-vitess-greeting.pcap  server --version=8.0.30-Vitess on 15306 (as vtgate), plaintext
#   mysql-cleartext.pcap      client --default-auth=mysql_clear_password without TLS: the
#                             password is sent in clear in the login packet
#   mysql-pam-cleartext.pcap  user IDENTIFIED VIA pam with --pam-use-cleartext-plugin: the
#                             server switches the client to mysql_clear_password, no TLS
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-apps.bash"

PORT=3306
VT_PORT=15306
SRV_NAME=mysql.test
SQL="SELECT 1 AS one, @@version AS version; SHOW SESSION STATUS LIKE 'Ssl_version'"
TLS12_CIPHER=ECDHE-RSA-AES256-GCM-SHA384
TLS12_CIPHER_IANA=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
MARIA_VERSION=$(mariadbd --no-defaults --version | sed -n 's/.*Ver \([^ ]*\) .*/\1/p')
# MariaDB announces itself as 5.5.5-<version> in the greeting (replication hack).
GREETING_VERSION=5.5.5-$MARIA_VERSION

two_hosts
cert_issue mysqlsrv "$SRV_NAME"
SRV_NOT_AFTER=$CERT_NOT_AFTER
cert_issue mysqlcli "$MARIA_X509_USER" --client
CLI_NOT_AFTER=$CERT_NOT_AFTER
CA=$CERT_DIR/ca.pem
maria_install db
maria_tls_opts mysqlsrv

# one_login NAME LOGNAME USER PASS [CLIENT_OPTION...]: capture one client session.
one_login() {
    local name=$1 logname=$2 user=$3 pass=$4
    shift 4
    cap_begin c c0 tcp port "$PORT" or tcp port "$VT_PORT"
    maria_client c "$logname" "$SRV_ADDR" "$SRV_PORT" "$user" "$pass" "$@" -- "$SQL"
    cap_stop "$name"
}

SERVER_CERT=(cert.observable=true "cert.subject_cn=$SRV_NAME" "cert.issuer_cn=$TEST_CA_CN"
    "cert.not_after=$SRV_NOT_AFTER" cert.key_type=RSA cert.key_bits=2048
    cert.sig_alg=sha256WithRSAEncryption cert.self_signed=false cert.chain_valid=true
    cert.sni_match=null)
FLOW=(client=10.99.0.1 server=10.99.0.2 server_port=$PORT app=mysql
    server_component=mysqld "mysql.server_version=$GREETING_VERSION")

# --- plaintext server ---------------------------------------------------------------
SRV_ADDR=10.99.0.2 SRV_PORT=$PORT
maria_start s db $PORT --skip-ssl
one_login mysql-plain plain "$MARIA_USER" "$MARIA_PASS" --skip-ssl
grep -q TLSv "$WORK/plain.log" && die "mysql-plain used TLS"
expect_begin mysql-plain "MariaDB $MARIA_VERSION without TLS (no SSL capability); \
plaintext login as $MARIA_USER (mysql_native_password), two queries, COM_QUIT"
expect_flow "${FLOW[@]}" encrypted=false mysql.server_ssl=false mysql.client_ssl=false \
    mysql.user=$MARIA_USER mysql.auth_plugin=mysql_native_password \
    mysql.downgrade=false rules=plaintext-vttablet-to-mysqld
expect_end_apps

# --- cleartext password plugin, same plaintext server ---------------------------------
one_login mysql-cleartext cleartext "$MARIA_USER" "$MARIA_PASS" --skip-ssl \
    --default-auth=mysql_clear_password
stop "$MARIA_PID"
expect_begin mysql-cleartext "MariaDB $MARIA_VERSION without TLS; the client starts \
with --default-auth=mysql_clear_password, so its HandshakeResponse carries the password \
in clear (plugin mysql_clear_password); the server then switches it to \
mysql_native_password and the login succeeds"
expect_flow "${FLOW[@]}" encrypted=false mysql.server_ssl=false mysql.client_ssl=false \
    mysql.user=$MARIA_USER mysql.auth_plugin=mysql_clear_password mysql.downgrade=false \
    rules=plaintext-vttablet-to-mysqld,mysql-cleartext-password-without-tls
expect_end_apps

# --- TLS server -----------------------------------------------------------------------
maria_start s db $PORT "${MARIA_TLS[@]}" --ssl-cipher=$TLS12_CIPHER

one_login mysql-tls13 tls13 "$MARIA_USER" "$MARIA_PASS" --ssl --ssl-ca="$CA"
grep -q 'TLSv1.3' "$WORK/tls13.log" || die "mysql-tls13 is not TLS 1.3"
expect_begin mysql-tls13 "MariaDB $MARIA_VERSION with TLS; client --ssl (verifies the CA, \
not the name): SSLRequest, TLS 1.3 (no SNI, no ALPN), login and queries encrypted"
expect_flow "${FLOW[@]}" mysql.server_ssl=true mysql.client_ssl=true mysql.user=null \
    mysql.downgrade=false "tls.version=TLS 1.3" tls.cipher=TLS_AES_256_GCM_SHA384 \
    tls.sni=null tls.alpn=null tls.client_cert=not-observable cert.observable=false rules=
expect_end_apps

one_login mysql-tls12 tls12 "$MARIA_USER" "$MARIA_PASS" --ssl --ssl-ca="$CA" \
    --tls-version=TLSv1.2
grep -q 'TLSv1.2' "$WORK/tls12.log" || die "mysql-tls12 is not TLS 1.2"
expect_begin mysql-tls12 "MariaDB $MARIA_VERSION with TLS; client --ssl \
--tls-version=TLSv1.2: SSLRequest, TLS 1.2 $TLS12_CIPHER, server certificate \
(CN $SRV_NAME, test CA) visible, no SNI; server asks for a client certificate, none sent"
expect_flow "${FLOW[@]}" mysql.server_ssl=true mysql.client_ssl=true mysql.user=null \
    mysql.downgrade=false "tls.version=TLS 1.2" tls.cipher=$TLS12_CIPHER_IANA \
    tls.sni=null tls.alpn=null tls.client_cert=requested-none "${SERVER_CERT[@]}" rules=
expect_end_apps

one_login mysql-client-cert clientcert "$MARIA_X509_USER" "$MARIA_X509_PASS" --ssl \
    --ssl-ca="$CA" --ssl-cert="$WORK/mysqlcli.pem" --ssl-key="$WORK/mysqlcli.key" \
    --tls-version=TLSv1.2
grep -q 'TLSv1.2' "$WORK/clientcert.log" || die "mysql-client-cert is not TLS 1.2"
expect_begin mysql-client-cert "User $MARIA_X509_USER REQUIRE X509; client certificate \
(CN $MARIA_X509_USER, test CA, clientAuth, not after $CLI_NOT_AFTER) and server \
certificate both visible in TLS 1.2 $TLS12_CIPHER"
expect_flow "${FLOW[@]}" mysql.server_ssl=true mysql.client_ssl=true mysql.user=null \
    mysql.downgrade=false "tls.version=TLS 1.2" tls.cipher=$TLS12_CIPHER_IANA \
    tls.sni=null tls.alpn=null tls.client_cert=presented "${SERVER_CERT[@]}" rules=
expect_end_apps

one_login mysql-downgrade downgrade "$MARIA_USER" "$MARIA_PASS" --skip-ssl
grep -q TLSv "$WORK/downgrade.log" && die "mysql-downgrade used TLS"
stop "$MARIA_PID"
expect_begin mysql-downgrade "MariaDB $MARIA_VERSION offers TLS (SSL capability set); \
client --skip-ssl answers with a plaintext HandshakeResponse41 (user $MARIA_USER visible)"
expect_flow "${FLOW[@]}" encrypted=false mysql.server_ssl=true mysql.client_ssl=false \
    mysql.user=$MARIA_USER mysql.auth_plugin=mysql_native_password mysql.downgrade=true \
    rules=plaintext-vttablet-to-mysqld,mysql-tls-downgrade
expect_end_apps

# --- a server that says it is vtgate ---------------------------------------------------
VT_VERSION=8.0.30-Vitess
SRV_PORT=$VT_PORT
maria_start s db $VT_PORT --skip-ssl --version=$VT_VERSION
one_login mysql-vitess-greeting vitess "$MARIA_USER" "$MARIA_PASS" --skip-ssl
grep -q -- "$VT_VERSION" "$WORK/vitess.log" || die "server did not report $VT_VERSION"
stop "$MARIA_PID"
expect_begin mysql-vitess-greeting "mariadbd --version=$VT_VERSION on port $VT_PORT \
(as vtgate announces itself), no TLS; plaintext login as $MARIA_USER and queries"
expect_flow client=10.99.0.1 server=10.99.0.2 server_port=$VT_PORT app=mysql \
    encrypted=false client_component=app server_component=vtgate \
    "mysql.server_version=$VT_VERSION" \
    mysql.server_ssl=false mysql.client_ssl=false mysql.user=$MARIA_USER \
    mysql.auth_plugin=mysql_native_password mysql.downgrade=false \
    rules=plaintext-app-to-vtgate-mysql
expect_end_apps

# --- the server asks for the password in clear (PAM) ----------------------------------
# auth_pam with pam_use_cleartext_plugin sends an AuthSwitchRequest to
# mysql_clear_password. Its PAM service (pam_permit: any password) lives in
# /etc/netns/NS/pam.d, which `ip netns exec` bind-mounts over /etc/pam.d for the server's
# namespace only; removed on exit (with /etc/netns if that is then empty).
PAM_NSDIR=/etc/netns/$(nsname s)
trap 'rc=$?; rm -rf "$PAM_NSDIR"; rmdir /etc/netns 2>/dev/null; (exit $rc); lib_cleanup' EXIT
mkdir -p "$PAM_NSDIR/pam.d"
printf '%s\n' 'auth required pam_permit.so' 'account required pam_permit.so' \
    >"$PAM_NSDIR/pam.d/mariadb-vtls"
echo "CREATE USER IF NOT EXISTS 'vt_pam'@'%' IDENTIFIED VIA pam USING 'mariadb-vtls';" \
    >>"$WORK/db/init.sql"
SRV_PORT=$PORT
maria_start s db $PORT --skip-ssl --plugin-load-add=auth_pam.so --pam-use-cleartext-plugin=ON
one_login mysql-pam-cleartext pam vt_pam vt_pam_pw --skip-ssl
stop "$MARIA_PID"
expect_begin mysql-pam-cleartext "MariaDB $MARIA_VERSION without TLS, user vt_pam \
IDENTIFIED VIA pam with --pam-use-cleartext-plugin: login as mysql_native_password, the \
server's AuthSwitchRequest names mysql_clear_password and the client's answer is the \
password in clear (vt_pam_pw)"
expect_flow "${FLOW[@]}" encrypted=false mysql.server_ssl=false mysql.client_ssl=false \
    mysql.user=vt_pam mysql.auth_plugin=mysql_native_password \
    mysql.auth_switch=mysql_clear_password mysql.downgrade=false \
    rules=plaintext-vttablet-to-mysqld,mysql-cleartext-password-without-tls
expect_end_apps
