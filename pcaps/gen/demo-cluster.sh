#!/bin/bash
# The demo cluster: one capture of a small Vitess-shaped cluster for `make run`, one
# namespace per component on a bridge (captured on the bridge: every path is in it).
#
#   component    address      serves                         played by
#   app          10.99.10.1   -                              mariadb client
#   vtgate       10.99.20.1   MySQL 15306 (TLS)              mariadbd --version=8.0.30-Vitess
#   vttablet-1   10.99.30.1   gRPC 16001 (optional TLS)      gen/grpc_vitess.py
#   vttablet-2   10.99.30.2   gRPC 16001 (optional TLS)      gen/grpc_vitess.py
#   vtctld       10.99.40.1   -                              grpc_vitess.py / etcdctl
#   mysqld-1     10.99.50.1   MySQL 17001 (TLS)              mariadbd
#   etcd-1       10.99.60.1   client 2379 plain, peer 2380 mutual TLS   etcd 3.4
#   etcd-2       10.99.60.2   client 2379 plain, peer 2380 mutual TLS   etcd 3.4
#
# Paths: app -> vtgate MySQL over TLS 1.3 (SSLRequest); vtgate -> vttablet-1/-2 gRPC TLS
# 1.3 (Query Execute, StreamHealth); vtctld -> vttablet-1/-2 gRPC plaintext
# (TabletManager Ping; the tablets accept TLS and plaintext on one port, like
# --grpc-enable-optional-tls); vttablet-1 -> mysqld-1 MySQL TLS 1.2; vtctld, vtgate,
# vttablet-1/-2 -> etcd plaintext gRPC (topology); etcd-1 <-> etcd-2 peers mutual TLS 1.3.
# Writes pcaps/demo-cluster.pcap, pcaps/expected/demo-cluster.json and
# pcaps/demo-cluster.inventory.yaml.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-apps.bash"

NAME=demo-cluster
CA=$CERT_DIR/ca.pem
VTGATE_MYSQL=15306
TABLET_PORT=16001
MYSQLD_PORT=17001
VT_VERSION=8.0.30-Vitess
MARIA_VERSION=$(mariadbd --no-defaults --version | sed -n 's/.*Ver \([^ ]*\) .*/\1/p')
TLS12_CIPHER=ECDHE-RSA-AES256-GCM-SHA384
P_QUERY=/queryservice.Query/Execute
P_HEALTH=/queryservice.Query/StreamHealth
P_PING=/tabletmanagerservice.TabletManager/Ping
TOPO_KEY=/vitess/global/keyspaces
E1=10.99.60.1
E2=10.99.60.2

switch_create
switch_host app 10.99.10.1/16
switch_host vtgate 10.99.20.1/16
switch_host tablet1 10.99.30.1/16
switch_host tablet2 10.99.30.2/16
switch_host vtctld 10.99.40.1/16
switch_host mysqld1 10.99.50.1/16
switch_host etcd1 $E1/16
switch_host etcd2 $E2/16

# Certificates: 365 days, test CA, SANs = the names clients dial (gRPC clients send them
# as SNI; etcd peers dial addresses, so their certificates also carry IP SANs).
cert_issue vtgate vtgate.demo.test
cert_issue tablet1 vttablet-1.demo.test
cert_issue tablet2 vttablet-2.demo.test
cert_issue mysqld1 mysqld-1.demo.test
MYSQLD_NOT_AFTER=$CERT_NOT_AFTER
cert_issue_san etcd1 etcd-1.demo.test serverAuth,clientAuth "DNS:etcd-1.demo.test,IP:$E1"
cert_issue_san etcd2 etcd-2.demo.test serverAuth,clientAuth "DNS:etcd-2.demo.test,IP:$E2"

# --- servers that stay quiet until called (started before the capture) ---------------
maria_install mysqld1
maria_tls_opts mysqld1
maria_start mysqld1 mysqld1 $MYSQLD_PORT "${MARIA_TLS[@]}" --ssl-cipher=$TLS12_CIPHER
maria_install vtgate
maria_tls_opts vtgate
maria_start vtgate vtgate $VTGATE_MYSQL "${MARIA_TLS[@]}" --version=$VT_VERSION
for t in tablet1 tablet2; do
    grpc_server $t $t-grpc $TABLET_PORT --optional-tls --cert "$WORK/$t.pem" \
        --key "$WORK/$t.key" --services queryservice.Query,tabletmanagerservice.TabletManager
done

cap_begin sw br0 tcp

