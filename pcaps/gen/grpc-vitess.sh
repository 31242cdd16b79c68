#!/bin/bash
# Vitess gRPC paths served by python3-grpcio generic handlers (gen/grpc_vitess.py), one
# namespace per host on a bridge (captured on the bridge), addresses as in the demo
# cluster:
#   app          10.99.10.1   client of vtgate        /vtgateservice.Vitess/Execute
#   admin        10.99.10.2   vtctldclient            /vtctlservice.Vtctld/GetKeyspaces
#   vtgate       10.99.20.1   gRPC server 15991; client of vttablet
#                             /queryservice.Query/Execute, /queryservice.Query/StreamHealth
#   vttablet-1   10.99.30.1   gRPC server 16001 (uid 1: 16000+1)
#   vtctld       10.99.40.1   gRPC server 15999; client of vttablet
#                             /tabletmanagerservice.TabletManager/Ping
# Captures (each four connections, one per client, unless midstream):
#   grpc-h2c.pcap              cleartext HTTP/2 (prior knowledge)
#   grpc-tls.pcap              TLS 1.3, SNI = the server's name, server-only authentication
#   grpc-mtls.pcap             TLS 1.3 with client certificates (required by the servers)
#   grpc-mtls12.pcap           mutual TLS forced to TLS 1.2 by an OPENSSL_CONF with
#                              "Protocol = -TLSv1.3" (grpcio uses the system OpenSSL 3):
#                              both certificates visible; the server picks ALPN grpc-exp
#   grpc-midstream-plain.pcap  vtgate -> vttablet h2c connection calling Query/Execute
#                              every 100 ms; capture starts 1 s after the connection
#   grpc-midstream-tls.pcap    the same over TLS 1.3
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-apps.bash"

CA=$CERT_DIR/ca.pem
VTGATE_PORT=15991
TABLET_PORT=16001
VTCTLD_PORT=15999
P_VTGATE=/vtgateservice.Vitess/Execute
P_QUERY=/queryservice.Query/Execute
P_HEALTH=/queryservice.Query/StreamHealth
P_PING=/tabletmanagerservice.TabletManager/Ping
P_KEYSPACES=/vtctlservice.Vtctld/GetKeyspaces

switch_create
switch_host app 10.99.10.1/16
switch_host admin 10.99.10.2/16
switch_host vtgate 10.99.20.1/16
switch_host vttablet 10.99.30.1/16
switch_host vtctld 10.99.40.1/16

# Server certificates carry the names the clients dial; client certificates are
# clientAuth certificates named after the calling component.
cert_issue vtgate-srv vtgate.demo.test
VTGATE_NOT_AFTER=$CERT_NOT_AFTER
cert_issue vttablet-srv vttablet-1.demo.test
TABLET_NOT_AFTER=$CERT_NOT_AFTER
cert_issue vtctld-srv vtctld.demo.test
VTCTLD_NOT_AFTER=$CERT_NOT_AFTER
cert_issue app-cli app.demo.test --client
cert_issue vtgate-cli vtgate.demo.test --client
cert_issue vtctld-cli vtctld.demo.test --client
cert_issue admin-cli vtctldclient.demo.test --client

cat >"$WORK/tls12.cnf" <<'EOF'
# Limit OpenSSL (and so grpcio) to TLS 1.2 and below.
openssl_conf = openssl_init
[openssl_init]
ssl_conf = ssl_sect
[ssl_sect]
system_default = system_default_sect
[system_default_sect]
Protocol = -TLSv1.3
EOF

# servers MODE: start vtgate, vttablet and vtctld gRPC servers in MODE (plain, tls, mtls).
servers() {
    local opts=()
    SERVER_PIDS=()
    for s in vtgate:$VTGATE_PORT:vtgateservice.Vitess \
        vttablet:$TABLET_PORT:queryservice.Query,tabletmanagerservice.TabletManager \
        vtctld:$VTCTLD_PORT:vtctlservice.Vtctld; do
        IFS=: read -r host port svcs <<<"$s"
        opts=()
        [ "$1" != plain ] && opts=(--cert "$WORK/$host-srv.pem" --key "$WORK/$host-srv.key")
        [ "$1" = mtls ] && opts+=(--client-ca "$CA")
        grpc_server "$host" "$host-grpc-$1" "$port" --services "$svcs" "${opts[@]}"
        SERVER_PIDS+=("$GRPC_PID")
    done
}

