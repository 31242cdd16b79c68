#!/usr/bin/python3
"""The sensor built with ThreadSanitizer (vtls-sensor-tsan) replays every
capture in pcaps/ and a generated cluster capture with the reader thread,
once decoding on the reader only while it is ahead and once decoding every
packet there (VTLS_READER_NOTES=always). Any data race ends the run with
TSan's exit code 66; the test also checks that the reader line counts every
packet, and every one as decoded there when asked."""

import argparse
import os
import re
import subprocess
import sys
import tempfile

READER = re.compile(r"reader thread: (\d+) packets, (\d+) of them decoded there")
TOTAL = re.compile(r"vtls-sensor: (\d+) packets")


def replay(sensor, pcap, notes):
    env = dict(os.environ)
    env.pop("VTLS_READER_NOTES", None)
    if notes:
        env["VTLS_READER_NOTES"] = notes
    res = subprocess.run([sensor, "-r", pcap, "--threads", "2", "--alerts", "/dev/null",
                          "--flows", "/dev/null"], capture_output=True, text=True, env=env,
                         timeout=300)
    problems = []
    if res.returncode != 0 or "ThreadSanitizer" in res.stderr:
        problems.append("exit %d: %s" % (res.returncode, res.stderr[-3000:]))
    m, t = READER.search(res.stderr), TOTAL.search(res.stderr)
    if m is None or t is None or int(m[1]) != int(t[1]):
        problems.append("reader line %s, total %s" % (m and m[0], t and t[0]))
    elif notes == "always" and int(m[2]) != int(m[1]):
        problems.append("asked to decode every packet on the reader: " + m[0])
    return problems, (int(m[1]), int(m[2])) if m else (0, 0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sensor", required=True)
    ap.add_argument("--pcaps", required=True)
    args = ap.parse_args()
    src = os.path.dirname(os.path.abspath(args.pcaps))
    failures, runs, packets = [], 0, 0
    with tempfile.TemporaryDirectory() as tmp:
        big = os.path.join(tmp, "gen.pcap")
        subprocess.run([sys.executable, os.path.join(src, "tests", "bench", "gen.py"),
                        "--packets", "60000", "--flows", "800", "--seed", "5", "mixed", big],
                       check=True, capture_output=True)
        pcaps = sorted(os.path.join(args.pcaps, x) for x in os.listdir(args.pcaps)
                       if x.endswith((".pcap", ".pcapng")))
        for pcap in pcaps + [big]:
            for notes in (None, "always"):
                problems, (n, _noted) = replay(args.sensor, pcap, notes)
                runs += 1
                packets += n
                failures += ["%s (%s): %s" % (os.path.basename(pcap), notes or "auto", p)
                             for p in problems]
    for f in failures:
        print("FAIL " + f)
    ok = not failures and len(pcaps) > 50
    print("%s tsan_sensor: %d runs, %d packets through the reader thread, %d failures"
          % ("ok" if ok else "FAIL", runs, packets, len(failures)))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
