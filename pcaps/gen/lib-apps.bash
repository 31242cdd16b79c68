# shellcheck shell=bash
# Helpers for the application-protocol capture scripts (MySQL, etcd, gRPC, ZooKeeper,
# demo cluster). Source it after lib.sh:
#
#   . "$(dirname "$0")/lib.sh"
#   . "$(dirname "$0")/lib-apps.bash"
#
# Every server is started with lib.sh's bg (so it is stopped by PID on exit) and keeps
# all of its state in $WORK (removed on exit).

# ---------------------------------------------------------------- MariaDB

# Users created by the init file of every MariaDB instance (all with ALL privileges):
#   vt_app / vt_app_pw       mysql_native_password, any transport
#   vt_x509 / vt_x509_pw     REQUIRE X509 (a client certificate from the test CA)
MARIA_USER=vt_app
MARIA_PASS=vt_app_pw
MARIA_X509_USER=vt_x509
MARIA_X509_PASS=vt_x509_pw

# maria_install NAME: a fresh data directory $WORK/NAME/data and init file
# $WORK/NAME/init.sql (run by mariadbd at every start; creates the users above).
maria_install() {
    local d=$WORK/$1
    mkdir -p "$d"
    mariadb-install-db --no-defaults --datadir="$d/data" --user=root \
        --auth-root-authentication-method=normal --skip-test-db \
        >"$WORK/$1-install.log" 2>&1 || die "mariadb-install-db for $1 failed"
    cat >"$d/init.sql" <<EOF
CREATE USER IF NOT EXISTS '$MARIA_USER'@'%' IDENTIFIED BY '$MARIA_PASS';
GRANT ALL ON *.* TO '$MARIA_USER'@'%';
CREATE USER IF NOT EXISTS '$MARIA_X509_USER'@'%' IDENTIFIED BY '$MARIA_X509_PASS' REQUIRE X509;
GRANT ALL ON *.* TO '$MARIA_X509_USER'@'%';
EOF
}

# maria_start NS NAME PORT [MARIADBD_OPTION...]: start mariadbd for the data directory
# of maria_install NAME inside NS, listening on 0.0.0.0:PORT, with a socket and pid
# file of its own in $WORK/NAME; waits until it listens. Sets MARIA_PID.
maria_start() {
    local ns=$1 name=$2 port=$3 d=$WORK/$2
    shift 3
    bg "$ns" "$name" mariadbd --no-defaults --user=root --datadir="$d/data" \
        --socket="$d/mysqld.sock" --pid-file="$d/mysqld.pid" --port="$port" \
        --bind-address=0.0.0.0 --skip-name-resolve --init-file="$d/init.sql" \
        --innodb-buffer-pool-size=16M --skip-log-bin --log-error="$WORK/$name-error.log" \
        "$@"
    MARIA_PID=$BG_PID
    wait_listen "$ns" "$port" "$MARIA_PID"
}

# maria_tls_opts NAME: mariadbd options for the certificate $WORK/NAME.pem (cert_issue)
# and the test CA; result in MARIA_TLS (an array).
maria_tls_opts() {
    MARIA_TLS=(--ssl-cert="$WORK/$1.pem" --ssl-key="$WORK/$1.key" --ssl-ca="$CERT_DIR/ca.pem")
}

# maria_client NS LOGNAME HOST PORT USER PASS [MARIADB_OPTION...] -- SQL: run the mariadb
# command-line client once (10 s limit), dying with its log on failure.
maria_client() {
    local ns=$1 logname=$2 host=$3 port=$4 user=$5 pass=$6 opts=()
    shift 6
    while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
    shift
    run "$ns" "$logname" 10 mariadb --no-defaults --protocol=TCP -h "$host" -P "$port" \
        -u "$user" -p"$pass" "${opts[@]}" -e "$1" ||
        die "mariadb client $logname failed: $(tail -5 "$WORK/$logname.log")"
}

# ---------------------------------------------------------------- gRPC (python3-grpcio)

# GRPC_ENV: extra environment (VAR=VALUE words) for the gRPC server and client, e.g.
# OPENSSL_CONF=FILE (grpcio in Debian links the system OpenSSL 3).
GRPC_ENV=()

