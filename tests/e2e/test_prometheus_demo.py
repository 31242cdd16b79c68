#!/usr/bin/python3
"""A real Prometheus scrapes vtls-sensor while it replays the demo cluster
capture (and lingers), and its HTTP API must report what the capture's
expected file says: flows per path and encryption, alerts per rule, and the
packet count capinfos reads. Runs tests/e2e/test_prometheus.py with the
sensor as target; exit 77 (skip) when Prometheus is not installed.

    test_prometheus_demo.py --sensor build/vtls-sensor --pcaps pcaps [--tls]
"""
import argparse
import collections
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def expectations(pcaps):
    exp = json.load(open(os.path.join(pcaps, "expected", "demo-cluster.json")))
    flows = collections.Counter()
    alert_keys = collections.defaultdict(set)
    for f in exp["flows"]:
        enc = "tls" if f["encrypted"] else "plaintext"
        flows[(f["client_component"], f["server_component"], enc)] += 1
        for rule in f["rules"]:
            # De-duplication: one alert per rule, client, server and port per hour.
            alert_keys[rule].add((f["client"], f["server"], f["server_port"]))
    out = []
    for (client, server, enc), n in sorted(flows.items()):
        out.append('sum(vtls_flows_total{client="%s",server="%s",encryption="%s"})=%d'
                   % (client, server, enc, n))
    for rule, keys in sorted(alert_keys.items()):
        out.append('sum(vtls_alerts_total{rule="%s"})=%d' % (rule, len(keys)))
    info = subprocess.run(["capinfos", "-c", "-M", os.path.join(pcaps, "demo-cluster.pcap")],
                          capture_output=True, text=True, check=True).stdout
    out.append("vtls_packets_total=%s" % re.search(r"packets:\s+(\d+)", info).group(1))
    out.append('vtls_build_info{version=~".+"}=1')
    out.append("vtls_rules_loaded > bool 0=1")
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sensor", required=True)
    ap.add_argument("--pcaps", required=True)
    ap.add_argument("--tls", action="store_true")
    args = ap.parse_args()
    pcaps = os.path.abspath(args.pcaps)
    target = ("%s -q --no-summary -r %s/demo-cluster.pcap --inventory "
              "%s/demo-cluster.inventory.yaml --ca-bundle %s/certs/ca.pem --alerts /dev/null "
              "--metrics-listen 127.0.0.1:{port} --metrics-linger 120 {web_config_opt}"
              % (os.path.abspath(args.sensor), pcaps, pcaps, pcaps))
    cmd = [sys.executable, os.path.join(HERE, "test_prometheus.py"), "--target-cmd", target]
    if args.tls:
        cmd.append("--tls")
    for e in expectations(pcaps):
        cmd += ["--expect", e]
    return subprocess.call(cmd)


if __name__ == "__main__":
    sys.exit(main())
