#!/bin/bash
# IP fragments (the sensor counts and skips them): one 3000-byte UDP datagram over
# IPv4 and one over IPv6 from socat, MTU 1500, so each leaves in 3 fragments.
#   ip-fragments.pcap  6 fragments, no TCP flow
. "$(dirname "$0")/lib.sh"

IPV6=1 two_hosts
SIZE=3000
bg s udp4 socat -u UDP4-RECV:9999 OPEN:/dev/null
wait_listen s 9999 "$BG_PID" u
bg s udp6 socat -u UDP6-RECV:9998 OPEN:/dev/null
wait_listen s 9998 "$BG_PID" u
cap_start c c0 udp or '(ip6 and ip6[6] == 44)'
head -c $SIZE /dev/zero | tr '\0' 'v' | run c send4 5 socat -u - UDP4-SENDTO:10.99.0.2:9999 ||
    die "IPv4 UDP send failed"
head -c $SIZE /dev/zero | tr '\0' 'v' | run c send6 5 socat -u - "UDP6-SENDTO:[fd00:99::2]:9998" ||
    die "IPv6 UDP send failed"
cap_stop ip-fragments
# Per fragment: IPv4 carries 1480 bytes, IPv6 (40-byte header, 8-byte fragment
# header) 1448; the datagram is SIZE + 8 bytes of UDP header.
n4=$(((SIZE + 8 + 1479) / 1480))
n6=$(((SIZE + 8 + 1447) / 1448))
expect_begin ip-fragments "one ${SIZE}-byte UDP datagram 10.99.0.1 -> 10.99.0.2:9999 \
($n4 IPv4 fragments) and one fd00:99::1 -> fd00:99::2:9998 ($n6 IPv6 fragments); no TCP"
EXP_ARGS+=("ip_fragments=$((n4 + n6))" "ipv4_fragments=$n4" "ipv6_fragments=$n6")
expect_end
