#!/bin/bash
# TLS 1.2 through an impairing bridge (gen/impair.py in a middle namespace), so that
# the real TCP stacks retransmit and receive segments out of order. MTU 1000 and the
# CA certificate sent in the chain make the server's first flight span 3 segments.
# Captured on the client's veth:
#   tcp-impaired-tls.pcap  server->client: 2nd data segment delivered after the 3rd
#                          (out of order), 4th data segment twice (duplicate);
#                          client->server: 2nd data segment (ClientKeyExchange flight)
#                          dropped after the capture point, so it is retransmitted
. "$(dirname "$0")/lib.sh"

ns_create c m s
veth_pair c c0 m m0
veth_pair m m1 s s0
for pair in c:c0 m:m0 m:m1 s:s0; do
    ip -n "$(nsname "${pair%%:*}")" link set "${pair#*:}" mtu 1000
done
addr c c0 10.99.0.1/24
addr s s0 10.99.0.2/24
cert_issue server "$SNI"

bg m impair "$PY" -u "$GEN_DIR/impair.py" m0 m1 --drop-a2b 2 --reorder-b2a 2 --dup-b2a 4
for i in $(seq 50); do
    grep -qs ready "$WORK/impair.log" && break
    sleep 0.1
done
grep -qs ready "$WORK/impair.log" || die "impair.py did not start: $(cat "$WORK/impair.log")"

cap_start c c0 tcp port $PORT
tls_session tcp-impaired-tls 10.99.0.2:$PORT -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256 \
    -cert_chain "$CERT_DIR/ca.pem" -- -servername "$SNI" -CAfile "$CERT_DIR/ca.pem" \
    -verify_return_error -verify_hostname "$SNI" -tls1_2
cap_stop tcp-impaired-tls
expect_begin tcp-impaired-tls "tls12-basic (MTU 1000, CA in the chain) through a bridge \
that delivers the server's 2nd data segment after its 3rd, duplicates the server's 4th and \
drops the client's 2nd (retransmitted); captured on the client side"
expect_flow client=10.99.0.1 server=10.99.0.2 server_port=$PORT \
    "tls.version=TLS 1.2" tls.cipher=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 tls.sni=$SNI \
    tls.alpn=null cert.observable=true "cert.subject_cn=$SNI" "cert.issuer_cn=$TEST_CA_CN" \
    "cert.not_after=$CERT_NOT_AFTER" cert.key_type=RSA cert.key_bits=2048 \
    cert.sig_alg=sha256WithRSAEncryption cert.self_signed=false cert.chain_valid=true \
    cert.sni_match=true rules=
expect_end
