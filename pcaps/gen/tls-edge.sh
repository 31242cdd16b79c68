#!/bin/bash
# TLS edge cases between OpenSSL s_server/s_client (and GnuTLS gnutls-serv/gnutls-cli
# for 3DES and RC4, which Debian's OpenSSL 3 lacks), one capture each, client
# 10.99.0.1 -> server 10.99.0.2:4433, SNI server.test unless stated. See README.md.
# Usage: tls-edge.sh [CASE...]   (no argument: every case)
. "$(dirname "$0")/lib.sh"

CA=$CERT_DIR/ca.pem
ECDHE_GCM=ECDHE-RSA-AES128-GCM-SHA256
ECDHE_GCM_IANA=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
# Clients check the chain and name but go on when they fail (no -verify_return_error),
# so the handshake completes and the certificate is in the capture.
SOFT=(-servername "$SNI" -CAfile "$CA")
STRICT=(-servername "$SNI" -CAfile "$CA" -verify_return_error -verify_hostname "$SNI")

two_hosts
cert_issue server "$SNI"
GOOD_NOT_AFTER=$CERT_NOT_AFTER

# cert_expect NAME SUBJECT ISSUER BITS SIG SELF CHAIN SNI_MATCH [KEY_TYPE]: sets CERT_EXP
# to the cert.* fields of certificate NAME (notAfter from CERT_NOT_AFTER_<NAME>).
cert_expect() {
    local na_var=NOT_AFTER_$1
    CERT_EXP=(cert.observable=true "cert.subject_cn=$2" "cert.issuer_cn=$3"
        "cert.not_after=${!na_var}" "cert.key_type=${9:-RSA}" "cert.key_bits=$4"
        "cert.sig_alg=$5" "cert.self_signed=$6" "cert.chain_valid=$7" "cert.sni_match=$8")
}
NOT_AFTER_server=$GOOD_NOT_AFTER

# issue NAME CN [cert_issue options]: cert_issue and remember its notAfter.
issue() {
    cert_issue "$@"
    printf -v "NOT_AFTER_$1" '%s' "$CERT_NOT_AFTER"
}

# one12 NAME CERT DESCRIPTION RULES [SERVER_OPTS...] -- [CLIENT_OPTS...]: one TLS 1.2
# ECDHE-RSA-AES128-GCM session (unless the options say otherwise) with certificate
# CERT, soft verification; expected flow from CERT_EXP plus EXTRA (array).
one12() {
    local name=$1 certname=$2 desc=$3 rules=$4
    shift 4
    cap_start c c0 tcp port $PORT
    tls_session "$name" 10.99.0.2:$PORT -cert "$WORK/$certname.pem" -key "$WORK/$certname.key" \
        -tls1_2 "$@"
    cap_stop "$name"
    expect_begin "$name" "$desc"
    expect_flow client=10.99.0.1 server=10.99.0.2 server_port=$PORT \
        "tls.version=TLS 1.2" "tls.cipher=${CIPHER_IANA:-$ECDHE_GCM_IANA}" tls.sni=$SNI \
        tls.alpn=null "${CERT_EXP[@]}" "rules=$rules" "${EXTRA[@]}"
    expect_end
    EXTRA=()
}
EXTRA=()

# ------------------------------------------------------------------ cases

case_tls10_cbc() {
    cert_expect server "$SNI" "$TEST_CA_CN" 2048 sha256WithRSAEncryption false true true
    local c=ECDHE-RSA-AES128-SHA
    CIPHER_IANA=TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA
    cap_start c c0 tcp port $PORT
    tls_session tls10-cbc 10.99.0.2:$PORT -tls1 -cipher "$c:@SECLEVEL=0" \
        -- "${SOFT[@]}" -tls1 -cipher "$c:@SECLEVEL=0"
    cap_stop tls10-cbc
    expect_begin tls10-cbc "TLS 1.0 only on both ends (@SECLEVEL=0), \
ECDHE-RSA-AES128-SHA (CBC); the client offers nothing above TLS 1.0"
    expect_flow client=10.99.0.1 server=10.99.0.2 server_port=$PORT \
        "tls.version=TLS 1.0" tls.cipher=$CIPHER_IANA tls.sni=$SNI tls.alpn=null \
        "${CERT_EXP[@]}" rules=tls-version-below-1.2,tls-client-max-below-1.2,tls-cipher-cbc
    expect_end
    CIPHER_IANA=""
}