stop_servers() {
    local pid
    for pid in "${SERVER_PIDS[@]}"; do stop "$pid"; done
}

# client_opts MODE CLIENT SERVER_NAME: grpc_vitess.py call options; sets COPTS.
client_opts() {
    COPTS=()
    [ "$1" = plain ] && return 0
    COPTS=(--ca "$CA" --name "$3")
    [ "$1" = mtls ] && COPTS+=(--cert "$WORK/$2-cli.pem" --key "$WORK/$2-cli.key")
    return 0
}

# four_calls MODE NAME: the four client connections, one after the other.
four_calls() {
    client_opts "$1" app vtgate.demo.test
    grpc_call app "$2-app" 10.99.20.1:$VTGATE_PORT --paths $P_VTGATE "${COPTS[@]}"
    client_opts "$1" vtgate vttablet-1.demo.test
    grpc_call vtgate "$2-vtgate" 10.99.30.1:$TABLET_PORT --paths $P_QUERY,$P_HEALTH \
        "${COPTS[@]}"
    client_opts "$1" vtctld vttablet-1.demo.test
    grpc_call vtctld "$2-vtctld" 10.99.30.1:$TABLET_PORT --paths $P_PING "${COPTS[@]}"
    client_opts "$1" admin vtctld.demo.test
    grpc_call admin "$2-admin" 10.99.40.1:$VTCTLD_PORT --paths $P_KEYSPACES "${COPTS[@]}"
}

# scenario NAME MODE: servers in MODE, capture the four connections, stop.
scenario() {
    servers "$2"
    cap_begin sw br0 tcp
    four_calls "$2" "$1"
    cap_stop "$1"
    stop_servers
}