# grpc_server NS NAME PORT [grpc_vitess.py serve OPTION...]: start the generic Vitess
# gRPC server of gen/grpc_vitess.py; waits until it listens. Sets GRPC_PID.
grpc_server() {
    local ns=$1 name=$2 port=$3
    shift 3
    bg "$ns" "$name" env "${GRPC_ENV[@]}" "$PY" -u "$GEN_DIR/grpc_vitess.py" serve \
        --port "$port" "$@"
    GRPC_PID=$BG_PID
    wait_listen "$ns" "$port" "$GRPC_PID"
}

# grpc_call NS LOGNAME TARGET [grpc_vitess.py call OPTION...]: run the client once
# (20 s limit), dying with its log on failure.
grpc_call() {
    local ns=$1 logname=$2 target=$3
    shift 3
    run "$ns" "$logname" 20 env "${GRPC_ENV[@]}" "$PY" -u "$GEN_DIR/grpc_vitess.py" call \
        --target "$target" "$@" ||
        die "gRPC client $logname failed: $(tail -5 "$WORK/$logname.log")"
}

# ---------------------------------------------------------------- switch topology

# switch_create: namespace "sw" with bridge br0 (no STP: ports forward at once);
# capture everything with `cap_start sw br0`.
switch_create() {
    ns_create sw
    ip -n "$(nsname sw)" link add br0 type bridge stp_state 0 forward_delay 0 ||
        die "cannot create bridge"
    offload_off sw br0
    ip -n "$(nsname sw)" link set br0 up
}

# switch_host NAME CIDR: namespace NAME with eth0 at CIDR, plugged into br0 of "sw"
# (switch side device "p-NAME", at most 15 characters in all).
switch_host() {
    local port=p-$1
    ns_create "$1"
    veth_pair "$1" eth0 sw "${port:0:15}"
    ip -n "$(nsname sw)" link set "${port:0:15}" master br0 || die "bridge port for $1"
    addr "$1" eth0 "$2"
}

# ---------------------------------------------------------------- expected files

# expect_end_apps: expect_end, then nest the application keys that expected.py leaves
# flat ("mysql.user" -> {"mysql": {"user": ...}}, same for grpc., http., etcd., zk.); a key
# whose last part is "paths" or "users" is a comma-separated list.
expect_end_apps() {
    expect_end
    "$PY" - "$EXPECTED_DIR/$EXP_NAME.json" <<'PYEOF' || die "cannot nest $EXP_NAME.json"
import json, sys
path = sys.argv[1]
with open(path, encoding="utf-8") as f:
    doc = json.load(f)
for i, flow in enumerate(doc["flows"]):
    out = {}
    for key, value in flow.items():
        head, dot, tail = key.partition(".")
        if dot and head in ("mysql", "grpc", "http", "etcd", "zk"):
            if tail in ("paths", "users"):
                value = [v for v in str(value).split(",") if v] if value is not None else []
            out.setdefault(head, {})[tail] = value
        else:
            out[key] = value
    doc["flows"][i] = out
with open(path, "w", encoding="utf-8") as f:
    json.dump(doc, f, indent=2)
    f.write("\n")
PYEOF
}

# ---------------------------------------------------------------- capture

# cap_begin NS DEV [FILTER...]: cap_start, after emptying the previous tcpdump log, so
# a second capture in the same script does not return early on the first capture's
# "listening on" line (a race in cap_start when it is called twice).
cap_begin() {
    : >"$WORK/tcpdump.log"
    cap_start "$@"
}

# ---------------------------------------------------------------- certificates

