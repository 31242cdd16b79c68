#!/usr/bin/python3
"""Every byte charged to the memory cap is given back: once a replay has
ended its flows, vtls_memory_bytes holds the flow table's bucket array and
nothing else (8 bytes times a power of two). Covers TLS, MySQL, gRPC, nDPI's
held packets, the detection stash (midstream-plain, tcp-port-reuse), and a
generated cluster capture with the default cap and with --memcap 1, where
charges are refused and flows evicted all the time.

The sensor serves the gauge after the replay (--metrics-linger); the test
reads it over loopback and stops the sensor by PID. Stdlib only; run it
against the sanitizer build too.
"""
import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

CAPTURES = ("demo-cluster.pcap", "mysql-tls12.pcap", "grpc-tls.pcap", "ndpi-ssh.pcap",
            "midstream-plain.pcap", "tcp-port-reuse.pcap", "tls12-split-hello.pcap")
GAUGE = re.compile(r"^vtls_memory_bytes (\S+)$", re.M)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def memory_after(sensor, pcap, extra, tmp):
    """vtls_memory_bytes once the replay of pcap has ended, or an error text."""
    port = free_port()
    err_path = os.path.join(tmp, "stderr")
    with open(err_path, "w") as err:
        proc = subprocess.Popen([sensor, "-r", pcap, "--alerts", "/dev/null", "--flows",
                                 "/dev/null", "--metrics-listen", "127.0.0.1:%d" % port,
                                 "--metrics-linger", "60", *extra],
                                stdout=subprocess.DEVNULL, stderr=err)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with open(err_path) as f:
                text = f.read()
            if "serving metrics on port" in text:
                body = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port,
                                              timeout=10).read().decode()
                m = GAUGE.search(body)
                return float(m[1]) if m else "no vtls_memory_bytes in /metrics"
            if proc.poll() is not None:
                return "exited with %d: %s" % (proc.returncode, text[-2000:])
            time.sleep(0.05)
        return "the replay did not end in 120 s"
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def bucket_array_only(v):
    """8 bytes times a power of two of at least 64 (the table's first size)."""
    if not isinstance(v, float) or v != int(v) or v < 512 or int(v) % 8:
        return False
    n = int(v) // 8
    return n & (n - 1) == 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sensor", required=True)
    ap.add_argument("--pcaps", required=True)
    args = ap.parse_args()
    src = os.path.dirname(os.path.abspath(args.pcaps))
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        big = os.path.join(tmp, "gen.pcap")
        subprocess.run([sys.executable, os.path.join(src, "tests", "bench", "gen.py"),
                        "--packets", "60000", "--flows", "800", "--seed", "11", "mixed", big],
                       check=True, capture_output=True)
        runs = [(os.path.join(args.pcaps, c), []) for c in CAPTURES]
        runs += [(big, []), (big, ["--memcap", "1"]), (big, ["--memcap", "1", "--threads", "1"])]
        for pcap, extra in runs:
            v = memory_after(args.sensor, pcap, extra, tmp)
            what = "%s %s" % (os.path.basename(pcap), " ".join(extra))
            if bucket_array_only(v):
                print("ok %s: %d bytes left, the bucket array" % (what, v))
            else:
                failures.append("%s: %s" % (what, v))
    for f in failures:
        print("FAIL " + f)
    print("%d failures" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
