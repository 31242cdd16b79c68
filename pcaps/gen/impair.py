#!/usr/bin/python3
"""Impairing Ethernet bridge for the capture scripts (stdlib only).

Runs in a middle namespace between two veths A and B and copies every frame
from one to the other (AF_PACKET), except for one-shot impairments on TCP
frames that carry payload ("data frames"), counted per direction from 1:

  --drop-a2b N      drop the N-th data frame from A to B (the sender retransmits)
  --reorder-b2a N   hold the N-th data frame from B to A and send it after the next
                    one (or after 50 ms if nothing follows)
  --dup-b2a N       send the N-th data frame from B to A twice

(and the same with the other direction's names). No netem/iptables on the test
machine, so this is how real TCP stacks are made to retransmit and to receive
segments out of order. Prints "ready" once both sockets are bound; runs until
killed.
"""
import argparse
import select
import socket
import struct
import sys

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


def tcp_payload_len(frame):
    """Length of the TCP payload of an untagged Ethernet frame, or 0."""
    if len(frame) < 14:
        return 0
    etype = struct.unpack_from("!H", frame, 12)[0]
    if etype == 0x0800 and len(frame) >= 34:
        ihl = (frame[14] & 0x0F) * 4
        total = struct.unpack_from("!H", frame, 16)[0]
        if frame[23] != 6 or len(frame) < 14 + ihl + 20:
            return 0
        doff = (frame[14 + ihl + 12] >> 4) * 4
        return max(0, total - ihl - doff)
    if etype == 0x86DD and len(frame) >= 74:
        plen = struct.unpack_from("!H", frame, 18)[0]
        if frame[20] != 6:
            return 0
        doff = (frame[54 + 12] >> 4) * 4
        return max(0, plen - doff)
    return 0


class Direction:
    def __init__(self, name, out_sock, drop, reorder, dup):
        self.name = name
        self.out = out_sock
        self.drop, self.reorder, self.dup = drop, reorder, dup
        self.count = 0
        self.held = None

    def forward(self, frame):
        if tcp_payload_len(frame) > 0:
            self.count += 1
            n = self.count
            if n == self.drop:
                return
            if n == self.reorder:
                self.held = frame
                return
            self.out.send(frame)
            if n == self.dup:
                self.out.send(frame)
        else:
            self.out.send(frame)
        self.flush()

    def flush(self):
        if self.held is not None:
            self.out.send(self.held)
            self.held = None


def open_sock(dev):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((dev, ETH_P_ALL))
    return s


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("a")
    ap.add_argument("b")
    for d in ("a2b", "b2a"):
        for kind in ("drop", "reorder", "dup"):
            ap.add_argument("--%s-%s" % (kind, d), type=int, default=0)
    args = ap.parse_args()
    sa, sb = open_sock(args.a), open_sock(args.b)
    a2b = Direction("a2b", sb, args.drop_a2b, args.reorder_a2b, args.dup_a2b)
    b2a = Direction("b2a", sa, args.drop_b2a, args.reorder_b2a, args.dup_b2a)
    print("ready", flush=True)
    while True:
        ready, _, _ = select.select([sa, sb], [], [], 0.05)
        if not ready:
            a2b.flush()
            b2a.flush()
        for sock in ready:
            frame, addr = sock.recvfrom(65535)
            if addr[2] == PACKET_OUTGOING:
                continue
            (a2b if sock is sa else b2a).forward(frame)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
