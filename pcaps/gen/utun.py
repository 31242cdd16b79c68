#!/usr/bin/python3
"""Userspace tunnel endpoint for the capture scripts (stdlib only).

The test kernel has only VXLAN built in (no 8021q, GRE, IPIP, SIT, ip6_tunnel,
Geneve or ERSPAN modules), so this program does the encapsulation itself: it
attaches to a TUN (layer 3) or TAP (layer 2) device that the script created and
addressed, and moves every packet between that device and the underlay:

  gre      TUN  <-> GRE (proto 0x0800 / 0x86dd) in IPv4, raw socket proto 47
  gretap   TAP  <-> GRE (proto 0x6558, transparent Ethernet) in IPv4
           (GRE checksum and key optional: --gre-csum, --gre-key N)
  erspan2  TAP  <-> GRE with sequence number, ERSPAN type II (0x88be) in IPv4
  erspan3  TAP  <-> GRE with sequence number, ERSPAN type III (0x22eb) in IPv4
  ipip     TUN  <-> IPv4 in IPv4 (raw socket proto 4)
  sit      TUN  <-> IPv6 in IPv4 (raw socket proto 41)
  ip6tnl   TUN  <-> IPv4 in IPv6 (raw IPv6 socket, next header 4)
  ip6gre   TUN  <-> GRE in IPv6 (raw IPv6 socket, next header 47)
  geneve   TAP  <-> Geneve (UDP 6081, protocol 0x6558)
  vlan     TAP  <-> 802.1Q-tagged frames on the underlay device (AF_PACKET)
  qinq     TAP  <-> 802.1ad outer + 802.1Q inner tags on the underlay device

The outer IP header is built by the kernel (raw/UDP sockets), and the inner
packets come from the kernel's own TCP stack and real TLS programs, so the
underlay capture holds genuine encapsulated traffic. Prints "ready" once
attached; runs until killed.
"""
import argparse
import fcntl
import os
import select
import socket
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN, IFF_TAP, IFF_NO_PI = 0x0001, 0x0002, 0x1000
ETH_P_ALL = 0x0003
SOL_PACKET, PACKET_AUXDATA = 263, 8
PACKET_OUTGOING = 4
TP_STATUS_VLAN_VALID, TP_STATUS_VLAN_TPID_VALID = 0x10, 0x40
GRE_C, GRE_K, GRE_S = 0x8000, 0x2000, 0x1000
ETH_IP4, ETH_IP6, ETH_TEB = 0x0800, 0x86DD, 0x6558
ERSPAN2, ERSPAN3 = 0x88BE, 0x22EB
TPID_8021Q, TPID_8021AD = 0x8100, 0x88A8

L2_MODES = {"gretap", "erspan2", "erspan3", "geneve", "vlan", "qinq"}


def open_tun(name, l2):
    fd = os.open("/dev/net/tun", os.O_RDWR)
    flags = (IFF_TAP if l2 else IFF_TUN) | IFF_NO_PI
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), flags))
    return fd