# --- etcd: both members at once (so neither dials a peer that is not listening yet) ---
CLUSTER=etcd-1=https://$E1:2380,etcd-2=https://$E2:2380
for n in 1 2; do
    PEER_SCHEME=https etcd_member etcd$n etcd-$n 10.99.60.$n "$CLUSTER" \
        --peer-cert-file="$WORK/etcd$n.pem" --peer-key-file="$WORK/etcd$n.key" \
        --peer-trusted-ca-file="$CA" --peer-client-cert-auth
done
wait_listen etcd1 2379
wait_listen etcd2 2379

# --- topology: vtctld writes a keyspace, every component reads the keyspaces ---------
etcdctl_run vtctld topo-put http://$E1:2379 put $TOPO_KEY/commerce '{"keyspace":"commerce"}'
etcdctl_run vtgate topo-vtgate http://$E1:2379 get $TOPO_KEY --prefix
etcdctl_run tablet1 topo-tablet1 http://$E1:2379 get $TOPO_KEY --prefix
etcdctl_run tablet2 topo-tablet2 http://$E2:2379 get $TOPO_KEY --prefix
etcdctl_run vtctld topo-vtctld http://$E2:2379 get $TOPO_KEY --prefix
grep -q commerce "$WORK/topo-vtctld.log" || die "topology read did not see the keyspace"

# --- vttablet-1 -> mysqld-1, MySQL TLS 1.2 (visible certificate) ----------------------
maria_client tablet1 tablet1-mysql 10.99.50.1 $MYSQLD_PORT "$MARIA_USER" "$MARIA_PASS" \
    --ssl --ssl-ca="$CA" --tls-version=TLSv1.2 -- "SELECT 1; SHOW SESSION STATUS LIKE 'Ssl_version'"
grep -q TLSv1.2 "$WORK/tablet1-mysql.log" || die "vttablet-1 -> mysqld-1 is not TLS 1.2"

# --- vtctld -> vttablets, gRPC plaintext ----------------------------------------------
grpc_call vtctld vtctld-ping1 10.99.30.1:$TABLET_PORT --paths $P_PING
grpc_call vtctld vtctld-ping2 10.99.30.2:$TABLET_PORT --paths $P_PING

# --- app -> vtgate, MySQL over TLS 1.3 -------------------------------------------------
maria_client app app-mysql 10.99.20.1 $VTGATE_MYSQL "$MARIA_USER" "$MARIA_PASS" --ssl \
    --ssl-ca="$CA" -- "SELECT @@version AS version; SHOW SESSION STATUS LIKE 'Ssl_version'"
grep -q TLSv1.3 "$WORK/app-mysql.log" || die "app -> vtgate is not TLS 1.3"
grep -q -- "$VT_VERSION" "$WORK/app-mysql.log" || die "vtgate did not say $VT_VERSION"

# --- vtgate -> vttablets, gRPC TLS 1.3 ------------------------------------------------
for n in 1 2; do
    grpc_call vtgate vtgate-query$n 10.99.30.$n:$TABLET_PORT --paths $P_QUERY,$P_HEALTH \
        --ca "$CA" --name vttablet-$n.demo.test
done

sleep 0.5
cap_stop $NAME

# ----------------------------------------------------------------- inventory
cat >"$PCAP_DIR/$NAME.inventory.yaml" <<'EOF'
# Components of pcaps/demo-cluster.pcap (made by gen/demo-cluster.sh), for --inventory.
# Each component: name, the networks it lives in, optionally its listening ports and the
# TLS names (SNI / certificate SAN patterns) it uses.
components:
  - name: app
    cidrs: [10.99.10.0/24]
  - name: vtgate
    cidrs: [10.99.20.0/24]
    ports: [15306, 15991]
    tls_names: ["vtgate*.demo.test"]
  - name: vttablet
    cidrs: [10.99.30.0/24]
    ports: [16001]
    tls_names: ["vttablet-*.demo.test"]
  - name: vtctld
    cidrs: [10.99.40.0/24]
    ports: [15999]
    tls_names: ["vtctld*.demo.test"]
  - name: mysqld
    cidrs: [10.99.50.0/24]
    ports: [17001]
    tls_names: ["mysqld-*.demo.test"]
  - name: etcd
    cidrs: [10.99.60.0/24]
    ports: [2379, 2380]
    tls_names: ["etcd-*.demo.test"]
EOF
log "wrote pcaps/$NAME.inventory.yaml"

# ----------------------------------------------------------------- expected
expect_begin $NAME "Demo Vitess cluster (see pcaps/README.md): app->vtgate MySQL TLS 1.3, \
vtgate->vttablet gRPC TLS 1.3, vtctld->vttablet gRPC plaintext, vttablet-1->mysqld-1 MySQL \
TLS 1.2, topology reads/writes to etcd in plaintext gRPC, etcd peers mutual TLS 1.3; use \
with --inventory pcaps/demo-cluster.inventory.yaml and --ca-bundle pcaps/certs/ca.pem"

