#!/bin/bash
# One TLS 1.2 exchange (as tls12-basic) per link type or IP-layer variant:
#   link-sll.pcap         tcpdump -i any: Linux cooked capture v1 (LINUX_SLL)
#   link-sll2.pcap        tcpdump -i any -y LINUX_SLL2: Linux cooked capture v2
#   link-raw.pcap         captured on a TUN device (raw IPv4, no link header); the TUN
#                         pair is joined by gen/utun.py in IP-in-IP mode
#   ipv4-options-tls.pcap IPv4 options (Record Route + NOP) set by the client; the
#                         server's kernel echoes them, so every packet has IHL 7
#   ipv6-exthdr-tls.pcap  over IPv6; the client's packets carry a hop-by-hop and a
#                         destination options header before TCP
#   link-pcapng.pcapng    tls12-basic written by dumpcap in pcapng format
. "$(dirname "$0")/lib.sh"

IPV6=1 two_hosts
cert_issue server "$SNI"
CA=$CERT_DIR/ca.pem
VERIFY=(-servername "$SNI" -CAfile "$CA" -verify_return_error -verify_hostname "$SNI")
TLS12=(-tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256)

# expect12 NAME DESC CLIENT SERVER [FILE]: the tls12-basic flow between CLIENT and SERVER.
expect12() {
    expect_begin "$1" "$2" "${5:-}"
    expect_flow client="$3" server="$4" server_port=$PORT \
        "tls.version=TLS 1.2" tls.cipher=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 tls.sni=$SNI \
        tls.alpn=null cert.observable=true "cert.subject_cn=$SNI" \
        "cert.issuer_cn=$TEST_CA_CN" "cert.not_after=$CERT_NOT_AFTER" cert.key_type=RSA \
        cert.key_bits=2048 cert.sig_alg=sha256WithRSAEncryption cert.self_signed=false \
        cert.chain_valid=true cert.sni_match=true rules=
    expect_end
}

# ---- Linux cooked captures (the "any" device)
CAP_OPTS=(-y LINUX_SLL)
cap_start c any tcp port $PORT
tls_session link-sll 10.99.0.2:$PORT "${TLS12[@]}" -- "${VERIFY[@]}" -tls1_2
cap_stop link-sll
expect12 link-sll "tls12-basic captured with tcpdump -i any -y LINUX_SLL (Linux cooked \
capture v1, link type 113)" 10.99.0.1 10.99.0.2

CAP_OPTS=(-y LINUX_SLL2)
cap_start c any tcp port $PORT
tls_session link-sll2 10.99.0.2:$PORT "${TLS12[@]}" -- "${VERIFY[@]}" -tls1_2
cap_stop link-sll2
expect12 link-sll2 "tls12-basic captured with tcpdump -i any -y LINUX_SLL2 (Linux cooked \
capture v2, link type 276)" 10.99.0.1 10.99.0.2
CAP_OPTS=()

# ---- IPv4 options and IPv6 extension headers, set by the client on its socket
cap_start c c0 tcp port $PORT
tls_server s ipv4-options "${TLS12[@]}"
# Record Route with one empty slot (7, len 7, ptr 4, 4 zero bytes) and a NOP: 8 bytes.
run c ipv4-options 15 "$PY" "$GEN_DIR/pyclient.py" 10.99.0.2 $PORT --sni "$SNI" \
    --cafile "$CA" --tls12 --ip-options 0707040000000001 ||
    die "ipv4-options client failed: $(cat "$WORK/ipv4-options.log")"
wait_exit "$SRV_PID" 5
cap_stop ipv4-options-tls
expect12 ipv4-options-tls "tls12-basic from Python's ssl client whose packets carry \
IPv4 options (Record Route, NOP: IHL 7); Linux echoes the Record Route option on the \
server's packets too" 10.99.0.1 10.99.0.2

# No "tcp port" filter here: libpcap's tcp/port primitives do not walk IPv6 extension
# headers, so they would drop every client packet.
cap_start c c0 ip6
tls_server s ipv6-exthdr -6 "${TLS12[@]}"
# Hop-by-hop and destination options headers, 8 bytes each: next header and length
# (filled in by the kernel), PadN with 4 zero bytes.
run c ipv6-exthdr 15 "$PY" "$GEN_DIR/pyclient.py" fd00:99::2 $PORT --sni "$SNI" \
    --cafile "$CA" --tls12 --hopopts 0000010400000000 --dstopts 0000010400000000 ||
    die "ipv6-exthdr client failed: $(cat "$WORK/ipv6-exthdr.log")"
wait_exit "$SRV_PID" 5
cap_stop ipv6-exthdr-tls
expect12 ipv6-exthdr-tls "tls12-basic over IPv6 from Python's ssl client whose packets \
carry a hop-by-hop options header and a destination options header (PadN) before TCP" \
    fd00:99::1 fd00:99::2

# ---- raw IP: capture on a TUN device (IP-in-IP between the namespaces via utun.py)
for side in c s; do
    ip -n "$(nsname $side)" tuntap add dev tn0 mode tun || die "tuntap in $side"
    ip -n "$(nsname $side)" link set tn0 mtu 1400
done
bg c utun-c "$PY" -u "$GEN_DIR/utun.py" ipip --dev tn0 --local 10.99.0.1 --remote 10.99.0.2
bg s utun-s "$PY" -u "$GEN_DIR/utun.py" ipip --dev tn0 --local 10.99.0.2 --remote 10.99.0.1
for side in c s; do
    for i in $(seq 50); do
        grep -qs ready "$WORK/utun-$side.log" && break
        sleep 0.1
    done
    grep -qs ready "$WORK/utun-$side.log" || die "utun.py in $side did not start"
done
addr c tn0 10.98.0.1/24
addr s tn0 10.98.0.2/24
ip -n "$(nsname c)" link set tn0 up
ip -n "$(nsname s)" link set tn0 up
cap_start c tn0 tcp port $PORT
tls_session link-raw 10.98.0.2:$PORT "${TLS12[@]}" -- "${VERIFY[@]}" -tls1_2
cap_stop link-raw
expect12 link-raw "tls12-basic captured on a TUN device: raw IPv4 packets without a link \
header (link type 101 RAW)" 10.98.0.1 10.98.0.2

# ---- pcapng, written by Wireshark's dumpcap (tcpdump writes only pcap)
bg c dumpcap dumpcap -i c0 -n -f "tcp port $PORT" -w "$WORK/cap.pcapng"
DUMPCAP_PID=$BG_PID
for i in $(seq 100); do
    grep -qs "Capturing on" "$WORK/dumpcap.log" && break
    kill -0 "$DUMPCAP_PID" 2>/dev/null || die "dumpcap failed: $(cat "$WORK/dumpcap.log")"
    sleep 0.05
done
tls_session link-pcapng 10.99.0.2:$PORT "${TLS12[@]}" -- "${VERIFY[@]}" -tls1_2
sleep 0.5
kill -INT "$DUMPCAP_PID"
wait_exit "$DUMPCAP_PID" 5
grep -q "Packets captured: 0" "$WORK/dumpcap.log" && die "dumpcap captured nothing"
install -m 644 "$WORK/cap.pcapng" "$PCAP_DIR/link-pcapng.pcapng"
log "wrote pcaps/link-pcapng.pcapng ($(stat -c %s "$PCAP_DIR/link-pcapng.pcapng") bytes)"
expect12 link-pcapng "tls12-basic written by dumpcap in pcapng format (Ethernet)" \
    10.99.0.1 10.99.0.2 link-pcapng.pcapng
