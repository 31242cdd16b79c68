#!/usr/bin/python3
"""Benchmark workload generator for `make bench` (Python standard library only).

Writes deterministic (seeded) pcap files shaped like a busy Vitess cluster:

  mixed     real handshakes from pcaps/*.pcap with rewritten addresses and ports,
            each followed by data packets with consistent TCP sequence numbers
            (TLS application-data records, h2 HEADERS/DATA frames), flows
            interleaved in time. Mix by flow: 70% TLS 1.3 gRPC vtgate->vttablet,
            15% MySQL over TLS 1.2, 10% plaintext h2c gRPC, 5% etcd.
  midstream the same flows, but a given fraction start mid-stream (handshake
            dropped: the capture begins with their data packets).
  flood     N distinct flows that each send a SYN and one segment of a few bytes.

IP and TCP checksums are written as zero (the sensor, nDPI and tshark with its
defaults do not verify them); IP and TCP lengths are exact.

Usage: gen.py mixed|flood OUT.pcap [--seed N] [--flows N] [--packets N]
                                    [--data-mult K] [--midstream F]
"""

import argparse
import glob
import json
import os
import random
import struct
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PCAPS = os.path.join(ROOT, "pcaps")

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
MSS = 1448
PCAP_GLOBAL = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1)
_IP = struct.Struct("!BBHHHBBH")
_TCP = struct.Struct("!IIBBHHH")
_REC = struct.Struct("<IIII")
_PORTS = struct.Struct("!HH")


# ----------------------------------------------------------------------------
# Reading the template captures


def read_pcap(path):
    """Return [(ts_float, frame_bytes)] of a classic pcap file (Ethernet)."""
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack_from("<I", data, 0)[0]
    if magic in (0xA1B2C3D4, 0xA1B23C4D):
        end = "<"
    elif magic in (0xD4C3B2A1, 0x4D3CB2A1):
        end = ">"
    else:
        raise ValueError("%s: not a classic pcap file" % path)
    nano = magic in (0xA1B23C4D, 0x4D3CB2A1)
    if struct.unpack_from(end + "I", data, 20)[0] != 1:
        raise ValueError("%s: link type is not Ethernet" % path)
    out, off = [], 24
    while off + 16 <= len(data):
        sec, frac, incl, _orig = struct.unpack_from(end + "IIII", data, off)
        off += 16
        out.append((sec + frac / (1e9 if nano else 1e6), data[off : off + incl]))
        off += incl
    return out


def parse_tcp4(frame):
    """Return (mac, src, dst, sport, dport, seq, ack, flags, win, opts, payload) or None."""
    if len(frame) < 14 + 20 + 20 or frame[12:14] != b"\x08\x00":
        return None
    ip = frame[14:]
    ihl = (ip[0] & 0x0F) * 4
    tot = struct.unpack_from("!H", ip, 2)[0]
    if ip[9] != 6 or len(ip) < ihl + 20:
        return None
    tcp = ip[ihl:tot]
    sport, dport, seq, ack, off, flags, win = struct.unpack_from("!HHIIBBH", tcp, 0)
    doff = (off >> 4) * 4
    return (frame[:14], ip[12:16], ip[16:20], sport, dport, seq, ack, flags, win,
            tcp[20:doff], tcp[doff:])


class Template:
    """One TCP connection of a real capture, reduced to its opening part.

    pkts: [(dir, flags, seq_rel, ack_rel, win, opts, payload)], dir 0 = client;
    sequence numbers are relative to each side's initial sequence number.
    next_rel[d]: relative sequence number side d sends next after the opening.
    """

    def __init__(self, name, mac, sport, dport, pkts, next_rel):
        self.name, self.mac, self.sport, self.dport = name, mac, sport, dport
        self.pkts, self.next_rel = pkts, next_rel
        self.kind = None


