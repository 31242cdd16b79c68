#!/usr/bin/python3
"""The command line and the configuration file: --config with the command
line winning, errors with FILE:LINE:COLUMN, --check-rules keeping every
error, --list-fields, usage errors (status 2), --version. Stdlib only."""
import argparse
import json
import os
import subprocess
import sys
import tempfile

FAILURES = []


def check(cond, what):
    if not cond:
        FAILURES.append(what)
    print(("ok   " if cond else "FAIL ") + what)


def run(sensor, *args):
    return subprocess.run([sensor] + list(args), capture_output=True, text=True, timeout=120)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sensor", required=True)
    ap.add_argument("--pcaps", required=True)
    a = ap.parse_args()
    demo = os.path.join(a.pcaps, "demo-cluster.pcap")
    inv = os.path.join(a.pcaps, "demo-cluster.inventory.yaml")
    with tempfile.TemporaryDirectory() as tmp:
        cfg = os.path.join(tmp, "vtls.yaml")
        flows = os.path.join(tmp, "flows.json")
        with open(cfg, "w") as f:
            f.write(f"inventory: {inv}\nflows: {flows}\nalerts: /dev/null\n"
                    f"no-ndpi: true\nsummary: false\n")
        res = run(a.sensor, "-q", "--config", cfg, "-r", demo)
        recs = [json.loads(x) for x in open(flows)] if os.path.exists(flows) else []
        check(res.returncode == 0 and len(recs) == 18, f"--config: flows written ({len(recs)})")
        check(any(r.get("vitess", {}).get("evidence") == "inventory" for r in recs),
              "--config: the inventory from the file is used")
        res = run(a.sensor, "-q", "--config", cfg, "-r", demo, "--flows", "-")
        check(res.returncode == 0 and res.stdout.count('"event_type":"flow"') == 18,
              "--config: the command line wins (--flows -)")

        with open(cfg, "w") as f:
            f.write("inventory: x\ncolour: red\n")
        res = run(a.sensor, "--config", cfg, "-r", demo)
        check(res.returncode == 2 and f"{cfg}:2:1: unknown option colour" in res.stderr,
              f"--config: unknown key at its position ({res.stderr.strip()})")

        bad = os.path.join(tmp, "bad.yaml")
        with open(bad, "w") as f:
            f.write("- rule: a\n  desc: x\n  condition: tls.verison = \"TLS 1.2\"\n"
                    "  output: x\n  severity: high\n"
                    "- rule: b\n  desc: x\n  condition: flow.encrypted = false\n"
                    "  output: x\n  severity: loud\n")
        res = run(a.sensor, "--check-rules", "--rules", bad)
        lines = [x for x in res.stderr.splitlines() if x.startswith(bad + ":")]
        check(res.returncode == 1 and len(lines) >= 2,
              f"--check-rules: status 1 and every error with its position ({lines})")
        check(any(":3:" in x and "tls.version" in x for x in lines),
              "--check-rules: the nearest field name is suggested")
        res = run(a.sensor, "--check-rules")
        check(res.returncode == 0, "--check-rules: the default policy is valid")
        res = run(a.sensor, "--list-fields")
        check(res.returncode == 0 and "tls.version" in res.stdout and "cert.days_left" in
              res.stdout, "--list-fields")
        for args in (["-r"], ["-r", demo, "-i", "lo"], ["--memcap", "lots", "-r", demo],
                     ["--alert-format", "xml", "-r", demo], []):
            res = run(a.sensor, *args)
            check(res.returncode == 2, f"usage error {args}: status 2 ({res.returncode})")
        if os.geteuid() == 0:
            res = run(a.sensor, "-q", "-r", demo, "--user", "nobody", "--alerts", "-",
                      "--no-summary")
            check(res.returncode == 0 and res.stdout.count('"event_type":"alert"') > 0,
                  "--user nobody: privileges dropped once the capture is open, replay goes on")
            res = run(a.sensor, "-r", demo, "--user", "no-such-user-vtls")
            check(res.returncode == 1 and "no-such-user-vtls" in res.stderr,
                  "--user with an unknown name: status 1, named")
        res = run(a.sensor, "--version")
        check(res.returncode == 0 and res.stdout.startswith("vtls-sensor "), "--version")
        res = run(a.sensor, "-r", demo, "--inventory", os.path.join(tmp, "nope.yaml"))
        check(res.returncode == 1 and "nope.yaml" in res.stderr, "missing inventory: status 1")
    print(f"{len(FAILURES)} failures")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
