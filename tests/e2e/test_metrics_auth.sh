#!/bin/bash
# End-to-end: the metrics endpoint under a web config with TLS, a required and
# verified client certificate and basic auth, tried with curl.
#
#   test_metrics_auth.sh 'TARGET COMMAND'
#
# In the command, {port} becomes a free loopback port and {web_config} the
# path of the web config this script writes, e.g.
#   test_metrics_auth.sh 'build/metrics_demo 127.0.0.1:{port} 60 {web_config}'
#   test_metrics_auth.sh 'build/vtls-sensor -r pcaps/demo-cluster.pcap
#       --metrics-listen 127.0.0.1:{port} --metrics-linger 60 --web-config {web_config}'
# Right certificate and password: 200 and vtls_ metrics. Wrong password, no
# password: 401 with WWW-Authenticate. No client certificate, or one from
# another CA: the TLS handshake fails. TLS 1.2 (below min_version): fails.
set -u
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
[ $# -eq 1 ] || { echo "usage: $0 'TARGET COMMAND'" >&2; exit 2; }

tmp=$(mktemp -d /tmp/vtls-e2e-auth-XXXXXX)
pid=
cleanup() {
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill "$pid"
        wait "$pid" 2>/dev/null
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

"$src/tests/unit/data/webtls/make_certs.sh" "$tmp" || exit 1
hash=$(/usr/bin/python3 -W ignore -c \
    'import crypt; print(crypt.crypt("s3cret", crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1024)))')
cat > "$tmp/web.yml" <<EOF
tls_server_config:
  cert_file: server.crt
  key_file: server.key
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: ca.crt
  min_version: TLS13
basic_auth_users:
  prometheus: '$hash'
EOF

port=$(/usr/bin/python3 -c \
    'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cmd=${1//\{port\}/$port}
cmd=${cmd//\{web_config\}/$tmp/web.yml}
$cmd > "$tmp/target.log" 2>&1 &
pid=$!

url="https://127.0.0.1:$port/metrics"
good=(--cacert "$tmp/ca.crt" --cert "$tmp/client.crt" --key "$tmp/client.key")
for _ in $(seq 100); do
    curl -s -o /dev/null "${good[@]}" -u prometheus:s3cret "$url" && break
    sleep 0.1
done

fails=0
# expect NAME WANT_CODE curl-args...: WANT_CODE 000 means no HTTP response.
expect() {
    local name=$1 want=$2 code
    shift 2
    code=$(curl -s -o "$tmp/body" -D "$tmp/headers" -w '%{http_code}' --max-time 10 "$@" "$url")
    if [ "$code" != "$want" ]; then
        echo "FAIL: $name: HTTP $code, want $want"
        fails=$((fails + 1))
        return 1
    fi
    echo "ok: $name: $code"
}

expect "right certificate and password" 200 "${good[@]}" -u prometheus:s3cret &&
    { grep -q '^vtls_build_info{' "$tmp/body" ||
        { echo "FAIL: no vtls_build_info"; fails=$((fails + 1)); }; }
expect "wrong password" 401 "${good[@]}" -u prometheus:wrong &&
    { grep -qi '^WWW-Authenticate: Basic realm=' "$tmp/headers" ||
        { echo "FAIL: no WWW-Authenticate"; fails=$((fails + 1)); }; }
expect "unknown user" 401 "${good[@]}" -u someone:s3cret
expect "no credentials" 401 "${good[@]}"
expect "no client certificate" 000 --cacert "$tmp/ca.crt" -u prometheus:s3cret
expect "certificate from another CA" 000 --cacert "$tmp/ca.crt" --cert "$tmp/rogue.crt" \
    --key "$tmp/rogue.key" -u prometheus:s3cret
expect "TLS 1.2 below min_version" 000 "${good[@]}" --tls-max 1.2 -u prometheus:s3cret

if [ "$fails" -ne 0 ]; then
    echo "target log:"; cat "$tmp/target.log"
    echo "FAIL: $fails case(s)"
    exit 1
fi
echo PASS
