#!/bin/bash
# TCP edge cases between socat / OpenSSL programs in two namespaces:
#   tcp-rst.pcap         three flows ended by RST: a refused connection (SYN, RST),
#                        a plaintext echo aborted by the client (SO_LINGER 0, no FIN),
#                        a TLS 1.2 session aborted by the client after close_notify (no FIN)
#   tcp-port-reuse.pcap  three short plaintext connections from the same client port
#                        40000 (server closes first, so the 4-tuple is reused at once)
#   midstream-plain.pcap a long-lived plaintext echo connection (a line every 100 ms)
#                        captured from 1 s after its handshake for ~1.3 s; no SYN, no end
#   midstream-tls.pcap   the same over TLS 1.3 (s_server -rev), handshake not captured
. "$(dirname "$0")/lib.sh"

two_hosts
cert_issue server "$SNI"
CA=$CERT_DIR/ca.pem
TLS12_CERT=(cert.observable=true "cert.subject_cn=$SNI" "cert.issuer_cn=$TEST_CA_CN"
    "cert.not_after=$CERT_NOT_AFTER" cert.key_type=RSA cert.key_bits=2048
    cert.sig_alg=sha256WithRSAEncryption cert.self_signed=false cert.chain_valid=true
    cert.sni_match=true)

# ---- tcp-rst
cap_start c c0 tcp
run c refused 5 socat -u - TCP:10.99.0.2:5001 </dev/null &&
    die "connection to closed port 5001 succeeded"
bg s echo-server socat TCP-LISTEN:5000,reuseaddr PIPE
wait_listen s 5000 "$BG_PID"
ECHO_PID=$BG_PID
# socat always shuts down (FIN) before closing, so this client is python3: SO_LINGER 0
# makes close() send RST with no FIN.
run c abort-plain 5 "$PY" -c "
import socket, struct
s = socket.create_connection(('10.99.0.2', 5000))
s.sendall(b'hello vtls\n')
print(s.recv(100).decode())
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
s.close()" ||
    die "plaintext abort client failed: $(cat "$WORK/abort-plain.log")"
grep -q 'hello vtls' "$WORK/abort-plain.log" || die "no echo from plaintext server"
wait_exit "$ECHO_PID" 5
tls_server s abort-tls -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256
{ printf 'hello vtls\n'; sleep 0.3; } |
    run c abort-tls 5 socat -t 0.5 - "OPENSSL:10.99.0.2:$PORT,cafile=$CA,snihost=$SNI,commonname=$SNI,linger=0" ||
    die "TLS abort client failed: $(cat "$WORK/abort-tls.log")"
grep -q 'sltv olleh' "$WORK/abort-tls.log" || die "no reply from TLS server"
wait_exit "$SRV_PID" 5
cap_stop tcp-rst
expect_begin tcp-rst "three flows ended by RST: refused (SYN to closed port 5001, RST), \
plaintext echo on 5000 aborted with SO_LINGER 0 (no FIN), TLS 1.2 on 4433 aborted \
with RST after close_notify (no FIN)"
expect_flow client=10.99.0.1 server=10.99.0.2 server_port=5001 app=null encrypted=null \
    end=rst rules=
expect_flow client=10.99.0.1 server=10.99.0.2 server_port=5000 app=unknown encrypted=false \
    end=rst rules=
expect_flow client=10.99.0.1 server=10.99.0.2 server_port=$PORT end=rst \
    "tls.version=TLS 1.2" tls.cipher=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 tls.sni=$SNI \
    tls.alpn=null "${TLS12_CERT[@]}" rules=
expect_end

# ---- tcp-port-reuse
cap_start c c0 tcp port 5000
bg s reuse-server socat TCP-LISTEN:5000,reuseaddr,fork 'SYSTEM:read l; echo "re: $l"'
wait_listen s 5000 "$BG_PID"
REUSE_PID=$BG_PID
for i in 1 2 3; do
    { printf 'hello %s\n' "$i"; sleep 0.3; } |
        run c "reuse-$i" 5 socat -t 0.5 - TCP:10.99.0.2:5000,bind=10.99.0.1:40000,reuseaddr ||
        die "reuse client $i failed: $(cat "$WORK/reuse-$i.log")"
    grep -q "re: hello $i" "$WORK/reuse-$i.log" || die "no reply on reused connection $i"
    sleep 0.2
done
cap_stop tcp-port-reuse
stop "$REUSE_PID"
expect_begin tcp-port-reuse "three consecutive plaintext connections 10.99.0.1:40000 -> \
10.99.0.2:5000 (same 4-tuple); server answers one line and closes first; each ends with FIN"
for i in 1 2 3; do
    expect_flow client=10.99.0.1 client_port=40000 server=10.99.0.2 server_port=5000 \
        app=unknown encrypted=false end=fin rules=
done
expect_end

# ---- midstream-plain
TICK="SYSTEM:while echo tick; do sleep 0.1; done"
bg s mid-server socat TCP-LISTEN:5000,reuseaddr PIPE
wait_listen s 5000 "$BG_PID"
MID_SRV=$BG_PID
bg c mid-client socat TCP:10.99.0.2:5000 "$TICK"
MID_CLI=$BG_PID
sleep 1
cap_start c c0 tcp port 5000
sleep 1
cap_stop midstream-plain
stop "$MID_CLI"
stop "$MID_SRV"
expect_begin midstream-plain "plaintext echo connection 10.99.0.1 -> 10.99.0.2:5000, a line \
each way every 100 ms; capture starts 1 s after the handshake and stops before the end"
expect_flow client=10.99.0.1 server=10.99.0.2 server_port=5000 app=unknown encrypted=false \
    midstream=true end=null rules=
expect_end

# ---- midstream-tls
tls_server s mid-tls -tls1_3 -ciphersuites TLS_AES_128_GCM_SHA256
bg c mid-tls-client socat "OPENSSL:10.99.0.2:$PORT,cafile=$CA,snihost=$SNI,commonname=$SNI" \
    "$TICK"
MID_CLI=$BG_PID
sleep 1
cap_start c c0 tcp port $PORT
sleep 1
cap_stop midstream-tls
stop "$MID_CLI"
stop "$SRV_PID"
expect_begin midstream-tls "TLS 1.3 (configured TLS_AES_128_GCM_SHA256, SNI server.test) \
connection 10.99.0.1 -> 10.99.0.2:4433, a record each way every 100 ms; capture starts 1 s \
after the handshake, so version, cipher, SNI and certificate are not observable"
expect_flow client=10.99.0.1 server=10.99.0.2 server_port=$PORT midstream=true end=null \
    tls.version=null tls.cipher=null tls.sni=null tls.alpn=null tls.resumed=null \
    tls.client_cert=not-observable cert.observable=false rules=
expect_end