def load_templates(path, want=None):
    """Split a capture into Templates; keep flows whose (client, server, port)
    is in `want` when given. The opening is everything before the first FIN/RST."""
    conns, order = {}, []
    for _ts, frame in read_pcap(path):
        p = parse_tcp4(frame)
        if p is None:
            continue
        key = tuple(sorted([(p[1], p[3]), (p[2], p[4])]))
        if key not in conns:
            conns[key] = []
            order.append(key)
        conns[key].append(p)
    out = []
    for key in order:
        t = _make_template(os.path.basename(path), conns[key], want)
        if t is not None:
            out.append(t)
    return out


def _make_template(name, pkts, want):
    syn = next((p for p in pkts if p[7] & SYN and not p[7] & ACK), None)
    if syn is None:
        return None
    cli, srv = (syn[1], syn[3]), (syn[2], syn[4])
    if want is not None and (cli[0], srv[0], srv[1]) not in want:
        return None
    isn = [None, None]
    for p in pkts:
        d = 0 if (p[1], p[3]) == cli else 1
        if p[7] & SYN and isn[d] is None:
            isn[d] = p[5]
    if None in isn:
        return None
    rel, nxt = [], [1, 1]
    for p in pkts:
        if p[7] & (FIN | RST):
            break
        d = 0 if (p[1], p[3]) == cli else 1
        s = (p[5] - isn[d]) & 0xFFFFFFFF
        a = (p[6] - isn[1 - d]) & 0xFFFFFFFF if p[7] & ACK else 0
        rel.append((d, p[7], s, a, p[8], p[9], p[10]))
        nxt[d] = max(nxt[d], s + len(p[10]) + (1 if p[7] & SYN else 0))
    return Template(name, syn[0], cli[1], srv[1], rel, nxt)


def _ip4(s):
    return bytes(int(x) for x in s.split("."))


def _want(expected, client_comp=None, server_comp=None):
    with open(os.path.join(PCAPS, "expected", expected)) as f:
        flows = json.load(f)["flows"]
    return {(_ip4(fl["client"]), _ip4(fl["server"]), fl["server_port"]) for fl in flows
            if (client_comp is None or fl.get("client_component") == client_comp)
            and (server_comp is None or fl.get("server_component") == server_comp)}


def _template_kind(t):
    """'tls13' when the opening carries a TLS handshake, 'h2c' for an HTTP/2
    preface, None otherwise. (Records after a TLS 1.2 or 1.3 handshake share
    the same 0x17 0x0303 header, so 'tls13' stands for both.)"""
    for d, _f, _s, _a, _w, _o, payload in t.pkts:
        if payload:
            if payload[:1] == b"\x16":
                return "tls13"
            if d == 0 and payload.startswith(b"PRI * HTTP/2.0"):
                return "h2c"
            return None
    return None


def base_time_us():
    """Packet time for the generated captures: that of the template captures
    (the sensor works in packet time, so certificate validity and timeouts see
    the same clock as in the real captures)."""
    return int(read_pcap(os.path.join(PCAPS, "grpc-tls.pcap"))[0][0]) * 1_000_000


DEFAULT_MIX = "grpc-tls13=70,mysql-tls12=15,grpc-h2c=10,etcd=5"


def parse_mix(text):
    """'name=share,...' -> {name: share}; shares are relative weights."""
    out = {}
    for part in filter(None, text.split(",")):
        name, _, share = part.partition("=")
        out[name.strip()] = float(share)
    return out


