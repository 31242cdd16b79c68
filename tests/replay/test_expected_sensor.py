#!/usr/bin/python3
"""Every capture in pcaps/ gives what its expected file states.

pcaps/expected/NAME.json is written from what the script that made the
capture configured (never from the sensor's output). For each expected flow
the sensor's flow record must agree on: app, encryption, midstream, end
reason, client and server component, VLAN, the TLS facts (version, cipher,
SNI, ALPN, resumption, client certificate, alert, certificate facts), the
MySQL facts, the first gRPC path of a plaintext flow, and the default rules
that fire. Captures replay with the inventory their expected file names, or
with NAME.inventory.yaml when there is one; every replay
uses pcaps/certs/ca.pem as the CA bundle and no alert de-duplication.
Stdlib only.
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile


def run_sensor(sensor, pcaps, capture, tmp, inventory=None):
    flows, alerts = os.path.join(tmp, "flows.json"), os.path.join(tmp, "alerts.json")
    for p in (flows, alerts):
        if os.path.exists(p):
            os.unlink(p)
    name = os.path.splitext(capture)[0]
    args = [sensor, "-q", "-r", os.path.join(pcaps, capture), "--flows", flows,
            "--alerts", alerts, "--dedup-window", "0", "--no-summary",
            "--ca-bundle", os.path.join(pcaps, "certs", "ca.pem")]
    inv = os.path.join(pcaps, inventory or name + ".inventory.yaml")
    if os.path.exists(inv):
        args += ["--inventory", inv]
    res = subprocess.run(args, capture_output=True, text=True, timeout=300)
    if res.returncode != 0:
        raise AssertionError(f"sensor exited {res.returncode}: {res.stderr}")
    load = lambda p: [json.loads(line) for line in open(p) if line.strip()]
    return load(flows), load(alerts)


def match_flows(expected, records):
    """Pair expected flows with records: same endpoints (and client port when
    pinned), in order of appearance."""
    pool = sorted(records, key=lambda r: r["flow"]["start"])
    pairs = []
    for e in expected:
        found = None
        for r in pool:
            if (r["src_ip"], r["dest_ip"], r["dest_port"]) != (e["client"], e["server"],
                                                               e["server_port"]):
                continue
            if e.get("client_port") not in (None, r["src_port"]):
                continue
            found = r
            break
        if found is not None:
            pool.remove(found)
        pairs.append((e, found))
    return pairs


def norm_version(v):
    return v[6:] if isinstance(v, str) and v.startswith("5.5.5-") else v


def compare(path, want, have, problems):
    if want is not None and have != want:
        problems.append(f"{path}: expected {want!r}, sensor says {have!r}")


def check_tls(e, r, problems):
    want, have = e.get("tls") or {}, r.get("tls") or {}
    for key in ("version", "cipher", "sni", "resumed", "client_cert", "alert"):
        if key in want:
            compare("tls." + key, want[key], have.get(key), problems)
    # The server's ALPN choice is encrypted in TLS 1.3: then the client must have offered it.
    if want.get("alpn") and "alpn" not in have:
        offered = (have.get("alpn_offered") or "").split(",")
        if want["alpn"] not in offered:
            problems.append(f"tls.alpn: expected {want['alpn']!r}, not among the offered "
                            f"{offered}")
    elif "alpn" in want:
        compare("tls.alpn", want["alpn"], have.get("alpn"), problems)
    wc, hc = want.get("cert") or {}, have.get("cert") or {}
    for key, val in wc.items():
        if key == "not_after":
            compare("tls.cert.not_after", val, (hc.get("not_after") or "")[:len(val)] or None,
                    problems)
        else:
            compare("tls.cert." + key, val, hc.get(key), problems)


def check_mysql(e, r, problems):
    want, have = e.get("mysql") or {}, r.get("mysql") or {}
    for key in ("server_ssl", "client_ssl", "downgrade", "auth_plugin", "user"):
        if key in want:
            compare("mysql." + key, want[key], have.get(key), problems)
    if "server_version" in want:
        compare("mysql.server_version", norm_version(want["server_version"]),
                norm_version(have.get("server_version")), problems)


def check_flow(e, r, problems):
    compare("app", e.get("app"), r.get("app_proto"), problems)
    enc = {"tls": True, "plaintext": False}.get(r.get("encryption"), "unknown")
    compare("encrypted", e.get("encrypted"), enc, problems)
    compare("midstream", e.get("midstream"), r["flow"]["midstream"], problems)
    if e.get("end") in ("fin", "rst"):
        compare("end", e["end"], r["flow"]["reason"], problems)
    v = r.get("vitess") or {}
    compare("client_component", e.get("client_component"), v.get("client"), problems)
    compare("server_component", e.get("server_component"), v.get("server"), problems)
    if e.get("vlan"):
        compare("vlan", e["vlan"], r.get("vlan"), problems)
    check_tls(e, r, problems)
    check_mysql(e, r, problems)
    paths = (e.get("grpc") or {}).get("paths")
    if paths and e.get("encrypted") is False:
        compare("grpc.path", paths[0], (r.get("grpc") or {}).get("path"), problems)


def check_rules(pairs, alerts, problems):
    """Flow rules must fire on their flow; certificate rules fire once per
    certificate, so anywhere in the capture; nothing else may fire."""
    by_flow = {}
    for a in alerts:
        by_flow.setdefault(a["flow_id"], set()).add(a["alert"]["rule"])
    fired = set().union(*by_flow.values()) if by_flow else set()
    wanted = set()
    for e, r in pairs:
        want = set(e.get("rules") or [])
        wanted |= want
        if r is None:
            continue
        missing = {x for x in want - by_flow.get(r["flow_id"], set())
                   if not (x.startswith("cert-") and x in fired)}
        if missing:
            problems.append(f"{e['client']} -> {e['server']}:{e['server_port']}: rules "
                            f"{sorted(missing)} did not fire")
    extra = fired - wanted
    if extra:
        problems.append(f"rules fired that the expected file does not list: {sorted(extra)}")


def check_capture(sensor, pcaps, exp_path, tmp):
    exp = json.load(open(exp_path))
    name = os.path.splitext(exp["capture"])[0]
    flows, alerts = run_sensor(sensor, pcaps, exp["capture"], tmp, exp.get("inventory"))
    tcp = [r for r in flows if r["proto"] == "TCP"]
    pairs = match_flows(exp["flows"], tcp)
    problems = []
    for e, r in pairs:
        here = []
        if r is None:
            here.append("no such flow in the sensor's records")
        else:
            check_flow(e, r, here)
        problems += [f"{e['client']} -> {e['server']}:{e['server_port']}: {p}" for p in here]
    check_rules(pairs, alerts, problems)
    return name, len(pairs), problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sensor", required=True)
    ap.add_argument("--pcaps", required=True)
    ap.add_argument("only", nargs="*", help="capture names to check (default: all)")
    args = ap.parse_args()
    files = sorted(glob.glob(os.path.join(args.pcaps, "expected", "*.json")))
    if args.only:
        files = [f for f in files if os.path.basename(f)[:-5] in args.only]
    failed = total = 0
    with tempfile.TemporaryDirectory() as tmp:
        for f in files:
            name, n, problems = check_capture(args.sensor, args.pcaps, f, tmp)
            total += n
            print(("FAIL " if problems else "ok   ") + f"{name}: {n} flows")
            for p in problems:
                print("    " + p)
            failed += bool(problems)
    print(f"{len(files)} captures, {total} expected flows, {failed} captures failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
