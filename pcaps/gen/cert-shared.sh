#!/bin/bash
# One certificate (one key) presented by two components:
#   cert-shared.pcap  client "app" 10.99.10.1 connects with TLS 1.2 to "vttablet"
#                     10.99.30.1:16001 and then to "vtctld" 10.99.40.1:15999; both
#                     s_server processes use the same test-CA certificate (SAN
#                     vttablet-1.demo.test and vtctld.demo.test) and require a client
#                     certificate (app.demo.test is sent). Components are named
#                     by pcaps/cert-shared.inventory.yaml (written here).
. "$(dirname "$0")/lib.sh"

ns_create c s
veth_pair c c0 s s0
addr c c0 10.99.10.1/24
addr s s0 10.99.30.1/24
addr s s0 10.99.40.1/24
ip -n "$(nsname c)" route add 10.99.30.0/24 dev c0
ip -n "$(nsname c)" route add 10.99.40.0/24 dev c0
ip -n "$(nsname s)" route add 10.99.10.0/24 dev s0

cert_issue shared shared.demo.test --san vttablet-1.demo.test,vtctld.demo.test
SHARED_NOT_AFTER=$CERT_NOT_AFTER
cert_issue app app.demo.test --client
APP_NOT_AFTER=$CERT_NOT_AFTER
CA=$CERT_DIR/ca.pem
TLS12=(-tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256)

cat >"$PCAP_DIR/cert-shared.inventory.yaml" <<'YAML'
# Components of pcaps/cert-shared.pcap (made by gen/cert-shared.sh), for --inventory.
components:
  - name: app
    cidrs: [10.99.10.0/24]
  - name: vttablet
    cidrs: [10.99.30.0/24]
    ports: [16001]
    tls_names: ["vttablet-*.demo.test"]
  - name: vtctld
    cidrs: [10.99.40.0/24]
    ports: [15999]
    tls_names: ["vtctld*.demo.test"]
YAML

cap_start c c0 tcp
for target in vttablet:10.99.30.1:16001:vttablet-1.demo.test \
    vtctld:10.99.40.1:15999:vtctld.demo.test; do
    IFS=: read -r comp ip port name <<<"$target"
    bg s "$comp-server" openssl s_server -accept "$ip:$port" -naccept 1 -rev \
        -cert "$WORK/shared.pem" -key "$WORK/shared.key" "${TLS12[@]}" \
        -Verify 1 -CAfile "$CA"
    spid=$BG_PID
    wait_listen s "$port" "$spid"
    tls_client c "$comp" "$ip:$port" -servername "$name" -CAfile "$CA" \
        -verify_return_error -verify_hostname "$name" -tls1_2 \
        -cert "$WORK/app.pem" -key "$WORK/app.key" ||
        die "$comp: s_client failed: $(tail -5 "$WORK/$comp-client.log")"
    grep -q 'sltv olleh' "$WORK/$comp-client.log" || die "$comp: no reply"
    wait_exit "$spid" 5
done
cap_stop cert-shared

CERT=(cert.observable=true cert.subject_cn=shared.demo.test "cert.issuer_cn=$TEST_CA_CN"
    "cert.not_after=$SHARED_NOT_AFTER" cert.key_type=RSA cert.key_bits=2048
    cert.sig_alg=sha256WithRSAEncryption cert.self_signed=false cert.chain_valid=true
    cert.sni_match=true tls.client_cert=presented tls.client_cert_subject_cn=app.demo.test
    "tls.client_cert_not_after=$APP_NOT_AFTER")
expect_begin cert-shared "the same certificate (CN shared.demo.test, SAN \
vttablet-1.demo.test and vtctld.demo.test) presented by vttablet and then by vtctld, both \
mutual TLS 1.2 from app (client certificate app.demo.test); cert-shared-by-components fires \
once the second component presents it"
EXP_ARGS+=(inventory=cert-shared.inventory.yaml)
expect_flow client=10.99.10.1 server=10.99.30.1 server_port=16001 client_component=app \
    server_component=vttablet "tls.version=TLS 1.2" \
    tls.cipher=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 tls.sni=vttablet-1.demo.test \
    tls.alpn=null "${CERT[@]}" rules=
expect_flow client=10.99.10.1 server=10.99.40.1 server_port=15999 client_component=app \
    server_component=vtctld "tls.version=TLS 1.2" \
    tls.cipher=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 tls.sni=vtctld.demo.test \
    tls.alpn=null "${CERT[@]}" rules=cert-shared-by-components
expect_end