def load_classes(mix=DEFAULT_MIX):
    """The traffic classes with a non-zero share in `mix`:
    [(name, share, templates, payload kind, server port)]. Known classes:
    grpc-tls13, mysql-tls12, grpc-h2c, etcd, and, not in the default mix,
    mysql-plain (MySQL without TLS: COM_QUERY and text result sets) and
    etcd-plain (the plaintext etcdctl flows only)."""
    want = parse_mix(mix)
    unknown = set(want) - {"grpc-tls13", "mysql-tls12", "grpc-h2c", "etcd", "mysql-plain",
                           "etcd-plain"}
    if unknown:
        sys.exit("gen.py: unknown traffic classes in --mix: %s" % ", ".join(sorted(unknown)))
    p = lambda n: os.path.join(PCAPS, n)
    grpc_tls = load_templates(p("grpc-tls.pcap"), _want("grpc-tls.json", "vtgate", "vttablet"))
    mysql = load_templates(p("mysql-tls12.pcap"))
    h2c = load_templates(p("grpc-h2c.pcap"))
    classes = [("grpc-tls13", 0.70, grpc_tls, "tls13", None),
               ("mysql-tls12", 0.15, mysql, "tls12", None),
               ("grpc-h2c", 0.10, h2c, "h2c", None)]
    # etcd client traffic (gRPC on 2379): the etcdctl captures, TLS and plaintext
    # alike, each template keeping its own kind. The JSON gateway and peer
    # captures are not client gRPC and are left out.
    etcd = []
    for f in sorted(glob.glob(p("etcd-client-*.pcap"))):
        for t in load_templates(f):
            t.kind = _template_kind(t)
            if t.dport == 2379 and t.kind is not None:
                t.kind = "h2c-etcd" if t.kind == "h2c" else t.kind
                etcd.append(t)
    if etcd:
        classes.append(("etcd", 0.05, etcd, None, None))
    else:
        # Stand-in while no etcd capture exists: the h2c gRPC openings sent to 2379.
        classes.append(("etcd(h2c stand-in)", 0.05, h2c, "h2c-etcd", 2379))
    classes.append(("mysql-plain", 0.0, load_templates(p("mysql-plain.pcap")), "mysql", None))
    # Plaintext etcd client gRPC alone (the h2c etcdctl flows), not in the default mix.
    classes.append(("etcd-plain", 0.0, [t for t in etcd if t.kind == "h2c-etcd"], None, None))
    total = sum(want.values()) or 1.0
    out = []
    for name, _share, tmpl, kind, port in classes:
        share = want.get(name.split("(")[0], 0.0) / total
        if share <= 0:
            continue
        if not tmpl:
            sys.exit("gen.py: no template flows for %s in %s" % (name, PCAPS))
        out.append((name, share, tmpl, kind, port))
    return out


SQL = ("select id, name, email from customer where id = %d",
       "select * from corder where customer_id = %d order by order_id limit 10",
       "update product set price = price + 1 where sku = 'SKU-%d'",
       "insert into corder(customer_id, sku, price) values (%d, 'SKU-1001', 100)",
       "select count(*) from corder where customer_id = %d")


def _mysql_packet(seq, body):
    n = len(body)
    return struct.pack("<I", n)[:3] + bytes([seq & 0xFF]) + body


def _lenenc(b):
    return bytes([len(b)]) + b if len(b) < 251 else b"\xfc" + struct.pack("<H", len(b)) + b


def mysql_query(rng):
    return _mysql_packet(0, b"\x03" + (rng.choice(SQL) % rng.randint(1, 10**6)).encode())


def mysql_result(rng, noise, size):
    """A text result set of about `size` bytes: column count, two column
    definitions (MariaDB layout with the extended-metadata field, as the
    mysql-plain.pcap template negotiates it), EOF, rows of two length-encoded
    strings, EOF."""
    seq = 1
    out = [_mysql_packet(seq, b"\x02")]
    for name in (b"id", b"name"):
        seq += 1
        coldef = (_lenenc(b"def") + _lenenc(b"commerce") + _lenenc(b"customer")
                  + _lenenc(b"customer") + _lenenc(name) + _lenenc(name)
                  + b"\x00"  # MariaDB extended metadata (negotiated by the template): none
                  + b"\x0c\x21\x00\xff\x00\x00\x00\xfd\x00\x00\x00\x00\x00")
        out.append(_mysql_packet(seq, coldef))
    seq += 1
    out.append(_mysql_packet(seq, b"\xfe\x00\x00\x22\x00"))
    left = size
    while left > 0:
        seq += 1
        text = noise.take(min(left, 200)).hex()[: min(left, 200)].encode()
        out.append(_mysql_packet(seq, _lenenc(str(rng.randint(1, 10**6)).encode())
                                 + _lenenc(text)))
        left -= len(text) + 12
    seq += 1
    out.append(_mysql_packet(seq, b"\xfe\x00\x00\x22\x00"))
    return b"".join(out)


