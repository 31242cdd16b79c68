#!/usr/bin/python3
"""Extract TLS conversations from pcaps/*.pcap into text fixtures for
tests/unit/test_tls_pcap.c, with tshark's reading of the same handshake.

For every TCP stream holding a ClientHello: the reassembled bytes of each
direction (tshark `follow,tcp,raw`), starting at the first segment that
begins a TLS or SSLv2 record (so a MySQL SSLRequest prefix is dropped),
at most 16 KiB per direction, and the fields tshark decodes: JA3/JA3S
(full string and MD5), SNI, ALPN, cipher and versions.

Usage: tests/unit/data/gen_tls_fixtures.py   (from the repository root)
Output: tests/unit/data/tls_pcap/<capture>.<stream>.txt
"""
import glob
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
OUT = os.path.join(ROOT, "tests", "unit", "data", "tls_pcap")
CAP = 16 * 1024


def tshark(args):
    return subprocess.run(["tshark"] + args, capture_output=True, text=True, check=True).stdout


def fields(pcap, flt, names):
    out = tshark(["-r", pcap, "-Y", flt, "-T", "fields", "-E", "separator=|"] +
                 sum([["-e", n] for n in names], []))
    rows = []
    for line in out.splitlines():
        rows.append(dict(zip(names, line.split("|"))))
    return rows


def follow(pcap, stream):
    out = tshark(["-r", pcap, "-q", "-z", "follow,tcp,raw,%d" % stream])
    segs = []
    for line in out.splitlines():
        if not line or line.startswith(("=", "Follow", "Filter", "Node")):
            continue
        d = "S" if line.startswith("\t") else "C"
        segs.append((d, line.strip()))
    return segs


def tls_start(hexs):
    return hexs[:4] in ("1603", "1503", "1403") or (hexs[:2] >= "80" and hexs[4:6] == "01")


def main():
    os.makedirs(OUT, exist_ok=True)
    for old in glob.glob(os.path.join(OUT, "*.txt")):
        os.remove(old)
    for pcap in sorted(glob.glob(os.path.join(ROOT, "pcaps", "*.pcap"))):
        name = os.path.basename(pcap)[:-5]
        chs = fields(pcap, "tls.handshake.type == 1",
                     ["tcp.stream", "tls.handshake.ja3_full", "tls.handshake.ja3",
                      "tls.handshake.extensions_server_name", "tls.handshake.extensions_alpn_str"])
        shs = fields(pcap, "tls.handshake.type == 2",
                     ["tcp.stream", "tls.handshake.ja3s_full", "tls.handshake.ja3s",
                      "tls.handshake.ciphersuite", "tls.handshake.extensions.supported_version",
                      "tls.handshake.version"])
        seen = set()
        for ch in chs:
            stream = int(ch["tcp.stream"].split(",")[0])
            if stream in seen:
                continue  # a second hello after HelloRetryRequest
            seen.add(stream)
            sh = [r for r in shs if int(r["tcp.stream"].split(",")[0]) == stream]
            lines = ["# %s stream %d, made by tests/unit/data/gen_tls_fixtures.py" %
                     (os.path.basename(pcap), stream)]
            lines.append("ja3_full " + ch["tls.handshake.ja3_full"])
            lines.append("ja3 " + ch["tls.handshake.ja3"])
            lines.append("sni " + ch["tls.handshake.extensions_server_name"])
            lines.append("alpn " + ch["tls.handshake.extensions_alpn_str"].split(",")[0])
            if sh:
                last = sh[-1]  # the ServerHello after any HelloRetryRequest
                lines.append("ja3s_full " + last["tls.handshake.ja3s_full"])
                lines.append("ja3s " + last["tls.handshake.ja3s"])
                lines.append("cipher " + last["tls.handshake.ciphersuite"])
                ver = last["tls.handshake.extensions.supported_version"] or \
                    last["tls.handshake.version"]
                lines.append("version " + ver.split(",")[-1])
            started = {"C": False, "S": False}
            size = {"C": 0, "S": 0}
            for d, hexs in follow(pcap, stream):
                if not started[d]:
                    if not tls_start(hexs):
                        continue
                    started[d] = True
                if size[d] >= CAP:
                    continue
                hexs = hexs[:2 * (CAP - size[d])]
                size[d] += len(hexs) // 2
                lines.append("%s %s" % (d, hexs))
            with open(os.path.join(OUT, "%s.%d.txt" % (name, stream)), "w") as f:
                f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