# gnutls_case NAME PRIORITY CIPHER_IANA DESCRIPTION RULES
gnutls_case() {
    local name=$1 prio=$2 iana=$3 desc=$4 rules=$5
    cert_expect server "$SNI" "$TEST_CA_CN" 2048 sha256WithRSAEncryption false true true
    cap_start c c0 tcp port $PORT
    bg s "$name-server" gnutls-serv --echo -a -p "$PORT" --priority "$prio" \
        --x509certfile "$WORK/server.pem" --x509keyfile "$WORK/server.key"
    local spid=$BG_PID
    wait_listen s $PORT "$spid"
    { printf 'hello vtls\n'; sleep 0.5; } |
        run c "$name-client" 10 gnutls-cli --priority "$prio" --sni-hostname "$SNI" \
            --verify-hostname "$SNI" --x509cafile "$CA" -p "$PORT" 10.99.0.2 ||
        die "$name: gnutls-cli failed: $(tail -5 "$WORK/$name-client.log")"
    grep -q '^hello vtls' "$WORK/$name-client.log" || die "$name: no echo from gnutls-serv"
    sleep 0.2
    stop "$spid"
    cap_stop "$name"
    expect_begin "$name" "$desc"
    expect_flow client=10.99.0.1 server=10.99.0.2 server_port=$PORT \
        "tls.version=TLS 1.2" "tls.cipher=$iana" tls.sni=$SNI tls.alpn=null \
        "${CERT_EXP[@]}" "rules=$rules"
    expect_end
}

case_tls12_3des() {
    gnutls_case tls12-3des \
        "NONE:+VERS-TLS1.2:+3DES-CBC:+RSA:+SHA1:+COMP-NULL:+SIGN-ALL:+CURVE-ALL" \
        TLS_RSA_WITH_3DES_EDE_CBC_SHA \
        "TLS 1.2 TLS_RSA_WITH_3DES_EDE_CBC_SHA between gnutls-serv and gnutls-cli \
(static RSA key exchange, CBC)" \
        tls-cipher-weak,tls-cipher-no-forward-secrecy,tls-cipher-cbc
}

case_tls12_rc4() {
    gnutls_case tls12-rc4 \
        "NONE:+VERS-TLS1.2:+ARCFOUR-128:+RSA:+SHA1:+COMP-NULL:+SIGN-ALL:+CURVE-ALL" \
        TLS_RSA_WITH_RC4_128_SHA \
        "TLS 1.2 TLS_RSA_WITH_RC4_128_SHA between gnutls-serv and gnutls-cli \
(static RSA key exchange)" \
        tls-cipher-insecure,tls-cipher-no-forward-secrecy
}

case_tls12_null() {
    cert_expect server "$SNI" "$TEST_CA_CN" 2048 sha256WithRSAEncryption false true true
    CIPHER_IANA=TLS_RSA_WITH_NULL_SHA256
    EXTRA=(encrypted=false)
    one12 tls12-null server "TLS 1.2 TLS_RSA_WITH_NULL_SHA256 (@SECLEVEL=0 both ends): \
authenticated but NOT encrypted, application data readable on the wire" \
        tls-cipher-insecure,tls-cipher-no-forward-secrecy \
        -cipher "NULL-SHA256:@SECLEVEL=0" -- "${SOFT[@]}" -tls1_2 \
        -cipher "NULL-SHA256:@SECLEVEL=0"
    CIPHER_IANA=""
}

case_tls12_anon() {
    local c=ADH-AES128-GCM-SHA256
    cap_start c c0 tcp port $PORT
    tls_session tls12-anon 10.99.0.2:$PORT -nocert -tls1_2 -cipher "$c:@SECLEVEL=0" \
        -- -servername "$SNI" -tls1_2 -cipher "$c:@SECLEVEL=0"
    cap_stop tls12-anon
    expect_begin tls12-anon "TLS 1.2 anonymous DH (ADH-AES128-GCM-SHA256, @SECLEVEL=0 \
both ends): no certificate at all"
    expect_flow client=10.99.0.1 server=10.99.0.2 server_port=$PORT \
        "tls.version=TLS 1.2" tls.cipher=TLS_DH_anon_WITH_AES_128_GCM_SHA256 tls.sni=$SNI \
        tls.alpn=null tls.cert=null rules=tls-cipher-insecure
    expect_end
}

case_cert_expired() {
    issue expired "$SNI" --start -400 --end -35
    # OpenSSL's verifier at packet time rejects the chain for the validity dates.
    cert_expect expired "$SNI" "$TEST_CA_CN" 2048 sha256WithRSAEncryption false false true
    one12 cert-expired expired "server certificate from the test CA that expired 35 days \
before the capture (365 days validity)" cert-expired \
        -cipher $ECDHE_GCM -- "${SOFT[@]}" -tls1_2
}