# ----------------------------------------------------------------------------
# Building packets


class Side:
    """Precomputed header parts for one direction of one flow."""

    __slots__ = ("mac", "addrs", "ports", "isn", "nxt", "ipid")

    def __init__(self, mac, src, dst, sport, dport, isn):
        self.mac, self.addrs = mac, src + dst
        self.ports = _PORTS.pack(sport, dport)
        self.isn, self.nxt, self.ipid = isn, 0, 0


def frame(side, flags, seq, ack, win, opts, payload):
    side.ipid = (side.ipid + 1) & 0xFFFF
    tl = 20 + len(opts)
    return b"".join((side.mac, _IP.pack(0x45, 0, 20 + tl + len(payload), side.ipid, 0x4000, 64,
                                        6, 0), side.addrs, side.ports,
                     _TCP.pack(seq, ack, (tl // 4) << 4, flags, win, 0, 0), opts, payload))


class Noise:
    """Random-looking bytes without calling the RNG per byte."""

    def __init__(self, rng):
        self.blob = bytes(rng.getrandbits(8) for _ in range(1 << 16)) * 2
        self.rng = rng

    def take(self, n):
        o = int(self.rng.random() * 65536)
        return self.blob[o : o + n]


def _hpack_lit(index, value):
    """Literal header field without indexing, indexed name (RFC 7541 6.2.2)."""
    v = value.encode()
    assert index < 15 and len(v) < 127
    return bytes([index]) + bytes([len(v)]) + v


def _h2_frame(ftype, flags, stream, payload):
    n = len(payload)
    return struct.pack("!BHBBI", n >> 16, n & 0xFFFF, ftype, flags, stream) + payload


def h2_request(stream, path, msg):
    # :method POST (3), :scheme http (6), :path literal (name 4), te: trailers,
    # content-type literal (name 31 needs a multi-byte index: send as new name).
    auth = "etcd:2379" if path.startswith("/etcd") else "vttablet:16001"
    hdr = (b"\x83\x86" + _hpack_lit(4, path) + _hpack_lit(1, auth)
           + b"\x00\x02te\x08trailers"
           + b"\x00\x0ccontent-type\x10application/grpc")
    grpc = b"\x00" + struct.pack("!I", len(msg)) + msg
    return _h2_frame(1, 0x4, stream, hdr) + _h2_frame(0, 0x1, stream, grpc)


def h2_response(stream, msg):
    hdr = b"\x88" + b"\x00\x0ccontent-type\x10application/grpc"
    grpc = b"\x00" + struct.pack("!I", len(msg)) + msg
    trailers = b"\x00\x0bgrpc-status\x010" + b"\x00\x0cgrpc-message\x00"
    return (_h2_frame(1, 0x4, stream, hdr) + _h2_frame(0, 0, stream, grpc)
            + _h2_frame(1, 0x5, stream, trailers))


def tls_records(size):
    """Header bytes and body length of application-data records totalling `size`."""
    out = []
    while size > 0:
        n = min(size, 16384)
        out.append((struct.pack("!BHH", 23, 0x0303, n), n))
        size -= n
    return out


def _resp_size(rng, small, large):
    r = rng.random()
    if r < 0.55:
        return rng.randint(small, 4 * small)
    if r < 0.9:
        return rng.randint(4 * small, MSS)
    return rng.randint(MSS, large)


class FlowGen:
    """Iterates the frames of one flow: opening (unless mid-stream), data
    exchanges with consistent sequence numbers, then a FIN exchange."""

    def __init__(self, idx, cls, cls_no, seed, data_pkts, midstream, noise, fin=True):
        name, _share, templates, kind, port = cls
        self.rng = rng = random.Random((seed << 32) ^ (idx * 0x9E3779B1))
        self.t = templates[rng.randrange(len(templates))]
        self.kind, self.noise = kind or self.t.kind, noise
        # A unique client address per flow index (below 512,000 flows): the
        # address holds idx % 2048 and idx // 2048; the port just varies.
        cip = bytes([10, 100 + (idx % 8), (idx // 8) % 256, 1 + (idx // 2048) % 250])
        cport = 20000 + idx % 997
        sip = bytes([10, 200 + cls_no, rng.randrange(4), 1 + rng.randrange(50)])
        sport = port or self.t.dport
        self.side = [Side(self.t.mac, cip, sip, cport, sport, rng.getrandbits(32)),
                     Side(self.t.mac[6:12] + self.t.mac[0:6] + self.t.mac[12:14], sip, cip,
                          sport, cport, rng.getrandbits(32))]
        self.data_pkts, self.midstream, self.fin = data_pkts, midstream, fin
        self.stream_id = 101

    def __iter__(self):
        t, s = self.t, self.side
        if not self.midstream:
            for d, flags, sr, ar, win, opts, payload in t.pkts:
                o = s[1 - d]
                yield frame(s[d], flags, (s[d].isn + sr) & 0xFFFFFFFF,
                            (o.isn + ar) & 0xFFFFFFFF if flags & ACK else 0, win, opts, payload)
        s[0].nxt, s[1].nxt = t.next_rel
        sent = 0
        while sent < self.data_pkts:
            for fr in self.exchange():
                sent += 1
                yield fr
        if not self.fin:
            return
        yield self.seg(0, FIN | ACK, b"")
        s[0].nxt += 1
        yield self.seg(1, FIN | ACK, b"")
        s[1].nxt += 1
        yield self.seg(0, ACK, b"")

    def seg(self, d, flags, payload):
        s, o = self.side[d], self.side[1 - d]
        fr = frame(s, flags, (s.isn + s.nxt) & 0xFFFFFFFF, (o.isn + o.nxt) & 0xFFFFFFFF, 1024,
                   b"", payload)
        s.nxt += len(payload)
        return fr

    def send(self, d, data):
        """Segments of at most MSS bytes; the last one with PSH."""
        for off in range(0, len(data), MSS):
            chunk = data[off : off + MSS]
            yield self.seg(d, ACK | (PSH if off + MSS >= len(data) else 0), chunk)

    def exchange(self):
        rng, k = self.rng, self.kind
        if k in ("tls13", "tls12"):
            extra = 0 if k == "tls13" else 8  # TLS 1.2 AES-GCM explicit nonce
            q = self.records(rng.randint(80, 600) + extra)
            r = self.records(_resp_size(rng, 60, 24000) + extra)
        elif k == "mysql":
            q = mysql_query(rng)
            r = mysql_result(rng, self.noise, _resp_size(rng, 40, 16000))
        else:
            sid, self.stream_id = self.stream_id, self.stream_id + 2
            path = "/etcdserverpb.KV/Range" if k == "h2c-etcd" else "/queryservice.Query/Execute"
            q = h2_request(sid, path, self.noise.take(rng.randint(40, 500)))
            r = h2_response(sid, self.noise.take(_resp_size(rng, 40, 20000)))
        yield from self.send(0, q)
        n = 0
        for fr in self.send(1, r):
            n += 1
            yield fr
            if n % 2 == 0:
                yield self.seg(0, ACK, b"")
        if n % 2:
            yield self.seg(0, ACK, b"")

    def records(self, size):
        return b"".join(h + self.noise.take(n) for h, n in tls_records(size))


def write_mixed(path, seed, nflows, npackets, data_mult, midstream, active=1500, fin=True,
                mix=DEFAULT_MIX):
    """The mixed capture. `active` flows are open at any time (a new one starts
    when one ends); fin=False leaves every flow open at the end of the capture."""
    classes = load_classes(mix)
    rng = random.Random(seed)
    noise = Noise(random.Random(seed + 1))
    hs_len = sum(c[1] * sum(len(t.pkts) for t in c[2]) / len(c[2]) for c in classes)
    mean_data = max(4.0, npackets / nflows - hs_len - 3)
    cum, acc = [], 0.0
    for c in classes:
        acc += c[1]
        cum.append(acc)

    def flow(i):
        frng = random.Random(seed * 1000003 + i)
        u = frng.random() * acc
        cls_no = next(j for j, x in enumerate(cum) if u < x)
        data = int(mean_data * (0.5 + frng.random())) * data_mult
        mid = frng.random() < midstream
        return iter(FlowGen(i, classes[cls_no], cls_no, seed, data, mid, noise, fin))

    live = [flow(i) for i in range(min(active, nflows))]
    nxt = len(live)
    ts, count = base_time_us(), 0
    rnd = rng.random
    with open(path, "wb", buffering=1 << 22) as out:
        out.write(PCAP_GLOBAL)
        w = out.write
        while live:
            j = int(rnd() * len(live))
            fr = next(live[j], None)
            if fr is None:
                if nxt < nflows:
                    live[j] = flow(nxt)
                    nxt += 1
                else:
                    live[j] = live[-1]
                    live.pop()
                continue
            ts += 1 + int(rnd() * 3)
            n = len(fr)
            w(_REC.pack(ts // 1_000_000, ts % 1_000_000, n, n))
            w(fr)
            count += 1
    return count, nflows


def write_flood(path, seed, nflows, lag=1000):
    """Each flow: SYN, then (lag flows later) one PSH segment of 4-16 bytes."""
    rng = random.Random(seed)
    mac = bytes.fromhex("020000000001020000000002") + b"\x08\x00"
    dsts = [(bytes([10, 250, 0, 1 + i % 64]), (3306, 15991, 16001, 2379)[i % 4])
            for i in range(256)]
    isns = [rng.getrandbits(32) for _ in range(nflows)]
    ts, count = base_time_us(), 0
    payloads = [bytes(rng.getrandbits(8) for _ in range(16))[: 4 + i % 13] for i in range(64)]
    syn_opts = b"\x02\x04\x05\xb4\x01\x01\x04\x02"  # MSS 1460, NOP, NOP, SACK-permitted
    with open(path, "wb", buffering=1 << 22) as out:
        out.write(PCAP_GLOBAL)
        w = out.write
        for t in range(nflows + lag):
            for i, first in ((t, True), (t - lag, False)):
                if not 0 <= i < nflows:
                    continue
                src = struct.pack("!I", 0x0A800000 + i)
                dst, dport = dsts[i % 256]
                side = Side(mac, src, dst, 1024 + (i * 7919) % 64000, dport, isns[i])
                if first:
                    fr = frame(side, SYN, isns[i], 0, 64240, syn_opts, b"")
                else:
                    fr = frame(side, PSH | ACK, (isns[i] + 1) & 0xFFFFFFFF, 0, 502, b"",
                               payloads[i % 64])
                ts += 1
                n = len(fr)
                w(_REC.pack(ts // 1_000_000, ts % 1_000_000, n, n))
                w(fr)
                count += 1
    return count, nflows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("kind", choices=("mixed", "flood"))
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--flows", type=int, default=None)
    ap.add_argument("--packets", type=int, default=2_100_000,
                    help="mixed: approximate total packets at --data-mult 1")
    ap.add_argument("--data-mult", type=int, default=1)
    ap.add_argument("--midstream", type=float, default=0.0)
    ap.add_argument("--active", type=int, default=1500, help="mixed: flows open at a time")
    ap.add_argument("--no-fin", action="store_true", help="mixed: leave every flow open")
    ap.add_argument("--mix", default=DEFAULT_MIX,
                    help="mixed: class=weight,... of grpc-tls13, mysql-tls12, grpc-h2c, etcd, "
                    "mysql-plain (default %(default)s)")
    a = ap.parse_args(argv)
    if a.kind == "mixed":
        n, f = write_mixed(a.out, a.seed, a.flows or 22000, a.packets, a.data_mult, a.midstream,
                           a.active, not a.no_fin, a.mix)
    else:
        n, f = write_flood(a.out, a.seed, a.flows or 1_000_000)
    print("%s: %d packets, %d flows" % (a.out, n, f))


if __name__ == "__main__":
    main()