def inet_checksum(data):
    """RFC 1071 Internet checksum."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def inner_ethertype(pkt):
    return ETH_IP6 if pkt and pkt[0] >> 4 == 6 else ETH_IP4


class Endpoint:
    """One side of a tunnel: encap() for device->wire, decap() for wire->device."""

    def __init__(self, args):
        self.args = args
        self.seq = 0
        self.mode = args.mode
        self.remote = args.remote
        if self.mode in ("ip6tnl", "ip6gre"):
            proto = 4 if self.mode == "ip6tnl" else 47
            self.sock = socket.socket(socket.AF_INET6, socket.SOCK_RAW, proto)
            self.sock.bind((args.local, 0))
        elif self.mode == "geneve":
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.sock.bind((args.local, 6081))
        elif self.mode in ("vlan", "qinq"):
            self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                                      socket.htons(ETH_P_ALL))
            self.sock.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
            self.sock.bind((args.underlay, ETH_P_ALL))
        else:
            proto = {"ipip": 4, "sit": 41}.get(self.mode, 47)
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, proto)
            self.sock.bind((args.local, 0))

    # ------------------------------------------------------------ device -> wire
    def gre_header(self, proto, seq, payload):
        """GRE header: checksum (--gre-csum), key (--gre-key), sequence (seq) as set."""
        flags = 0
        opt = b""
        if self.args.gre_csum:
            flags |= GRE_C
        if self.args.gre_key is not None:
            flags |= GRE_K
            opt += struct.pack("!I", self.args.gre_key)
        if seq:
            flags |= GRE_S
            self.seq += 1
            opt += struct.pack("!I", self.seq)
        if not flags & GRE_C:
            return struct.pack("!HH", flags, proto) + opt
        hdr = struct.pack("!HHHH", flags, proto, 0, 0) + opt
        csum = inet_checksum(hdr + payload)
        return struct.pack("!HHHH", flags, proto, csum, 0) + opt

    def erspan_header(self):
        a = self.args
        if self.mode == "erspan2":
            # ver 1 | vlan 0 | cos 0 | en 0 | t 0 | session id; reserved | index
            return struct.pack("!II", (1 << 28) | (a.session & 0x3FF), a.index & 0xFFFFF)
        stamp = int(time.time() * 10000) & 0xFFFFFFFF  # 100 us units (gra 0)
        # ver 2 | vlan 0 | cos 0 | bso 0 | t 0 | session; timestamp;
        # sgt 0 | p 1 (Ethernet PDU, as Linux sends) | ft 0 (Ethernet) | hw id | d 0 |
        # gra 0 | o 0 (no platform sub-header)
        word3 = (1 << 15) | (a.hwid & 0x3F) << 4
        return struct.pack("!III", (2 << 28) | (a.session & 0x3FF), stamp, word3)

    def encap(self, pkt):
        m = self.mode
        if m == "gre" or m == "ip6gre":
            return self.gre_header(inner_ethertype(pkt), False, pkt) + pkt
        if m == "gretap":
            return self.gre_header(ETH_TEB, False, pkt) + pkt
        if m in ("erspan2", "erspan3"):
            proto = ERSPAN2 if m == "erspan2" else ERSPAN3
            body = self.erspan_header() + pkt
            return self.gre_header(proto, True, body) + body
        if m == "geneve":
            return struct.pack("!BBHI", 0, 0, ETH_TEB, (self.args.vni & 0xFFFFFF) << 8) + pkt
        if m == "vlan":
            return pkt[:12] + struct.pack("!HH", TPID_8021Q, self.args.vlan) + pkt[12:]
        if m == "qinq":
            tags = struct.pack("!HHHH", TPID_8021AD, self.args.svlan, TPID_8021Q,
                               self.args.vlan)
            return pkt[:12] + tags + pkt[12:]
        return pkt  # ipip, sit, ip6tnl: the inner packet is the whole payload

    def send(self, pkt):
        frame = self.encap(pkt)
        if self.mode in ("vlan", "qinq"):
            self.sock.send(frame)
        elif self.mode == "geneve":
            self.sock.sendto(frame, (self.remote, 6081))
        else:
            self.sock.sendto(frame, (self.remote, 0))

    # ------------------------------------------------------------ wire -> device
    def strip_gre(self, data):
        if len(data) < 4:
            return None, None
        flags, proto = struct.unpack_from("!HH", data)
        off = 4 + 4 * sum(1 for bit in (GRE_C, GRE_K, GRE_S) if flags & bit)
        if len(data) < off:
            return None, None
        return proto, data[off:]

    def decap_ip(self, data):
        """Payload of a packet from a raw IPv4 socket (header included) or IPv6 one."""
        if self.sock.family == socket.AF_INET:
            if len(data) < 20:
                return None
            data = data[(data[0] & 0x0F) * 4:]
        if self.mode in ("ipip", "sit", "ip6tnl"):
            return data
        proto, inner = self.strip_gre(data)
        if self.mode in ("gre", "ip6gre"):
            return inner if proto in (ETH_IP4, ETH_IP6) else None
        if self.mode == "gretap":
            return inner if proto == ETH_TEB else None
        want = ERSPAN2 if self.mode == "erspan2" else ERSPAN3
        if proto != want or inner is None:
            return None
        hlen = 8
        if self.mode == "erspan3" and len(inner) >= 12:
            hlen = 12 + (8 if inner[11] & 1 else 0)
        return inner[hlen:]

    def decap_vlan(self, data, anc):
        outer = None
        for level, ctype, cdata in anc:
            if level == SOL_PACKET and ctype == PACKET_AUXDATA and len(cdata) >= 20:
                status, _, _, _, _, tci, tpid = struct.unpack_from("=IIIHHHH", cdata)
                if status & TP_STATUS_VLAN_VALID:
                    if not status & TP_STATUS_VLAN_TPID_VALID:
                        tpid = TPID_8021Q
                    outer = (tpid, tci & 0xFFF)
        tags = []
        if outer:
            tags.append(outer)
        while len(data) >= 18 and struct.unpack_from("!H", data, 12)[0] in (TPID_8021Q,
                                                                            TPID_8021AD):
            tpid, tci = struct.unpack_from("!HH", data, 12)
            tags.append((tpid, tci & 0xFFF))
            data = data[:12] + data[16:]
        if self.mode == "vlan":
            want = [(TPID_8021Q, self.args.vlan)]
        else:
            want = [(TPID_8021AD, self.args.svlan), (TPID_8021Q, self.args.vlan)]
        return data if tags == want else None

    def receive(self):
        if self.mode in ("vlan", "qinq"):
            data, anc, _, addr = self.sock.recvmsg(65535, socket.CMSG_SPACE(32))
            if addr[2] == PACKET_OUTGOING:
                return None
            return self.decap_vlan(data, anc)
        data, addr = self.sock.recvfrom(65535)
        if addr[0] != self.remote:
            return None
        if self.mode == "geneve":
            if len(data) < 8:
                return None
            optlen = (data[0] & 0x3F) * 4
            proto, vni = struct.unpack_from("!HI", data, 2)
            if proto != ETH_TEB or vni >> 8 != self.args.vni:
                return None
            return data[8 + optlen:]
        return self.decap_ip(data)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("mode", choices=sorted(L2_MODES | {"gre", "ipip", "sit", "ip6tnl",
                                                        "ip6gre"}))
    ap.add_argument("--dev", required=True, help="TUN/TAP device (already created)")
    ap.add_argument("--local", help="underlay source address")
    ap.add_argument("--remote", help="underlay peer address")
    ap.add_argument("--underlay", help="underlay device (vlan, qinq)")
    ap.add_argument("--vni", type=int, default=42)
    ap.add_argument("--vlan", type=int, default=100)
    ap.add_argument("--svlan", type=int, default=200)
    ap.add_argument("--gre-key", type=int, help="GRE key (sets the K bit)")
    ap.add_argument("--gre-csum", action="store_true", help="GRE checksum (C bit)")
    ap.add_argument("--session", type=int, default=42, help="ERSPAN session id")
    ap.add_argument("--index", type=int, default=1, help="ERSPAN II port index")
    ap.add_argument("--hwid", type=int, default=1, help="ERSPAN III hardware id")
    args = ap.parse_args()
    ep = Endpoint(args)
    fd = open_tun(args.dev, args.mode in L2_MODES)
    print("ready", flush=True)
    while True:
        ready, _, _ = select.select([fd, ep.sock], [], [])
        if fd in ready:
            ep.send(os.read(fd, 65535))
        if ep.sock in ready:
            inner = ep.receive()
            if inner:
                os.write(fd, inner)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
