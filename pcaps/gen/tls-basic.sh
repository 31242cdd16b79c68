#!/bin/bash
# Basic TLS flows between OpenSSL s_server and s_client in two namespaces:
#   tls13-basic.pcap  TLS 1.3, SNI server.test, ALPN h2, a line each way, clean close
#   tls12-basic.pcap  TLS 1.2 ECDHE-RSA-AES128-GCM-SHA256, server certificate visible
#   ipv6-tls.pcap     the TLS 1.2 flow over IPv6
. "$(dirname "$0")/lib.sh"

IPV6=1 two_hosts
cert_issue server "$SNI"
SRV_NOT_AFTER=$CERT_NOT_AFTER
VERIFY=(-servername "$SNI" -CAfile "$CERT_DIR/ca.pem" -verify_return_error
    -verify_hostname "$SNI")

cap_start c c0 tcp port $PORT
tls_session tls13-basic 10.99.0.2:$PORT -tls1_3 -ciphersuites TLS_AES_128_GCM_SHA256 \
    -alpn h2 -- "${VERIFY[@]}" -tls1_3 -alpn h2
cap_stop tls13-basic
expect_begin tls13-basic "TLS 1.3 (TLS_AES_128_GCM_SHA256), SNI server.test, ALPN h2, \
one line each way, close_notify and FIN; certificate encrypted"
expect_flow client=10.99.0.1 server=10.99.0.2 server_port=$PORT \
    "tls.version=TLS 1.3" tls.cipher=TLS_AES_128_GCM_SHA256 tls.sni=$SNI tls.alpn=h2 \
    tls.client_cert=not-observable cert.observable=false rules=
expect_end

TLS12_CERT=(cert.observable=true "cert.subject_cn=$SNI" "cert.issuer_cn=$TEST_CA_CN"
    "cert.not_after=$SRV_NOT_AFTER" cert.key_type=RSA cert.key_bits=2048
    cert.sig_alg=sha256WithRSAEncryption cert.self_signed=false cert.chain_valid=true
    cert.sni_match=true)

cap_start c c0 tcp port $PORT
tls_session tls12-basic 10.99.0.2:$PORT -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256 \
    -- "${VERIFY[@]}" -tls1_2
cap_stop tls12-basic
expect_begin tls12-basic "TLS 1.2 ECDHE-RSA-AES128-GCM-SHA256, SNI server.test, no ALPN, \
server certificate (test CA, RSA 2048, 365 days) visible, one line each way, FIN"
expect_flow client=10.99.0.1 server=10.99.0.2 server_port=$PORT \
    "tls.version=TLS 1.2" tls.cipher=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 tls.sni=$SNI \
    tls.alpn=null "${TLS12_CERT[@]}" rules=
expect_end

cap_start c c0 tcp port $PORT
tls_session ipv6-tls "[fd00:99::2]:$PORT" -6 -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256 \
    -- "${VERIFY[@]}" -tls1_2
cap_stop ipv6-tls
expect_begin ipv6-tls "tls12-basic over IPv6 (fd00:99::1 -> fd00:99::2)"
expect_flow client=fd00:99::1 server=fd00:99::2 server_port=$PORT \
    "tls.version=TLS 1.2" tls.cipher=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 tls.sni=$SNI \
    tls.alpn=null "${TLS12_CERT[@]}" rules=
expect_end