case_cert_not_yet_valid() {
    issue future "$SNI" --start 30 --end 395
    # OpenSSL's verifier at packet time rejects the chain for the validity dates.
    cert_expect future "$SNI" "$TEST_CA_CN" 2048 sha256WithRSAEncryption false false true
    one12 cert-not-yet-valid future "server certificate from the test CA valid only from \
30 days after the capture (365 days validity)" cert-not-yet-valid \
        -cipher $ECDHE_GCM -- "${SOFT[@]}" -tls1_2
}

case_cert_expiring_soon() {
    issue soon "$SNI" --start -355 --end 10
    cert_expect soon "$SNI" "$TEST_CA_CN" 2048 sha256WithRSAEncryption false true true
    one12 cert-expiring-soon soon "server certificate from the test CA that expires 10 days \
after the capture (365 days validity)" cert-expiring-soon \
        -cipher $ECDHE_GCM -- "${SOFT[@]}" -tls1_2
}

case_cert_validity_long() {
    issue long "$SNI" --start -1 --end 824
    cert_expect long "$SNI" "$TEST_CA_CN" 2048 sha256WithRSAEncryption false true true
    one12 cert-validity-long long "server certificate from the test CA valid for 825 days \
(over the 398-day default maximum)" cert-validity-too-long \
        -cipher $ECDHE_GCM -- "${SOFT[@]}" -tls1_2
}

case_cert_selfsigned_1024() {
    issue self1024 "$SNI" --self --bits 1024
    cert_expect self1024 "$SNI" "$SNI" 1024 sha256WithRSAEncryption true false true
    one12 cert-selfsigned-1024 self1024 "self-signed 1024-bit RSA server certificate \
(365 days; server at @SECLEVEL=0 to load it)" \
        cert-weak-key,cert-self-signed,cert-untrusted-ca \
        -cipher "$ECDHE_GCM:@SECLEVEL=0" -- "${SOFT[@]}" -tls1_2 -cipher "$ECDHE_GCM:@SECLEVEL=0"
}

case_cert_sha1() {
    issue sha1 "$SNI" --digest sha1
    cert_expect sha1 "$SNI" "$TEST_CA_CN" 2048 sha1WithRSAEncryption false true true
    one12 cert-sha1 sha1 "server certificate signed by the test CA with SHA-1 \
(sha1WithRSAEncryption; server at @SECLEVEL=0 to load it)" cert-weak-signature \
        -cipher "$ECDHE_GCM:@SECLEVEL=0" -- "${SOFT[@]}" -tls1_2 -cipher "$ECDHE_GCM:@SECLEVEL=0"
}

case_cert_name_mismatch() {
    issue other other.test
    cert_expect other other.test "$TEST_CA_CN" 2048 sha256WithRSAEncryption false true false
    one12 cert-name-mismatch other "client asks for server.test (SNI), the server presents a \
test-CA certificate for other.test only (CN and SAN)" cert-name-mismatch \
        -cipher $ECDHE_GCM -- "${SOFT[@]}" -tls1_2
}

case_cert_unknown_ca() {
    ca_new unknownca "Unknown Test CA"
    issue unknown "$SNI" --ca unknownca
    cert_expect unknown "$SNI" "Unknown Test CA" 2048 sha256WithRSAEncryption false false true
    one12 cert-unknown-ca unknown "server certificate (and its CA in the chain) from a CA \
that is not pcaps/certs/ca.pem" cert-untrusted-ca \
        -cipher $ECDHE_GCM -cert_chain "$WORK/unknownca/ca.pem" -- "${SOFT[@]}" -tls1_2
}

case_cert_ecdsa() {
    issue ecdsa "$SNI" --ec prime256v1
    cert_expect ecdsa "$SNI" "$TEST_CA_CN" 256 sha256WithRSAEncryption false true true EC
    CIPHER_IANA=TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
    one12 cert-ecdsa ecdsa "TLS 1.2 ECDHE-ECDSA-AES128-GCM-SHA256 with a P-256 ECDSA server \
certificate signed by the (RSA) test CA; nothing wrong" "" \
        -cipher ECDHE-ECDSA-AES128-GCM-SHA256 -- "${STRICT[@]}" -tls1_2
    CIPHER_IANA=""
}

case_client_cert_none() {
    cert_expect server "$SNI" "$TEST_CA_CN" 2048 sha256WithRSAEncryption false true true
    EXTRA=(tls.client_cert=requested-none)
    one12 client-cert-requested-none server "TLS 1.2; the server requests a client \
certificate (s_server -verify, not required) and the client sends an empty Certificate" "" \
        -cipher $ECDHE_GCM -verify 1 -CAfile "$CA" -- "${STRICT[@]}" -tls1_2
}