# The four flows of a scenario, for the expected files. flows_expect TLS_ARGS...:
# TLS_ARGS (tls.* and cert.* items, or nothing for h2c) apply to each flow; with TLS=1
# each flow gets its SNI, and with CERT=1 also the facts of its server's certificate.
flows_expect() {
    local app=grpc rules_app=plaintext-app-to-vtgate-grpc rules_gate=plaintext-vtgate-to-vttablet
    local rules_ctld=plaintext-vtctld-to-vttablet rules_admin=plaintext-to-vtctld enc=false
    if [ $# -gt 0 ]; then
        app=tls enc=true rules_app="" rules_gate="" rules_ctld="" rules_admin=""
    fi
    sni vtgate.demo.test "$VTGATE_NOT_AFTER"
    expect_flow client=10.99.10.1 server=10.99.20.1 server_port=$VTGATE_PORT app=$app encrypted=$enc \
        client_component=app server_component=vtgate grpc.paths=$P_VTGATE \
        "$@" "${SNI_ITEMS[@]}" rules=$rules_app
    sni vttablet-1.demo.test "$TABLET_NOT_AFTER"
    expect_flow client=10.99.20.1 server=10.99.30.1 server_port=$TABLET_PORT app=$app encrypted=$enc \
        client_component=vtgate server_component=vttablet grpc.paths=$P_QUERY,$P_HEALTH \
        "$@" "${SNI_ITEMS[@]}" rules=$rules_gate
    expect_flow client=10.99.40.1 server=10.99.30.1 server_port=$TABLET_PORT app=$app encrypted=$enc \
        client_component=vtctld server_component=vttablet grpc.paths=$P_PING \
        "$@" "${SNI_ITEMS[@]}" rules=$rules_ctld
    sni vtctld.demo.test "$VTCTLD_NOT_AFTER"
    expect_flow client=10.99.10.2 server=10.99.40.1 server_port=$VTCTLD_PORT app=$app encrypted=$enc \
        client_component=vtctldclient server_component=vtctld grpc.paths=$P_KEYSPACES \
        "$@" "${SNI_ITEMS[@]}" rules=$rules_admin
}

# sni NAME NOT_AFTER: per-server TLS items in SNI_ITEMS (see flows_expect).
sni() {
    SNI_ITEMS=()
    [ "${TLS:-0}" = 1 ] || return 0
    SNI_ITEMS=("tls.sni=$1")
    [ "${CERT:-0}" = 1 ] || return 0
    SNI_ITEMS+=(cert.observable=true "cert.subject_cn=$1" "cert.issuer_cn=$TEST_CA_CN"
        "cert.not_after=$2" cert.key_type=RSA cert.key_bits=2048
        cert.sig_alg=sha256WithRSAEncryption cert.self_signed=false cert.chain_valid=true
        cert.sni_match=true)
}

scenario grpc-h2c plain
expect_begin grpc-h2c "Vitess gRPC in cleartext HTTP/2 (h2c, prior knowledge): app -> \
vtgate Execute, vtgate -> vttablet Query Execute + StreamHealth (3 messages), vtctld -> \
vttablet TabletManager Ping, vtctldclient -> vtctld GetKeyspaces; one connection each"
TLS=0 flows_expect
expect_end_apps

TLS13=("tls.version=TLS 1.3" tls.cipher=TLS_AES_256_GCM_SHA384 tls.alpn=h2
    cert.observable=false)
scenario grpc-tls tls
expect_begin grpc-tls "The grpc-h2c calls over TLS 1.3 (server certificates only; \
clients verify the test CA and the name they dial, sent as SNI; ALPN offered grpc-exp,h2)"
TLS=1 flows_expect "${TLS13[@]}" tls.client_cert=not-observable
expect_end_apps

scenario grpc-mtls mtls
expect_begin grpc-mtls "The grpc-h2c calls over TLS 1.3 with client certificates \
required by every server (certificates encrypted)"
TLS=1 flows_expect "${TLS13[@]}" tls.client_cert=not-observable
expect_end_apps

GRPC_ENV=(OPENSSL_CONF="$WORK/tls12.cnf")
scenario grpc-mtls12 mtls
GRPC_ENV=()
expect_begin grpc-mtls12 "The grpc-mtls calls forced to TLS 1.2 (OPENSSL_CONF with \
Protocol = -TLSv1.3 on both ends): ECDHE-RSA-AES128-GCM-SHA256, ALPN grpc-exp chosen by \
the server, server and client certificates visible"
TLS=1 CERT=1 flows_expect "tls.version=TLS 1.2" \
    tls.cipher=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 tls.alpn=grpc-exp \
    tls.client_cert=presented
expect_end_apps

# midstream NAME MODE: one vtgate -> vttablet connection calling Query/Execute every
# 100 ms; the capture starts 1 s after it connected and lasts 1 s, then the client
# closes its channel (FIN) and the capture stops.
midstream() {
    servers "$2"
    client_opts "$2" vtgate vttablet-1.demo.test
    bg vtgate "$1-client" env "$PY" -u "$GEN_DIR/grpc_vitess.py" call \
        --target 10.99.30.1:$TABLET_PORT --paths $P_QUERY --repeat 0 --interval 0.1 \
        "${COPTS[@]}"
    local cpid=$BG_PID
    sleep 1
    kill -0 "$cpid" 2>/dev/null || die "$1: client exited: $(tail -5 "$WORK/$1-client.log")"
    cap_begin sw br0 tcp
    sleep 1
    stop "$cpid"
    cap_stop "$1"
    stop_servers
    grep -q "$P_QUERY -> 1" "$WORK/$1-client.log" || die "$1: no successful call"
}

midstream grpc-midstream-plain plain
expect_begin grpc-midstream-plain "One long-lived vtgate -> vttablet h2c connection \
calling $P_QUERY every 100 ms; the capture starts 1 s after the connection (no SYN, no \
preface, no SETTINGS; the :path is an HPACK dynamic-table reference, so a decoder \
started here cannot name it) and ends with the client's close (FIN)"
# Without the handshake, the path or an inventory nothing names the client, so no
# default path rule applies (the server is a vttablet by its port only).
expect_flow client=10.99.20.1 server=10.99.30.1 server_port=$TABLET_PORT app=grpc \
    encrypted=false midstream=true client_component=unknown server_component=vttablet \
    grpc.paths= rules=
expect_end_apps

midstream grpc-midstream-tls tls
expect_begin grpc-midstream-tls "The grpc-midstream-plain connection over TLS 1.3: \
only TLS application-data records are captured (no handshake)"
expect_flow client=10.99.20.1 server=10.99.30.1 server_port=$TABLET_PORT app=tls \
    midstream=true client_component=unknown server_component=vttablet \
    tls.version=null tls.resumed=null tls.client_cert=not-observable cert.observable=false rules=
expect_end_apps