# topology (etcd client gRPC, plaintext): one connection per etcdctl run. etcdctl closes
# its connection with a FIN or, when a frame of the server is still unread, a RST (Go
# closes the socket either way): the end is read from the capture.
TOPO_CONV=$(conv_flows "$PCAP_DIR/$NAME.pcap" 2379)
topo() {
    local end
    end=$(awk -v c="$1" -v s="$2" '$1 == c && $3 == s { print $4 }' <<<"$TOPO_CONV")
    [ -n "$end" ] || die "no topology connection $1 -> $2 in the capture"
    expect_flow client=$1 server=$2 server_port=2379 app=etcd encrypted=false end=$end \
        client_component=$3 server_component=etcd grpc.paths=$4 rules=plaintext-topology-etcd
}
topo 10.99.40.1 $E1 vtctld /etcdserverpb.KV/Put
topo 10.99.20.1 $E1 vtgate /etcdserverpb.KV/Range
topo 10.99.30.1 $E1 vttablet /etcdserverpb.KV/Range
topo 10.99.30.2 $E2 vttablet /etcdserverpb.KV/Range
topo 10.99.40.1 $E2 vtctld /etcdserverpb.KV/Range

expect_flow client=10.99.30.1 server=10.99.50.1 server_port=$MYSQLD_PORT app=mysql \
    client_component=vttablet server_component=mysqld \
    "mysql.server_version=5.5.5-$MARIA_VERSION" mysql.server_ssl=true mysql.client_ssl=true \
    mysql.user=null mysql.downgrade=false "tls.version=TLS 1.2" \
    tls.cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 tls.sni=null tls.alpn=null \
    tls.client_cert=requested-none cert.observable=true cert.subject_cn=mysqld-1.demo.test \
    "cert.issuer_cn=$TEST_CA_CN" "cert.not_after=$MYSQLD_NOT_AFTER" cert.key_type=RSA \
    cert.key_bits=2048 cert.sig_alg=sha256WithRSAEncryption cert.self_signed=false \
    cert.chain_valid=true cert.sni_match=null rules=

for n in 1 2; do
    expect_flow client=10.99.40.1 server=10.99.30.$n server_port=$TABLET_PORT app=grpc \
        encrypted=false client_component=vtctld server_component=vttablet \
        grpc.paths=$P_PING rules=plaintext-vtctld-to-vttablet
done

expect_flow client=10.99.10.1 server=10.99.20.1 server_port=$VTGATE_MYSQL app=mysql \
    client_component=app server_component=vtgate mysql.server_version=$VT_VERSION \
    mysql.server_ssl=true mysql.client_ssl=true mysql.user=null mysql.downgrade=false \
    "tls.version=TLS 1.3" tls.cipher=TLS_AES_256_GCM_SHA384 tls.sni=null tls.alpn=null \
    tls.client_cert=not-observable cert.observable=false rules=

for n in 1 2; do
    expect_flow client=10.99.20.1 server=10.99.30.$n server_port=$TABLET_PORT app=tls \
        client_component=vtgate server_component=vttablet "grpc.paths=$P_QUERY,$P_HEALTH" \
        "tls.version=TLS 1.3" tls.cipher=TLS_AES_256_GCM_SHA384 \
        tls.sni=vttablet-$n.demo.test tls.alpn=h2 tls.client_cert=not-observable \
        cert.observable=false rules=
done

# etcd peer connections: their number and direction are etcd's own (stream and pipeline
# connections, each member dialling the other), so they are listed from the capture. A
# member may dial its peer a few milliseconds before that one listens: such a refused
# connection (SYN, RST) carries no payload, so nothing identifies its application.
npeer=0
while read -r cli cport srv end bytes; do
    if [ "$bytes" = 0 ]; then
        expect_flow client=$cli client_port=$cport server=$srv server_port=2380 app=null \
            encrypted=false client_component=etcd server_component=etcd end=$end rules=
        continue
    fi
    expect_flow client=$cli client_port=$cport server=$srv server_port=2380 app=tls \
        client_component=etcd server_component=etcd end=$end "tls.version=TLS 1.3" \
        tls.cipher=TLS_AES_128_GCM_SHA256 tls.sni=null tls.alpn=null \
        tls.client_cert=not-observable cert.observable=false rules=
    npeer=$((npeer + 1))
done < <(conv_flows "$PCAP_DIR/$NAME.pcap" 2380)
[ "$npeer" -ge 2 ] || die "only $npeer etcd peer connections captured"
expect_end_apps
log "demo cluster: $npeer etcd peer connections"
