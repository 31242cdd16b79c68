#!/bin/bash
# etcd 3.4 client traffic, one member (namespace s, 10.99.0.2, client port 2379) and the
# clients in namespace c (10.99.0.1):
#   etcd-client-plain.pcap   etcdctl put, then etcdctl get: two plaintext gRPC connections
#   etcd-client-tls.pcap     the same over TLS (server certificate only; etcdctl dials the
#                            address, so no SNI)
#   etcd-client-mtls.pcap    the same with client certificates (--client-cert-auth)
#   etcd-gateway-http.pcap   one curl connection (keep-alive) to the JSON gateway over
#                            HTTP/1.1: POST /v3/kv/put, POST /v3/kv/range, GET /version,
#                            GET /health
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-apps.bash"

CA=$CERT_DIR/ca.pem
SRV=10.99.0.2
KEY=/vitess/global/keyspaces/commerce

two_hosts
cert_issue_san etcd-srv etcd.test serverAuth "DNS:etcd.test,IP:$SRV"
cert_issue etcd-cli vtctld.demo.test --client

# scenario NAME MODE: a fresh member in MODE (plain, tls, mtls), capture put + get.
scenario() {
    local opts=() copts=() scheme=http
    if [ "$2" != plain ]; then
        scheme=https
        opts=(--cert-file="$WORK/etcd-srv.pem" --key-file="$WORK/etcd-srv.key")
        copts=(--cacert="$CA")
    fi
    if [ "$2" = mtls ]; then
        opts+=(--client-cert-auth --trusted-ca-file="$CA")
        copts+=(--cert="$WORK/etcd-cli.pem" --key="$WORK/etcd-cli.key")
    fi
    rm -rf "$WORK/etcd-$1.etcd"
    CLIENT_SCHEME=$scheme etcd_member s "etcd-$1" $SRV "etcd-$1=http://$SRV:2380" "${opts[@]}"
    local pid=$ETCD_PID
    wait_listen s 2379 "$pid"
    cap_begin c c0 tcp port 2379
    etcdctl_run c "$1-put" "$scheme://$SRV:2379" "${copts[@]}" put $KEY '{"keyspace":"commerce"}'
    etcdctl_run c "$1-get" "$scheme://$SRV:2379" "${copts[@]}" get $KEY
    grep -q commerce "$WORK/$1-get.log" || die "$1: get did not return the key"
    cap_stop "$1"
    stop "$pid"
}

# flows NAME ITEMS...: the put and get flows of a capture, in order, with their client
# ports and ends read from the capture (etcdctl closes with FIN or RST; Go decides).
flows() {
    local name=$1 path i=0
    shift
    local paths=(/etcdserverpb.KV/Put /etcdserverpb.KV/Range)
    while read -r cli cport srv end bytes; do
        [ $i -lt 2 ] || die "$name: more than two connections"
        expect_flow client=$cli client_port=$cport server=$srv server_port=2379 \
            server_component=etcd end=$end "grpc.paths=${paths[$i]}" "$@"
        i=$((i + 1))
    done < <(conv_flows "$PCAP_DIR/$name.pcap" 2379)
    [ $i = 2 ] || die "$name: $i connections, expected 2"
}

TLS13=("tls.version=TLS 1.3" tls.cipher=TLS_AES_128_GCM_SHA256 tls.sni=null tls.alpn=h2
    cert.observable=false)

scenario etcd-client-plain plain
expect_begin etcd-client-plain "etcd 3.4 client gRPC in plaintext (h2c): etcdctl put \
$KEY, then etcdctl get (one connection each)"
flows etcd-client-plain app=etcd encrypted=false rules=plaintext-topology-etcd
expect_end_apps

scenario etcd-client-tls tls
expect_begin etcd-client-tls "etcdctl put + get over TLS 1.3 (Go; server certificate \
CN etcd.test with IP SAN, no SNI since etcdctl dials the address; ALPN h2 offered)"
flows etcd-client-tls app=tls "${TLS13[@]}" tls.client_cert=not-observable rules=
expect_end_apps

scenario etcd-client-mtls mtls
expect_begin etcd-client-mtls "etcdctl put + get over TLS 1.3 with a client \
certificate (--client-cert-auth; certificates encrypted)"
flows etcd-client-mtls app=tls "${TLS13[@]}" tls.client_cert=not-observable rules=
expect_end_apps

# --- the JSON gateway over HTTP/1.1 ------------------------------------------------------
NAME=etcd-gateway-http
rm -rf "$WORK/etcd-gw.etcd"
etcd_member s etcd-gw $SRV "etcd-gw=http://$SRV:2380"
GW_PID=$ETCD_PID
wait_listen s 2379 "$GW_PID"
cap_begin c c0 tcp port 2379
# base64: "/vitess/global/keyspaces/commerce" and "{}"
K64=$(printf '%s' "$KEY" | base64 -w0)
V64=$(printf '%s' '{}' | base64 -w0)
run c gateway 10 curl -sS --http1.1 \
    -X POST "http://$SRV:2379/v3/kv/put" -d "{\"key\":\"$K64\",\"value\":\"$V64\"}" --next \
    -X POST "http://$SRV:2379/v3/kv/range" -d "{\"key\":\"$K64\"}" --next \
    "http://$SRV:2379/version" --next "http://$SRV:2379/health" ||
    die "curl to the gateway failed: $(cat "$WORK/gateway.log")"
grep -q etcdserver "$WORK/gateway.log" || die "gateway: no /version answer"
cap_stop $NAME
stop "$GW_PID"
expect_begin $NAME "etcd 3.4 JSON gateway and HTTP endpoints on the client port 2379, \
one curl keep-alive connection: POST /v3/kv/put, POST /v3/kv/range, GET /version, \
GET /health"
expect_flow client=10.99.0.1 server=$SRV server_port=2379 app=etcd encrypted=false \
    server_component=etcd http.paths=/v3/kv/put,/v3/kv/range,/version,/health \
    rules=plaintext-topology-etcd
expect_end_apps
