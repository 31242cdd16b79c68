#!/bin/bash
# Live capture end to end, in two network namespaces this script creates:
# vtls-sensor captures on one end of a veth pair (BPF filter on), a real
# TLS exchange (openssl s_server / s_client) and a plaintext MySQL-like
# probe cross it, SIGINT stops the sensor, which must exit 0, print the
# capture statistics (received, dropped by kernel and by interface) and
# write the flow records with the right client, server and encryption; the
# flows end on their idle timeouts while the link is silent, before SIGINT.
# Everything started is stopped by PID; the namespaces are deleted on exit.
# Needs root; exits 77 (skipped) otherwise.
set -u
[ $# -eq 1 ] || { echo "usage: $0 SENSOR" >&2; exit 2; }
sensor=$1
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root for network namespaces"; exit 77; }
command -v ip >/dev/null && command -v openssl >/dev/null ||
    { echo "SKIP: needs iproute2 and openssl"; exit 77; }

tag=vtl$$
ns_c=$tag-c ns_s=$tag-s
tmp=$(mktemp -d /tmp/vtls-live-XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    ip netns del "$ns_c" 2>/dev/null
    ip netns del "$ns_s" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

ip netns add "$ns_c" && ip netns add "$ns_s" || fail "cannot create namespaces"
ip link add "$tag-a" netns "$ns_c" type veth peer name "$tag-b" netns "$ns_s" ||
    fail "cannot create veth pair"
ip -n "$ns_c" addr add 10.98.0.1/24 dev "$tag-a"
ip -n "$ns_s" addr add 10.98.0.2/24 dev "$tag-b"
ip -n "$ns_c" link set "$tag-a" up
ip -n "$ns_s" link set "$tag-b" up
ip -n "$ns_c" link set lo up
ip -n "$ns_s" link set lo up

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/key.pem" -out "$tmp/cert.pem" \
    -subj /CN=live.test -days 30 2>/dev/null || fail "openssl req"

# The sensor on the server's end of the link.
ip netns exec "$ns_s" "$sensor" -i "$tag-b" -f "tcp port 4433 or tcp port 3306" \
    --flows "$tmp/flows.json" --alerts "$tmp/alerts.json" --no-summary \
    --timeout-closed 1 --timeout-established 1 --timeout-handshake 1 2>"$tmp/sensor.err" &
spid=$!
pids+=("$spid")
for _ in $(seq 50); do grep -q . "$tmp/sensor.err" 2>/dev/null && break; sleep 0.1; done
sleep 1
kill -0 "$spid" 2>/dev/null || fail "sensor died: $(cat "$tmp/sensor.err")"

ip netns exec "$ns_s" openssl s_server -accept 4433 -cert "$tmp/cert.pem" -key "$tmp/key.pem" \
    -tls1_3 -quiet </dev/null >/dev/null 2>&1 &
pids+=("$!")
sleep 0.5
echo hello | ip netns exec "$ns_c" timeout 5 openssl s_client -connect 10.98.0.2:4433 \
    -servername live.test -tls1_3 -quiet >/dev/null 2>&1
# A plaintext exchange on the MySQL port: a listener that answers a greeting-less banner.
ip netns exec "$ns_s" /usr/bin/python3 -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.98.0.2", 3306)); s.listen(1); c, _ = s.accept()
c.sendall(b"not mysql, just text\r\n"); c.recv(100); c.close()' &
pids+=("$!")
sleep 0.5
printf 'plain text request\r\n' | ip netns exec "$ns_c" timeout 5 /usr/bin/python3 -c '
import socket, sys
c = socket.create_connection(("10.98.0.2", 3306)); c.recv(100)
c.sendall(sys.stdin.buffer.read()); c.close()'
# The link is silent now: the flows must end on their idle timeouts (packet
# time follows the clock) while the sensor still runs.
for _ in $(seq 50); do [ "$(wc -l <"$tmp/flows.json" 2>/dev/null)" = 2 ] && break; sleep 0.1; done
[ "$(wc -l <"$tmp/flows.json" 2>/dev/null)" = 2 ] ||
    fail "flows did not end on a silent link: $(cat "$tmp/flows.json" 2>/dev/null)"

kill -INT "$spid"
wait "$spid"
rc=$?
pids=("${pids[@]:1}")
[ "$rc" = 0 ] || fail "sensor exit status $rc: $(cat "$tmp/sensor.err")"
grep -Eq "capture on $tag-b: [0-9]+ received by filter, [0-9]+ dropped by kernel, [0-9]+ dropped by interface" \
    "$tmp/sensor.err" || fail "no capture statistics: $(cat "$tmp/sensor.err")"

/usr/bin/python3 - "$tmp/flows.json" <<'EOF' || exit 1
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
tls = [r for r in recs if r["dest_port"] == 4433]
plain = [r for r in recs if r["dest_port"] == 3306]
ok = (len(tls) == 1 and tls[0]["src_ip"] == "10.98.0.1" and tls[0]["encryption"] == "tls"
      and tls[0]["tls"]["version"] == "TLS 1.3" and tls[0]["tls"]["sni"] == "live.test"
      and len(plain) == 1 and plain[0]["src_ip"] == "10.98.0.1"
      and plain[0]["encryption"] == "plaintext" and not tls[0]["flow"]["midstream"])
print("flows:", [(r["src_ip"], r["dest_port"], r["app_proto"], r["encryption"]) for r in recs])
sys.exit(0 if ok else 1)
EOF
echo "PASS: live capture, SIGINT, statistics and flow records"