case_mutual_tls12() {
    issue client client.test --client
    cert_expect server "$SNI" "$TEST_CA_CN" 2048 sha256WithRSAEncryption false true true
    EXTRA=(tls.client_cert=presented tls.client_cert_subject_cn=client.test
        "tls.client_cert_not_after=$NOT_AFTER_client")
    one12 tls12-mutual server "mutual TLS 1.2: the server requires a client certificate \
(s_server -Verify), the client presents client.test from the test CA; both certificates \
visible" "" -cipher $ECDHE_GCM -Verify 1 -CAfile "$CA" -- "${STRICT[@]}" -tls1_2 \
        -cert "$WORK/client.pem" -key "$WORK/client.key"
}

# resume NAME SERVER_OPTS -- CLIENT_OPTS: two connections, the second resumes the
# first's session (-sess_out / -sess_in).
resume() {
    local name=$1 sopts=() copts=()
    shift
    while [ "$1" != -- ]; do sopts+=("$1"); shift; done
    shift
    copts=("$@")
    cap_start c c0 tcp port $PORT
    NACCEPT=2 tls_server s "$name" "${sopts[@]}"
    tls_client c "$name-1" 10.99.0.2:$PORT "${STRICT[@]}" "${copts[@]}" \
        -sess_out "$WORK/$name.sess" || die "$name: first connection failed"
    sleep 0.2
    tls_client c "$name-2" 10.99.0.2:$PORT "${STRICT[@]}" "${copts[@]}" \
        -sess_in "$WORK/$name.sess" || die "$name: second connection failed"
    grep -q '^Reused' "$WORK/$name-2-client.log" ||
        die "$name: second connection did not resume: $(grep -E '^(New|Reused)' "$WORK/$name-2-client.log")"
    wait_exit "$SRV_PID" 5
    cap_stop "$name"
}

case_resume_id() {
    resume tls12-resume-id -tls1_2 -cipher $ECDHE_GCM -no_ticket -- -tls1_2
    cert_expect server "$SNI" "$TEST_CA_CN" 2048 sha256WithRSAEncryption false true true
    expect_begin tls12-resume-id "two TLS 1.2 connections; tickets disabled, the second \
resumes the first by session ID (abbreviated handshake, no certificate)"
    expect_flow client=10.99.0.1 server=10.99.0.2 server_port=$PORT "tls.version=TLS 1.2" \
        tls.cipher=$ECDHE_GCM_IANA tls.sni=$SNI tls.alpn=null "${CERT_EXP[@]}" rules=
    expect_flow client=10.99.0.1 server=10.99.0.2 server_port=$PORT "tls.version=TLS 1.2" \
        tls.cipher=$ECDHE_GCM_IANA tls.sni=$SNI tls.alpn=null tls.resumed=true \
        cert.observable=false rules=
    expect_end
}

case_resume_ticket() {
    resume tls12-resume-ticket -tls1_2 -cipher $ECDHE_GCM -- -tls1_2
    cert_expect server "$SNI" "$TEST_CA_CN" 2048 sha256WithRSAEncryption false true true
    expect_begin tls12-resume-ticket "two TLS 1.2 connections; the second resumes the first \
with its session ticket (abbreviated handshake, no certificate)"
    expect_flow client=10.99.0.1 server=10.99.0.2 server_port=$PORT "tls.version=TLS 1.2" \
        tls.cipher=$ECDHE_GCM_IANA tls.sni=$SNI tls.alpn=null "${CERT_EXP[@]}" rules=
    expect_flow client=10.99.0.1 server=10.99.0.2 server_port=$PORT "tls.version=TLS 1.2" \
        tls.cipher=$ECDHE_GCM_IANA tls.sni=$SNI tls.alpn=null tls.resumed=true \
        cert.observable=false rules=
    expect_end
}

case_resume_tls13() {
    resume tls13-resume -tls1_3 -ciphersuites TLS_AES_128_GCM_SHA256 -- -tls1_3
    expect_begin tls13-resume "two TLS 1.3 connections; the second resumes with a ticket \
from the first (pre_shared_key in ServerHello)"
    expect_flow client=10.99.0.1 server=10.99.0.2 server_port=$PORT "tls.version=TLS 1.3" \
        tls.cipher=TLS_AES_128_GCM_SHA256 tls.sni=$SNI tls.alpn=null \
        tls.client_cert=not-observable cert.observable=false rules=
    expect_flow client=10.99.0.1 server=10.99.0.2 server_port=$PORT "tls.version=TLS 1.3" \
        tls.cipher=TLS_AES_128_GCM_SHA256 tls.sni=$SNI tls.alpn=null tls.resumed=true \
        tls.client_cert=not-observable cert.observable=false rules=
    expect_end
}

