# shellcheck shell=bash
# Shared helpers for the capture scripts in pcaps/gen/. Source it, do not run it:
#
#   . "$(dirname "$0")/lib.sh"
#
# What it gives a script:
#   - network namespaces joined by veth pairs (offloads off, IPv6 off unless asked),
#   - tcpdump started inside a namespace and stopped so the tail is kept,
#   - servers and clients started inside namespaces with their PIDs remembered,
#   - certificates from the committed test CA (or from a throw-away CA),
#   - writers for pcaps/expected/NAME.json,
#   - cleanup on EXIT (also on failure or Ctrl-C): every started process is stopped by
#     PID, every namespace deleted, the temp dir removed.
# Needs root, iproute2, ethtool, tcpdump, openssl, /usr/bin/python3.

set -euo pipefail

GEN_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PCAP_DIR=$(dirname "$GEN_DIR")
CERT_DIR=$PCAP_DIR/certs
EXPECTED_DIR=$PCAP_DIR/expected
SCRIPT_NAME=gen/$(basename "$0")
PY=/usr/bin/python3

# Namespaces are named "vt<pid>-<name>" so parallel runs never collide.
NS_PREFIX=vt$$
WORK=$(mktemp -d /tmp/vtls-pcap.XXXXXX)
chmod 755 "$WORK"
LIB_PIDS=()
LIB_NETNS=()
CAP_PID=""
CAP_FILE=""
CAP_OPTS=()

log() { printf '%s: %s\n' "$SCRIPT_NAME" "$*" >&2; }
die() {
    printf '%s: ERROR: %s\n' "$SCRIPT_NAME" "$*" >&2
    exit 1
}

[ "$(id -u)" = 0 ] || die "must run as root (network namespaces, tcpdump)"
for tool in ip ethtool tcpdump openssl ss; do
    command -v "$tool" >/dev/null || die "missing tool: $tool"
done

# forget PID: drop a reaped PID from the cleanup list (it may be reused later).
forget() {
    local keep=() p
    for p in "${LIB_PIDS[@]}"; do
        [ "$p" = "$1" ] || keep+=("$p")
    done
    LIB_PIDS=("${keep[@]}")
}

# stop_pid PID: SIGTERM, wait up to 2 s, then SIGKILL; always reaps it.
stop_pid() {
    local pid=$1 i
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 20); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    forget "$pid"
}

