#!/usr/bin/python3
"""Bad captures give clear errors and lose nothing before the damage.

- Every capture cut at several points inside its records: exit status 1, an
  error naming the file and the packet number that could not be read, and a
  flow record for every flow seen before the cut.
- Every capture re-written with small snaplens (editcap -s): exit status 0,
  the cut layers counted as malformed, never a crash.
- A cut header, a garbage file, a missing file: exit status 1 and the file
  named in the message.
Stdlib only; run it against the sanitizer build too.
"""
import argparse
import glob
import os
import re
import struct
import subprocess
import sys
import tempfile

SNAPLENS = [1, 14, 18, 20, 34, 40, 54, 60, 66, 80, 128]


def run(sensor, args):
    return subprocess.run([sensor, "--flows", "-", "--alerts", "/dev/null", "--no-summary"] + args,
                          capture_output=True, text=True, timeout=300)


def check_crashless(res, what):
    if res.returncode < 0 or res.returncode > 2 or "Sanitizer" in res.stderr:
        return [f"{what}: crashed (status {res.returncode}): {res.stderr[-2000:]}"]
    return []


def record_offsets(data):
    """Start offsets of the records of a classic pcap file (either byte order)."""
    endian = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    offs, pos = [], 24
    while pos + 16 <= len(data):
        caplen = struct.unpack(endian + "I", data[pos + 8:pos + 12])[0]
        offs.append(pos)
        pos += 16 + caplen
    return offs


def check_cuts(sensor, pcap, tmp):
    problems = []
    data = open(pcap, "rb").read()
    offs = record_offsets(data)
    if len(offs) < 4:
        return [f"only {len(offs)} records: too short to test"]
    # Inside a record's data, inside a record header, and inside the data of the last.
    cuts = [offs[len(offs) * 3 // 10] + 16 + 1, offs[len(offs) * 55 // 100] + 5, len(data) - 1]
    # A capture of only IP fragments has no flows even whole.
    flows_whole = bool(run(sensor, ["-r", pcap]).stdout.strip())
    for cut in cuts:
        path = os.path.join(tmp, "cut.pcap")
        with open(path, "wb") as f:
            f.write(data[:cut])
        res = run(sensor, ["-r", path])
        problems += check_crashless(res, f"cut at {cut}")
        m = re.search(re.escape(path) + r": packet (\d+): ", res.stderr)
        if res.returncode != 1 or not m:
            problems.append(f"cut at {cut}: want status 1 and 'FILE: packet N:', got "
                            f"{res.returncode}: {res.stderr.strip()[-300:]}")
            continue
        good = int(m.group(1)) - 1
        if good > 0 and flows_whole and not res.stdout.strip():
            problems.append(f"cut at {cut}: {good} good packets but no flow record")
        summary = re.search(r"vtls-sensor: (\d+) packets", res.stderr)
        if not summary or int(summary.group(1)) != good:
            problems.append(f"cut at {cut}: summary does not report the {good} good packets")
    return problems


def check_snaplens(sensor, pcap, tmp):
    problems = []
    for snap in SNAPLENS:
        path = os.path.join(tmp, f"snap{snap}.pcap")
        subprocess.run(["editcap", "-s", str(snap), pcap, path], check=True)
        res = run(sensor, ["-r", path])
        problems += check_crashless(res, f"snaplen {snap}")
        if res.returncode != 0:
            problems.append(f"snaplen {snap}: status {res.returncode}: {res.stderr[-300:]}")
            continue
        m = re.search(r"(\d+) packets, \d+ bytes, (\d+) decoded, (\d+) malformed", res.stderr)
        if not m:
            problems.append(f"snaplen {snap}: no summary")
        elif snap <= 34 and int(m.group(3)) == 0:
            problems.append(f"snaplen {snap}: every packet cut short but none counted malformed")
    return problems


def check_bad_files(sensor, tmp):
    problems = []
    cases = {"header.pcap": b"\xd4\xc3\xb2\xa1\x02\x00", "garbage.pcap": bytes(range(256)) * 8}
    for name, content in cases.items():
        path = os.path.join(tmp, name)
        with open(path, "wb") as f:
            f.write(content)
        res = run(sensor, ["-r", path])
        problems += check_crashless(res, name)
        if res.returncode != 1 or path not in res.stderr:
            problems.append(f"{name}: want status 1 naming the file, got {res.returncode}: "
                            f"{res.stderr.strip()}")
    res = run(sensor, ["-r", os.path.join(tmp, "missing.pcap")])
    if res.returncode != 1 or "missing.pcap" not in res.stderr:
        problems.append(f"missing file: {res.returncode}: {res.stderr.strip()}")
    return problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sensor", required=True)
    ap.add_argument("--pcaps", required=True)
    args = ap.parse_args()
    pcaps = sorted(glob.glob(os.path.join(args.pcaps, "*.pcap")))
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        problems = check_bad_files(args.sensor, tmp)
        for pcap in pcaps:
            problems_here = check_cuts(args.sensor, pcap, tmp) + \
                check_snaplens(args.sensor, pcap, tmp)
            name = os.path.basename(pcap)
            print(("FAIL " if problems_here else "ok   ") + name)
            for p in problems_here:
                print("    " + p)
            failed += bool(problems_here)
        for p in problems:
            print("FAIL " + p)
        failed += len(problems)
    print(f"{len(pcaps)} captures cut at 3 points and at {len(SNAPLENS)} snaplens; "
          f"{failed} failures")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
