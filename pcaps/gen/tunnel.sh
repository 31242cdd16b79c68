#!/bin/bash
# One TLS 1.2 exchange (as tls12-basic) carried through a tunnel between two
# namespaces, captured on the underlay veth so the encapsulation is in the file:
#   tunnel-KIND.pcap for KIND in vxlan geneve gre gretap erspan2 erspan3 ipip sit
#   ip6tnl ip6gre vlan qinq.
# VXLAN is the kernel's own device. This kernel has no 8021q, GRE, IPIP, SIT,
# ip6_tunnel or Geneve support, so the other kinds run through gen/utun.py: a
# userspace endpoint on a TUN/TAP device that encapsulates exactly as the kernel
# device would (outer IP header still made by the kernel's raw/UDP sockets).
# Usage: tunnel.sh [KIND...]   (no argument: every kind, one namespace set each)
. "$(dirname "$0")/lib.sh"

KINDS=(vxlan geneve gre gretap erspan2 erspan3 ipip sit ip6tnl ip6gre vlan qinq)
if [ $# -eq 0 ]; then
    for kind in "${KINDS[@]}"; do "$0" "$kind"; done
    exit 0
fi
if [ $# -gt 1 ]; then
    for kind in "$@"; do "$0" "$kind"; done
    exit 0
fi
KIND=$1
[[ " ${KINDS[*]} " == *" $KIND "* ]] || die "unknown tunnel kind $KIND (${KINDS[*]})"

case $KIND in ip6tnl | ip6gre) IPV6=1 ;; *) IPV6=0 ;; esac
IPV6=$IPV6 two_hosts
UNDER_C=10.99.0.1 UNDER_S=10.99.0.2
if [ "$IPV6" = 1 ]; then UNDER_C=fd00:99::1 UNDER_S=fd00:99::2; fi
INNER_C=10.98.0.1 INNER_S=10.98.0.2 PLEN=24
if [ "$KIND" = sit ]; then INNER_C=fd00:98::1 INNER_S=fd00:98::2 PLEN=64; fi

# tunnel_end NS DEV LOCAL REMOTE INNER UNDERLAY: one tunnel endpoint, up and addressed.
tunnel_end() {
    local ns=$1 dev=$2 local_ip=$3 remote_ip=$4 inner=$5 under=$6
    if [ "$KIND" = vxlan ]; then
        ip -n "$(nsname "$ns")" link add "$dev" type vxlan id 42 dstport 4789 \
            local "$local_ip" remote "$remote_ip" dev "$under" || die "vxlan device"
        nsx "$ns" ethtool -K "$dev" tx off tso off gso off gro off >/dev/null 2>&1 || true
    else
        local mode=tun
        case $KIND in gretap | erspan2 | erspan3 | geneve | vlan | qinq) mode=tap ;; esac
        ip -n "$(nsname "$ns")" tuntap add dev "$dev" mode "$mode" || die "tuntap $dev"
        ip -n "$(nsname "$ns")" link set "$dev" mtu 1400
        local extra=()
        case $KIND in
            gre) extra=(--gre-csum --gre-key 42) ;;
            gretap) extra=(--gre-key 42) ;;
        esac
        bg "$ns" "utun-$ns" "$PY" -u "$GEN_DIR/utun.py" "$KIND" --dev "$dev" \
            --local "$local_ip" --remote "$remote_ip" --underlay "$under" "${extra[@]}"
        local i
        for i in $(seq 50); do
            grep -qs ready "$WORK/utun-$ns.log" && break
            kill -0 "$BG_PID" 2>/dev/null || die "utun.py failed: $(cat "$WORK/utun-$ns.log")"
            sleep 0.1
        done
    fi
    addr "$ns" "$dev" "$inner/$PLEN"
    ip -n "$(nsname "$ns")" link set "$dev" up
}
tunnel_end c tn0 "$UNDER_C" "$UNDER_S" "$INNER_C" c0
tunnel_end s tn0 "$UNDER_S" "$UNDER_C" "$INNER_S" s0

cert_issue server "$SNI"
CONNECT=$INNER_S:$PORT
[ "$KIND" = sit ] && CONNECT="[$INNER_S]:$PORT"
SOPTS=(-tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256)
[ "$KIND" = sit ] && SOPTS+=(-6)

NAME=tunnel-$KIND
cap_start c c0
tls_session "$NAME" "$CONNECT" "${SOPTS[@]}" -- -servername "$SNI" \
    -CAfile "$CERT_DIR/ca.pem" -verify_return_error -verify_hostname "$SNI" -tls1_2
cap_stop "$NAME"

TUNNEL=$KIND VLAN=null
case $KIND in
    vlan) TUNNEL=null VLAN=100 ;;
    qinq) TUNNEL=null VLAN=200,100 ;;
esac
case $KIND in
    vxlan) what="VXLAN VNI 42 (UDP 4789, kernel vxlan device)" ;;
    geneve) what="Geneve VNI 42 (UDP 6081) carrying Ethernet" ;;
    gre) what="GRE with checksum and key 42 carrying IPv4" ;;
    gretap) what="GRE with key 42 carrying Ethernet (0x6558)" ;;
    erspan2) what="GRE with sequence numbers, ERSPAN type II (0x88be) session 42" ;;
    erspan3) what="GRE with sequence numbers, ERSPAN type III (0x22eb) session 42" ;;
    ipip) what="IPv4 in IPv4" ;;
    sit) what="IPv6 in IPv4 (inner fd00:98::/64)" ;;
    ip6tnl) what="IPv4 in IPv6 (underlay fd00:99::/64)" ;;
    ip6gre) what="GRE in IPv6 carrying IPv4 (underlay fd00:99::/64)" ;;
    vlan) what="802.1Q VLAN 100 on the wire" ;;
    qinq) what="802.1ad S-VLAN 200 outer, 802.1Q C-VLAN 100 inner" ;;
esac
expect_begin "$NAME" "tls12-basic exchange through $what, captured on the underlay"
expect_flow client="$INNER_C" server="$INNER_S" server_port=$PORT tunnel=$TUNNEL vlan=$VLAN \
    "tls.version=TLS 1.2" tls.cipher=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 tls.sni=$SNI \
    tls.alpn=null cert.observable=true "cert.subject_cn=$SNI" "cert.issuer_cn=$TEST_CA_CN" \
    "cert.not_after=$CERT_NOT_AFTER" cert.key_type=RSA cert.key_bits=2048 \
    cert.sig_alg=sha256WithRSAEncryption cert.self_signed=false cert.chain_valid=true \
    cert.sni_match=true rules=
expect_end
