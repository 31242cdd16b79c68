#!/usr/bin/python3
"""Replay every capture in pcaps/ and check the sensor's flow records against
tshark's reading of the same file (`tshark -q -z conv,tcp`).

For each TCP conversation tshark lists, the sensor must report exactly one
flow with the same endpoints and the same packet counts each way; where the
capture holds the SYN (the flow is not midstream), the sensor's client must
be tshark's address A (the sender of the first packet). The same capture is
also read as pcapng (converted with editcap) and from stdin, and must give
the same records. Stdlib only.
"""
import argparse
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

CONV_RE = re.compile(
    r"^(?P<a>\S+):(?P<ap>\d+)\s+<->\s+(?P<b>\S+):(?P<bp>\d+)\s+"
    r"(?P<f_ba>\d+)\s+\S+\s+\S+\s+(?P<f_ab>\d+)\s+\S+\s+\S+\s+(?P<f_tot>\d+)"
    r"\s+\S+\s+\S+\s+(?P<rel>[0-9.]+)"
)


def tshark_convs(pcap):
    out = subprocess.run(
        ["tshark", "-n", "-r", pcap, "-q", "-z", "conv,tcp"],
        check=True, capture_output=True, text=True,
    ).stdout
    convs = []
    for line in out.splitlines():
        m = CONV_RE.match(line.strip())
        if m:
            convs.append({
                "a": (m["a"], int(m["ap"])), "b": (m["b"], int(m["bp"])),
                "a_to_b": int(m["f_ab"]), "b_to_a": int(m["f_ba"]),
                "rel_start": float(m["rel"]),
            })
    return convs


def tshark_syn_clients(pcap):
    """(client, server) endpoint pairs of every SYN without ACK."""
    out = subprocess.run(
        ["tshark", "-n", "-r", pcap, "-Y", "tcp.flags.syn==1 && tcp.flags.ack==0",
         "-T", "fields", "-e", "ip.src", "-e", "ipv6.src", "-e", "tcp.srcport",
         "-e", "ip.dst", "-e", "ipv6.dst", "-e", "tcp.dstport"],
        check=True, capture_output=True, text=True,
    ).stdout
    pairs = set()
    for line in out.splitlines():
        f = line.split("\t")
        # Tunnelled packets list the outer and inner addresses: the last is the inner one.
        src = (f[0] or f[1]).split(",")[-1]
        dst = (f[3] or f[4]).split(",")[-1]
        pairs.add(((src, int(f[2].split(",")[-1])), (dst, int(f[5].split(",")[-1]))))
    return pairs


def sensor_flows(sensor, args, stdin=None):
    res = subprocess.run(
        [sensor, "-q", "--flows", "-", "--alerts", "/dev/null", "--no-summary"] + args,
        capture_output=True, stdin=stdin, timeout=300,
    )
    if res.returncode != 0:
        raise AssertionError(f"sensor exited {res.returncode}: {res.stderr.decode()}")
    recs = [json.loads(line) for line in res.stdout.decode().splitlines() if line]
    for r in recs:
        assert r["event_type"] == "flow", r
    return recs


def key_of(rec):
    return ((rec["src_ip"], rec["src_port"]), (rec["dest_ip"], rec["dest_port"]))


def compare(c, r, syns):
    problems = []
    client, server = key_of(r)
    fl = r["flow"]
    if client == c["a"]:
        want = (c["a_to_b"], c["b_to_a"])
    else:
        want = (c["b_to_a"], c["a_to_b"])
    have = (fl["pkts_toserver"], fl["pkts_toclient"])
    if have != want:
        problems.append(f"{client}->{server}: packets {have}, tshark {want}")
    if (c["a"], c["b"]) in syns and not fl["midstream"] and client != c["a"]:
        problems.append(f"{c['a']}->{c['b']}: SYN sent by {c['a']} but sensor's client is "
                        f"{client}")
    if (c["a"], c["b"]) in syns and fl["midstream"]:
        problems.append(f"{c['a']}->{c['b']}: SYN seen but flow marked midstream")
    return problems


def check_capture(sensor, pcap):
    problems = []
    convs = tshark_convs(pcap)
    syns = tshark_syn_clients(pcap)
    recs = [r for r in sensor_flows(sensor, ["-r", pcap]) if r["proto"] == "TCP"]
    by_pair = {}
    for r in recs:
        by_pair.setdefault(frozenset(key_of(r)), []).append(r)

    # A pair of endpoints may carry several connections (port reuse): pair
    # them up in order of start time.
    for r in by_pair.values():
        r.sort(key=lambda rec: rec["flow"]["start"])
    for c in sorted(convs, key=lambda c: c["rel_start"]):
        pair = frozenset((c["a"], c["b"]))
        got = by_pair.get(pair, [])
        if not got:
            problems.append(f"{c['a']} <-> {c['b']}: no sensor flow for this tshark conversation")
            continue
        r = got.pop(0)
        if not got:
            del by_pair[pair]
        problems += compare(c, r, syns)
    for pair, extra in by_pair.items():
        problems.append(f"sensor flow(s) {sorted(pair)} not in tshark's conversations")
    return problems, len(convs), recs


def strip_volatile(recs):
    # flow_id depends on the per-run hash seed; everything else must be equal.
    return sorted(json.dumps({k: v for k, v in r.items() if k != "flow_id"}, sort_keys=True)
                  for r in recs)


def check_formats(sensor, pcap, recs):
    """pcapng and stdin must give the same records as the pcap file."""
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        ng = os.path.join(tmp, "x.pcapng")
        subprocess.run(["editcap", "-F", "pcapng", pcap, ng], check=True)
        if strip_volatile([r for r in sensor_flows(sensor, ["-r", ng]) if r["proto"] == "TCP"]) \
                != strip_volatile(recs):
            problems.append("pcapng copy gives different flow records")
    with open(pcap, "rb") as f:
        via_stdin = [r for r in sensor_flows(sensor, ["-r", "-"], stdin=f) if r["proto"] == "TCP"]
    if strip_volatile(via_stdin) != strip_volatile(recs):
        problems.append("stdin replay gives different flow records")
    return problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sensor", required=True)
    ap.add_argument("--pcaps", required=True)
    args = ap.parse_args()
    pcaps = sorted(glob.glob(os.path.join(args.pcaps, "*.pcap")))
    if not pcaps:
        print("no captures found", file=sys.stderr)
        return 1
    failed = 0
    total_convs = 0
    for pcap in pcaps:
        problems, n, recs = check_capture(args.sensor, pcap)
        problems += check_formats(args.sensor, pcap, recs)
        total_convs += n
        name = os.path.basename(pcap)
        if problems:
            failed += 1
            print(f"FAIL {name}:")
            for p in problems:
                print(f"    {p}")
        else:
            print(f"ok   {name}: {n} TCP conversations match tshark")
    print(f"{len(pcaps)} captures, {total_convs} conversations, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