# cert_issue_san NAME CN EKU SAN: key + certificate $WORK/NAME.{key,pem} from the test CA
# with a free-form subjectAltName (e.g. "DNS:etcd-1.demo.test,IP:10.99.60.1") and
# extendedKeyUsage EKU (e.g. "serverAuth,clientAuth", as etcd peers need: each member is
# client and server with one certificate); RSA 2048, SHA-256, valid 365 days from now.
# (lib.sh's cert_issue covers DNS names and one usage only.) Sets CERT_NOT_AFTER (ISO).
cert_issue_san() {
    local name=$1 cn=$2 eku=$3 san=$4 key=$WORK/$1.key
    ca_ensure
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$key" 2>/dev/null ||
        die "key generation for $name failed"
    printf '%s\n' "basicConstraints=critical,CA:FALSE" \
        "keyUsage=critical,digitalSignature,keyEncipherment" \
        "extendedKeyUsage=$eku" "subjectAltName=$san" >"$WORK/$name.ext"
    openssl req -new -key "$key" -subj "/O=vtls-sensor tests/CN=$cn" -out "$WORK/$name.csr" \
        2>"$WORK/$name-req.log" || die "csr for $name failed"
    openssl x509 -req -in "$WORK/$name.csr" -CA "$CERT_DIR/ca.pem" -CAkey "$CERT_DIR/ca.key" \
        -set_serial "0x$(openssl rand -hex 8)" -days 365 -sha256 -extfile "$WORK/$name.ext" \
        -out "$WORK/$name.pem" 2>"$WORK/$name-x509.log" || die "signing $name failed"
    CERT_NOT_AFTER=$(date -u -d "$(openssl x509 -noout -enddate -in "$WORK/$name.pem" |
        cut -d= -f2)" +%Y-%m-%dT%H:%M:%SZ)
}

# ---------------------------------------------------------------- etcd 3.4

ETCD_CLIENT_PORT=2379
ETCD_PEER_PORT=2380

# etcd_member NS NAME ADDR CLUSTER [ETCD_OPTION...]: start etcd member NAME in NS with
# its data in $WORK/NAME.etcd, client URL http://ADDR:2379 and peer URL
# PEER_SCHEME://ADDR:2380 (PEER_SCHEME http unless set to https), initial cluster
# CLUSTER ("n1=http://a:2380,n2=..."). Client URLs switch to https when CLIENT_SCHEME is
# https. Extra options (TLS files) follow. Does not wait (start all members, then
# wait_listen NS 2379 for each: a member dials its peers as soon as it starts).
# Sets ETCD_PID.
etcd_member() {
    local ns=$1 name=$2 a=$3 cluster=$4 cs=${CLIENT_SCHEME:-http} ps=${PEER_SCHEME:-http}
    shift 4
    bg "$ns" "$name" etcd --name "$name" --data-dir "$WORK/$name.etcd" \
        --listen-client-urls "$cs://$a:$ETCD_CLIENT_PORT" \
        --advertise-client-urls "$cs://$a:$ETCD_CLIENT_PORT" \
        --listen-peer-urls "$ps://$a:$ETCD_PEER_PORT" \
        --initial-advertise-peer-urls "$ps://$a:$ETCD_PEER_PORT" \
        --initial-cluster "$cluster" --initial-cluster-state new \
        --initial-cluster-token vtls-demo "$@"
    ETCD_PID=$BG_PID
}

# etcdctl_run NS LOGNAME ENDPOINT ARG...: one etcdctl (API v3) command, 15 s limit,
# dying with its log on failure.
etcdctl_run() {
    local ns=$1 logname=$2 ep=$3
    shift 3
    run "$ns" "$logname" 15 env ETCDCTL_API=3 etcdctl --endpoints="$ep" \
        --dial-timeout=5s --command-timeout=8s "$@" ||
        die "etcdctl $logname failed: $(tail -5 "$WORK/$logname.log")"
}

# conv_flows PCAP PORT: "client cport server end bytes" lines, one per TCP connection to
# PORT in PCAP (client = sender of the SYN; end fin, rst or null; bytes = TCP payload
# bytes both ways, 0 for a refused connection), in the order the connections appear,
# read with tshark. Used for
# connections a server makes by itself (etcd peers), whose number the script does not
# choose.
conv_flows() {
    tshark -r "$1" -Y "tcp.port==$2" -T fields -e tcp.stream -e ip.src -e tcp.srcport \
        -e ip.dst -e tcp.dstport -e tcp.flags -e tcp.len 2>/dev/null | awk '
        { s = $1; f = strtonum($6); len[s] += $7
          if (!(s in cli) && and(f, 2) && !and(f, 16)) { cli[s] = $2 " " $3 " " $4 }
          if (and(f, 4)) rst[s] = 1
          if (and(f, 1)) fin[s] = 1
          seen[s] = 1 }
        END { for (s in seen) if (s in cli) {
                e = (s in rst) ? "rst" : ((s in fin) ? "fin" : "null")
                print s, cli[s], e, len[s] + 0 } }' | sort -n | cut -d' ' -f2-
}