case_tls13_hrr() {
    cap_start c c0 tcp port $PORT
    tls_session tls13-hrr 10.99.0.2:$PORT -tls1_3 -ciphersuites TLS_AES_128_GCM_SHA256 \
        -groups P-256 -- "${STRICT[@]}" -tls1_3 -groups X25519:P-256
    grep -q 'Server Temp Key: ECDH, prime256v1' "$WORK/tls13-hrr-client.log" ||
        die "tls13-hrr: P-256 was not negotiated"
    cap_stop tls13-hrr
    expect_begin tls13-hrr "TLS 1.3 HelloRetryRequest: the client sends an X25519 key share \
(groups X25519:P-256), the server accepts only P-256 and asks again; two ServerHellos"
    expect_flow client=10.99.0.1 server=10.99.0.2 server_port=$PORT "tls.version=TLS 1.3" \
        tls.cipher=TLS_AES_128_GCM_SHA256 tls.sni=$SNI tls.alpn=null tls.hello_retry=true \
        tls.client_cert=not-observable cert.observable=false rules=
    expect_end
}

case_alert_unknown_ca() {
    ca_new otherca "Other Test CA"
    cert_expect server "$SNI" "$TEST_CA_CN" 2048 sha256WithRSAEncryption false true true
    cap_start c c0 tcp port $PORT
    tls_server s tls-alert-unknown-ca -tls1_2 -cipher $ECDHE_GCM
    tls_client c tls-alert-unknown-ca 10.99.0.2:$PORT -servername "$SNI" -tls1_2 \
        -CAfile "$WORK/otherca/ca.pem" -verify_return_error &&
        die "tls-alert-unknown-ca: s_client accepted the certificate"
    wait_exit "$SRV_PID" 5
    cap_stop tls-alert-unknown-ca
    expect_begin tls-alert-unknown-ca "TLS 1.2; the client trusts only another CA \
(s_client -verify_return_error) and aborts the handshake with a fatal unknown_ca alert"
    expect_flow client=10.99.0.1 server=10.99.0.2 server_port=$PORT "tls.version=TLS 1.2" \
        tls.cipher=$ECDHE_GCM_IANA tls.sni=$SNI tls.alpn=null tls.alert=unknown_ca \
        "${CERT_EXP[@]}" rules=tls-fatal-alert
    expect_end
}

case_split_hello() {
    # MTU 576 on both ends and a ClientHello of ~1.2 KB (40 ALPN names): the ClientHello
    # and the server's certificate each span several TCP segments.
    local alpn="" i
    for i in $(seq 1 39); do alpn+="vtls-padding-protocol-$i,"; done
    alpn+="h2"
    ip -n "$(nsname c)" link set c0 mtu 576
    ip -n "$(nsname s)" link set s0 mtu 576
    cert_expect server "$SNI" "$TEST_CA_CN" 2048 sha256WithRSAEncryption false true true
    EXTRA=(tls.alpn=h2)
    one12 tls12-split-hello server "TLS 1.2 over a 576-byte MTU with 40 ALPN protocols \
offered (h2 chosen): the ClientHello (about 1.2 KB) spans 3 TCP segments, the server's \
flight several more" "" \
        -cipher $ECDHE_GCM -alpn h2 -- "${STRICT[@]}" -tls1_2 -alpn "$alpn"
    ip -n "$(nsname c)" link set c0 mtu 1500
    ip -n "$(nsname s)" link set s0 mtu 1500
}

CASES=(tls10_cbc tls12_3des tls12_rc4 tls12_null tls12_anon cert_expired cert_not_yet_valid
    cert_expiring_soon cert_validity_long cert_selfsigned_1024 cert_sha1 cert_name_mismatch
    cert_unknown_ca cert_ecdsa client_cert_none mutual_tls12 resume_id resume_ticket resume_tls13
    tls13_hrr alert_unknown_ca split_hello)
ALL_CASES=("${CASES[@]}")
[ $# -gt 0 ] && CASES=("$@")
for c in "${CASES[@]}"; do
    declare -F "case_$c" >/dev/null || die "unknown case $c (one of: ${ALL_CASES[*]})"
done
for c in "${CASES[@]}"; do "case_$c"; done
