#!/bin/bash
# A two-member etcd 3.4 cluster, etcd-1 in namespace c (10.99.0.1) and etcd-2 in s
# (10.99.0.2), captured from before the members start until 2 s after both serve
# (connection set-up, leader election, heartbeats, one put through etcd-1 from inside c
# over loopback, so only the replication is on the wire):
#   etcd-peer-plain.pcap   peer port 2380 in plaintext (HTTP/1.1 raft streams)
#   etcd-peer-mtls.pcap    peer port 2380 with mutual TLS (--peer-client-cert-auth)
# Which member dials which, and how often, is etcd's own: the flows are listed from the
# capture (a member may dial the other a few ms before it listens: a refused flow).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-apps.bash"

CA=$CERT_DIR/ca.pem
A1=10.99.0.1
A2=10.99.0.2

two_hosts
for n in 1 2; do
    cert_issue_san etcd-peer$n etcd-$n.test serverAuth,clientAuth "DNS:etcd-$n.test,IP:10.99.0.$n"
done

# scenario NAME SCHEME: both members with peer URLs in SCHEME (http, https).
scenario() {
    local name=$1 ps=$2 n opts pids=()
    rm -rf "$WORK"/etcd-[12].etcd
    cap_begin c c0 tcp port 2380
    for n in 1 2; do
        opts=()
        [ "$ps" = https ] && opts=(--peer-cert-file="$WORK/etcd-peer$n.pem"
            --peer-key-file="$WORK/etcd-peer$n.key" --peer-trusted-ca-file="$CA"
            --peer-client-cert-auth)
        local ns=c
        [ $n = 2 ] && ns=s
        PEER_SCHEME=$ps etcd_member $ns etcd-$n 10.99.0.$n \
            "etcd-1=$ps://$A1:2380,etcd-2=$ps://$A2:2380" \
            --listen-client-urls "http://10.99.0.$n:2379,http://127.0.0.1:2379" "${opts[@]}"
        pids+=("$ETCD_PID")
    done
    wait_listen c 2379 "${pids[0]}"
    wait_listen s 2379 "${pids[1]}"
    etcdctl_run c "$name-put" http://127.0.0.1:2379 put /vitess/global/keyspaces/commerce '{}'
    sleep 2
    cap_stop "$name"
    for n in "${pids[@]}"; do stop "$n"; done
}

# peer_flows NAME ITEMS...: one expected flow per captured peer connection.
peer_flows() {
    local name=$1 count=0
    shift
    while read -r cli cport srv end bytes; do
        if [ "$bytes" = 0 ]; then
            expect_flow client=$cli client_port=$cport server=$srv server_port=2380 app=null \
                encrypted=false client_component=etcd server_component=etcd end=$end rules=
            continue
        fi
        expect_flow client=$cli client_port=$cport server=$srv server_port=2380 \
            client_component=etcd server_component=etcd end=$end "$@"
        count=$((count + 1))
    done < <(conv_flows "$PCAP_DIR/$name.pcap" 2380)
    [ $count -ge 2 ] || die "$name: only $count peer connections with data"
}

scenario etcd-peer-plain http
expect_begin etcd-peer-plain "Two etcd 3.4 members, peer traffic in plaintext HTTP/1.1 \
(GET /members, /version, /raft/stream/msgapp/<id>, /raft/stream/message/<id>, X-Etcd-Cluster-ID \
headers): set-up, election, one replicated put, heartbeats"
peer_flows etcd-peer-plain app=etcd-peer encrypted=false rules=plaintext-etcd-peer
expect_end_apps

scenario etcd-peer-mtls https
expect_begin etcd-peer-mtls "The etcd-peer-plain cluster with mutual TLS on the peer \
port: TLS 1.3 TLS_AES_128_GCM_SHA256 (Go), no SNI (peers dial addresses), no ALPN, \
certificates encrypted"
peer_flows etcd-peer-mtls app=tls "tls.version=TLS 1.3" tls.cipher=TLS_AES_128_GCM_SHA256 \
    tls.sni=null tls.alpn=null tls.client_cert=not-observable cert.observable=false rules=
expect_end_apps