lib_cleanup() {
    local rc=$? i ns
    trap - EXIT INT TERM
    set +e
    if [ -n "$CAP_PID" ]; then
        kill -INT "$CAP_PID" 2>/dev/null
        wait "$CAP_PID" 2>/dev/null
    fi
    local pids=("${LIB_PIDS[@]}")
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
        stop_pid "${pids[$i]}"
    done
    for ns in "${LIB_NETNS[@]}"; do
        ip netns del "$ns" 2>/dev/null
    done
    if [ "$rc" != 0 ]; then
        printf '%s: FAILED (exit %s); logs were in %s:\n' "$SCRIPT_NAME" "$rc" "$WORK" >&2
        for f in "$WORK"/*.log; do
            [ -s "$f" ] || continue
            printf -- '--- %s\n' "$(basename "$f")" >&2
            tail -n 15 "$f" >&2
        done
    fi
    rm -rf "$WORK"
    exit "$rc"
}
trap lib_cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- namespaces

# nsname NAME: full namespace name for the short name NAME.
nsname() { printf '%s-%s' "$NS_PREFIX" "$1"; }

# nsx NAME CMD...: run CMD inside namespace NAME (foreground).
nsx() {
    local ns
    ns=$(nsname "$1")
    shift
    ip netns exec "$ns" "$@"
}

# ns_create NAME...: new namespaces with lo up and IPv6 disabled (no ND/MLD noise).
ns_create() {
    local n ns
    for n in "$@"; do
        ns=$(nsname "$n")
        ip netns add "$ns" || die "cannot create namespace $ns"
        LIB_NETNS+=("$ns")
        ip -n "$ns" link set lo up
        nsx "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
        nsx "$n" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
    done
}

# ipv6_on NS DEV: enable IPv6 on one device only (other devices stay quiet).
ipv6_on() {
    nsx "$1" sysctl -qw "net.ipv6.conf.$2.accept_ra=0"
    nsx "$1" sysctl -qw "net.ipv6.conf.$2.router_solicitations=0"
    nsx "$1" sysctl -qw "net.ipv6.conf.$2.disable_ipv6=0"
}

# offload_off NS DEV: no TSO/GSO/GRO/checksum offload, so frames on the wire are
# what a real NIC would send (otherwise tcpdump sees 64 KB "segments").
offload_off() {
    nsx "$1" ethtool -K "$2" tx off tso off gso off gro off >/dev/null 2>&1 ||
        die "ethtool -K $2 failed in $1"
}

# veth_pair NS_A DEV_A NS_B DEV_B: a veth pair between two namespaces, up, offloads off.
veth_pair() {
    ip -n "$(nsname "$1")" link add "$2" type veth peer name "$4" netns "$(nsname "$3")" ||
        die "cannot create veth $2/$4"
    offload_off "$1" "$2"
    offload_off "$3" "$4"
    ip -n "$(nsname "$1")" link set "$2" up
    ip -n "$(nsname "$3")" link set "$4" up
}

# addr NS DEV CIDR: add an address (IPv6 ones with nodad so they work at once).
addr() {
    if [[ $3 == *:* ]]; then
        ipv6_on "$1" "$2"
        ip -n "$(nsname "$1")" addr add "$3" dev "$2" nodad || die "addr $3 on $2"
    else
        ip -n "$(nsname "$1")" addr add "$3" dev "$2" || die "addr $3 on $2"
    fi
}

# two_hosts [MTU]: the common topology: namespaces "c" (client, 10.99.0.1, fd00:99::1)
# and "s" (server, 10.99.0.2, fd00:99::2) joined by c0 <-> s0. IPv6 only with IPV6=1.
two_hosts() {
    ns_create c s
    veth_pair c c0 s s0
    if [ -n "${1:-}" ]; then
        ip -n "$(nsname c)" link set c0 mtu "$1"
        ip -n "$(nsname s)" link set s0 mtu "$1"
    fi
    addr c c0 10.99.0.1/24
    addr s s0 10.99.0.2/24
    if [ "${IPV6:-0}" = 1 ]; then
        addr c c0 fd00:99::1/64
        addr s s0 fd00:99::2/64
    fi
}

# ---------------------------------------------------------------- processes

# bg NS LOGNAME CMD...: start CMD in the background inside NS; sets BG_PID.
# `ip netns exec` execs the command itself, so $! is the command's own PID.
bg() {
    local ns
    ns=$(nsname "$1")
    ip netns exec "$ns" "${@:3}" </dev/null >"$WORK/$2.log" 2>&1 &
    BG_PID=$!
    LIB_PIDS+=("$BG_PID")
}

# bg_stdin NS LOGNAME INFILE CMD...: like bg, with stdin from INFILE (e.g. a FIFO).
bg_stdin() {
    local ns
    ns=$(nsname "$1")
    ip netns exec "$ns" "${@:4}" <"$3" >"$WORK/$2.log" 2>&1 &
    BG_PID=$!
    LIB_PIDS+=("$BG_PID")
}

# stop PID: stop one process started with bg (SIGTERM, then SIGKILL).
stop() { stop_pid "$1"; }

# wait_exit PID SECONDS: wait for a background process to end by itself.
wait_exit() {
    local pid=$1 i
    for i in $(seq $(($2 * 10))); do
        kill -0 "$pid" 2>/dev/null || {
            wait "$pid" 2>/dev/null || true
            forget "$pid"
            return 0
        }
        sleep 0.1
    done
    die "process $pid still running after $2 s"
}

# wait_listen NS PORT [PID] [PROTO]: poll ss in NS until something listens on PORT
# (TCP, or UDP with PROTO=u), at most 10 s; fails early if PID died.
wait_listen() {
    local i flag=-Hltn
    [ "${4:-t}" = u ] && flag=-Hlun
    for i in $(seq 100); do
        if [ -n "$(nsx "$1" ss $flag "sport = :$2")" ]; then
            return 0
        fi
        if [ -n "${3:-}" ] && ! kill -0 "$3" 2>/dev/null; then
            die "server (pid $3) in $1 exited before listening on port $2"
        fi
        sleep 0.1
    done
    die "nothing listens on port $2 in namespace $1 after 10 s"
}

# run NS LOGNAME TIMEOUT CMD...: run a client in the foreground with a time limit;
# its output goes to $WORK/LOGNAME.log. Returns the client's exit status.
run() {
    local ns
    ns=$(nsname "$1")
    timeout "$3" ip netns exec "$ns" "${@:4}" >"$WORK/$2.log" 2>&1
}

# ---------------------------------------------------------------- capture

# cap_start NS DEV [FILTER...]: start tcpdump on DEV in NS, writing $WORK/cap.pcap
# (extra tcpdump options, e.g. -y LINUX_SLL2, in the array CAP_OPTS).
# --immediate-mode and -U so packets are written as they arrive; waits until tcpdump
# reports that it listens.
cap_start() {
    local ns
    ns=$(nsname "$1")
    CAP_FILE=$WORK/cap.pcap
    rm -f "$CAP_FILE"
    ip netns exec "$ns" tcpdump -i "$2" -n -s 0 --immediate-mode -U -Z root \
        "${CAP_OPTS[@]}" -w "$CAP_FILE" "${@:3}" </dev/null >"$WORK/tcpdump.log" 2>&1 &
    CAP_PID=$!
    local i
    for i in $(seq 100); do
        grep -qs 'listening on' "$WORK/tcpdump.log" && return 0
        kill -0 "$CAP_PID" 2>/dev/null || die "tcpdump failed: $(cat "$WORK/tcpdump.log")"
        sleep 0.05
    done
    die "tcpdump did not start on $2 in $1"
}

# cap_stop NAME: let the last packets arrive, stop tcpdump, check it dropped nothing,
# and install the capture as pcaps/NAME.pcap.
cap_stop() {
    sleep 0.3
    kill -INT "$CAP_PID"
    wait "$CAP_PID" || true
    CAP_PID=""
    grep -q '^0 packets dropped by kernel' "$WORK/tcpdump.log" ||
        die "tcpdump dropped packets: $(cat "$WORK/tcpdump.log")"
    grep -q '^0 packets captured' "$WORK/tcpdump.log" && die "capture $1 is empty"
    install -m 644 "$CAP_FILE" "$PCAP_DIR/$1.pcap"
    log "wrote pcaps/$1.pcap ($(stat -c %s "$PCAP_DIR/$1.pcap") bytes)"
}

# ---------------------------------------------------------------- certificates

# Time stamps: cert_time OFFSET_DAYS -> sets CT_ASN1 (YYYYMMDDHHMMSSZ, for openssl ca)
# and CT_ISO (YYYY-MM-DDTHH:MM:SSZ, for expected files) for now + OFFSET_DAYS (whole
# seconds, same instant for both forms).
NOW_EPOCH=$(date -u +%s)
cert_time() {
    local t=$((NOW_EPOCH + $1 * 86400))
    CT_ASN1=$(date -u -d "@$t" +%Y%m%d%H%M%SZ)
    CT_ISO=$(date -u -d "@$t" +%Y-%m-%dT%H:%M:%SZ)
}

# The committed test CA: pcaps/certs/ca.pem (tests use it as --ca-bundle) and its
# key pcaps/certs/ca.key (TEST ONLY, committed so any single script can be re-run
# and stay consistent with the other captures). Created once if missing.
TEST_CA_CN="vtls Test CA"
ca_ensure() {
    mkdir -p "$CERT_DIR"
    [ -s "$CERT_DIR/ca.pem" ] && [ -s "$CERT_DIR/ca.key" ] && return 0
    log "creating test CA in pcaps/certs/"
    openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 \
        -subj "/O=vtls-sensor tests/CN=$TEST_CA_CN" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -keyout "$CERT_DIR/ca.key" -out "$CERT_DIR/ca.pem" 2>"$WORK/ca.log" ||
        die "cannot create test CA"
}

# ca_new DIR CN: a throw-away CA (e.g. the "unknown CA") in $WORK/DIR.
ca_new() {
    mkdir -p "$WORK/$1"
    openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 \
        -subj "/O=vtls-sensor tests/CN=$2" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -keyout "$WORK/$1/ca.key" -out "$WORK/$1/ca.pem" 2>"$WORK/ca-$1.log" ||
        die "cannot create CA $2"
}

# cert_issue NAME CN [options]: key + certificate in $WORK/NAME.key, $WORK/NAME.pem.
# Options:
#   --bits N          RSA key size (default 2048)
#   --ec CURVE        EC key on CURVE (e.g. prime256v1) instead of RSA
#   --digest D        signature digest (default sha256; sha1 for weak signatures)
#   --start OFFSET    notBefore = now + OFFSET days (default -1)
#   --end OFFSET      notAfter  = now + OFFSET days (default 364: 365 days validity)
#   --ca DIR          issuing CA: "test" (default, pcaps/certs) or a ca_new DIR
#   --self            self-signed (no CA)
#   --san NAMES       subjectAltName DNS names, comma separated (default: CN)
#   --client          extendedKeyUsage clientAuth instead of serverAuth
# After the call CERT_NOT_AFTER holds notAfter in ISO form (for expected files).
cert_issue() {
    local name=$1 cn=$2 bits=2048 ec="" digest=sha256 start=-1 end=364 ca=test
    local self=0 san=$2 eku=serverAuth
    shift 2
    while [ $# -gt 0 ]; do
        case $1 in
            --bits) bits=$2; shift 2 ;;
            --ec) ec=$2; shift 2 ;;
            --digest) digest=$2; shift 2 ;;
            --start) start=$2; shift 2 ;;
            --end) end=$2; shift 2 ;;
            --ca) ca=$2; shift 2 ;;
            --self) self=1; shift ;;
            --san) san=$2; shift 2 ;;
            --client) eku=clientAuth; shift ;;
            *) die "cert_issue: unknown option $1" ;;
        esac
    done
    local key=$WORK/$name.key csr=$WORK/$name.csr ext=$WORK/$name.ext
    if [ -n "$ec" ]; then
        openssl genpkey -algorithm EC -pkeyopt "ec_paramgen_curve:$ec" -out "$key" 2>/dev/null
    else
        openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:$bits" -out "$key" 2>/dev/null
    fi || die "key generation for $name failed"
    {
        echo "basicConstraints=critical,CA:FALSE"
        if [ -n "$ec" ]; then
            echo "keyUsage=critical,digitalSignature"
        else
            echo "keyUsage=critical,digitalSignature,keyEncipherment"
        fi
        echo "extendedKeyUsage=$eku"
        echo "subjectAltName=DNS:${san//,/,DNS:}"
    } >"$ext"
    openssl req -new -key "$key" -subj "/O=vtls-sensor tests/CN=$cn" -out "$csr" \
        2>"$WORK/$name-req.log" || die "csr for $name failed"
    local cadir cacert cakey
    if [ "$self" = 1 ]; then
        cacert=""
        cakey=$key
    elif [ "$ca" = test ]; then
        ca_ensure
        cacert=$CERT_DIR/ca.pem
        cakey=$CERT_DIR/ca.key
    else
        cacert=$WORK/$ca/ca.pem
        cakey=$WORK/$ca/ca.key
    fi
    # `openssl ca` is the OpenSSL 3.0 way to set exact notBefore/notAfter dates
    # (x509 -not_before/-not_after only exist from 3.4 on).
    cadir=$WORK/ca-db-$name
    mkdir -p "$cadir"
    : >"$cadir/index.txt"
    printf '%s\n' "$(openssl rand -hex 8)" >"$cadir/serial"
    cat >"$cadir/ca.cnf" <<EOF
[ ca ]
default_ca = tca
[ tca ]
database = $cadir/index.txt
serial = $cadir/serial
new_certs_dir = $cadir
default_md = $digest
policy = pol
unique_subject = no
copy_extensions = none
[ pol ]
organizationName = optional
commonName = supplied
EOF
    cert_time "$start"
    local sd=$CT_ASN1
    cert_time "$end"
    local ed=$CT_ASN1
    CERT_NOT_AFTER=$CT_ISO
    local signer=(-cert "$cacert" -keyfile "$cakey")
    [ "$self" = 1 ] && signer=(-selfsign -keyfile "$key")
    openssl ca -batch -config "$cadir/ca.cnf" "${signer[@]}" -md "$digest" \
        -startdate "$sd" -enddate "$ed" -extfile "$ext" -notext \
        -in "$csr" -out "$WORK/$name.pem" >"$WORK/$name-ca.log" 2>&1 ||
        die "signing $name failed: $(cat "$WORK/$name-ca.log")"
}

# ---------------------------------------------------------------- expected files

# expect_begin NAME DESCRIPTION [FILE]: start pcaps/expected/NAME.json for pcaps/FILE
# (default NAME.pcap).
# expect_flow KEY=VALUE...: add one flow (see gen/expected.py for keys and defaults).
# expect_end: write the file.
expect_begin() {
    EXP_NAME=$1
    EXP_ARGS=("capture=${3:-$1.pcap}" "script=$SCRIPT_NAME" "description=$2")
}
expect_flow() { EXP_ARGS+=(-- "$@"); }
expect_end() {
    mkdir -p "$EXPECTED_DIR"
    "$PY" "$GEN_DIR/expected.py" "$EXPECTED_DIR/$EXP_NAME.json" "${EXP_ARGS[@]}" ||
        die "cannot write expected/$EXP_NAME.json"
}

# ---------------------------------------------------------------- TLS with OpenSSL

SNI=server.test
PORT=4433

# tls_server NS NAME [OPTS...]: `openssl s_server -rev` (answers each line reversed) on
# $PORT, certificate $WORK/server.pem unless OPTS give -cert; serves NACCEPT (default 1)
# connections and exits. Sets SRV_PID; returns once the port listens.
tls_server() {
    local ns=$1 name=$2
    shift 2
    local cert=(-cert "$WORK/server.pem" -key "$WORK/server.key")
    [[ " $* " == *" -cert "* || " $* " == *" -nocert "* ]] && cert=()
    bg "$ns" "$name-server" openssl s_server -accept "$PORT" -naccept "${NACCEPT:-1}" -rev \
        "${cert[@]}" "$@"
    SRV_PID=$BG_PID
    wait_listen "$ns" "$PORT" "$SRV_PID"
}

# tls_client NS NAME CONNECT [OPTS...]: `openssl s_client` to CONNECT that sends one
# line, waits HOLD seconds (default 0.5) and closes (close_notify, FIN). Output in
# $WORK/NAME-client.log; returns s_client's status.
tls_client() {
    local ns=$1 name=$2 connect=$3
    shift 3
    { printf 'hello vtls\n'; sleep "${HOLD:-0.5}"; } |
        run "$ns" "$name-client" 15 openssl s_client -connect "$connect" "$@"
}

# tls_session NAME CONNECT [SERVER_OPTS...] -- [CLIENT_OPTS...]: one complete exchange
# between namespaces s and c that must succeed (reply received, server exited).
tls_session() {
    local name=$1 connect=$2 sopts=()
    shift 2
    while [ $# -gt 0 ] && [ "$1" != -- ]; do sopts+=("$1"); shift; done
    [ $# -gt 0 ] && shift
    tls_server s "$name" "${sopts[@]}"
    tls_client c "$name" "$connect" "$@" ||
        die "$name: s_client failed: $(tail -5 "$WORK/$name-client.log")"
    grep -q 'sltv olleh' "$WORK/$name-client.log" || die "$name: no reply from server"
    wait_exit "$SRV_PID" 5
}
