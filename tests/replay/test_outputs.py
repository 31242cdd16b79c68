#!/usr/bin/python3
"""Outputs on real captures: alert records field by field in the EVE and ECS
layouts, de-duplication in packet time, reopening the alerts file on SIGHUP,
a full disk, and GeoIP/zone enrichment in alerts and in a rule condition.
Stdlib only.
"""
import argparse
import json
import os
import re
import signal
import struct
import subprocess
import sys
import tempfile
import time

FAILURES = []


def check(cond, what):
    if not cond:
        FAILURES.append(what)
    print(("ok   " if cond else "FAIL ") + what)


def sensor_run(args, *extra, stdin=None):
    return subprocess.run([args.sensor, "-q", "--no-summary"] + list(extra),
                          capture_output=True, text=True, stdin=stdin, timeout=300)


def alerts_of(args, pcap, *extra):
    res = sensor_run(args, "-r", os.path.join(args.pcaps, pcap), "--alerts", "-", *extra)
    assert res.returncode == 0, res.stderr
    return [json.loads(line) for line in res.stdout.splitlines() if line.strip()]


def demo_args(args):
    return ["--inventory", os.path.join(args.pcaps, "demo-cluster.inventory.yaml"),
            "--ca-bundle", os.path.join(args.pcaps, "certs", "ca.pem")]


TS_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def test_eve(args):
    alerts = alerts_of(args, "demo-cluster.pcap", *demo_args(args))
    ping = [a for a in alerts if a["alert"]["rule"] == "plaintext-vtctld-to-vttablet"]
    check(len(ping) == 2, f"EVE: 2 plaintext vtctld->vttablet alerts (got {len(ping)})")
    if not ping:
        return
    a = ping[0]
    check(TS_RE.match(a["timestamp"]) is not None, "EVE: timestamp ISO 8601 with microseconds")
    check(a["event_type"] == "alert", "EVE: event_type alert")
    check(a["src_ip"] == "10.99.40.1" and a["dest_port"] == 16001, "EVE: client and server")
    check(a["proto"] == "TCP" and a["community_id"].startswith("1:"), "EVE: proto, community_id")
    check(isinstance(a["flow_id"], int), "EVE: flow_id")
    check(a["app_proto"] == "grpc" and a["encryption"] == "plaintext", "EVE: app and encryption")
    check(a["vitess"] == {"client": "vtctld", "server": "vttablet", "evidence": "inventory"},
          f"EVE: vitess object {a['vitess']}")
    check(a["grpc"]["path"] == "/tabletmanagerservice.TabletManager/Ping", "EVE: gRPC path")
    al = a["alert"]
    check(al["severity"] == "high" and isinstance(al["tags"], list) and al["tags"],
          "EVE: severity and tags")
    check("10.99.40.1" in al["message"] or "vtctld" in al["message"],
          f"EVE: message from the template: {al['message']}")


def test_ecs(args):
    alerts = alerts_of(args, "tls10-cbc.pcap", "--alert-format", "ecs", "--ca-bundle",
                       os.path.join(args.pcaps, "certs", "ca.pem"))
    old = [a for a in alerts if a["rule"]["name"] == "tls-version-below-1.2"]
    check(len(old) == 1, f"ECS: one tls-version-below-1.2 alert (got {len(old)})")
    if not old:
        return
    a = old[0]
    check(a["event"]["kind"] == "alert" and a["@timestamp"].endswith("Z"), "ECS: event.kind")
    check(a["source"]["ip"] == "10.99.0.1" and a["destination"]["port"] == 4433,
          "ECS: source and destination")
    check(a["network"]["community_id"].startswith("1:") and a["network"]["transport"] == "tcp",
          "ECS: network")
    check(a["tls"]["version"] == "1.0" and a["tls"]["version_protocol"] == "tls",
          f"ECS: tls.version {a['tls'].get('version')}")
    check(a["tls"]["server"]["x509"]["subject"]["common_name"] == "server.test",
          "ECS: server certificate subject")
    check(isinstance(a["event"]["severity"], int), "ECS: numeric severity")


def test_dedup(args):
    once = alerts_of(args, "etcd-peer-plain.pcap")
    every = alerts_of(args, "etcd-peer-plain.pcap", "--dedup-window", "0")
    peer_once = [a for a in once if a["alert"]["rule"] == "plaintext-etcd-peer"]
    peer_all = [a for a in every if a["alert"]["rule"] == "plaintext-etcd-peer"]
    keys = {(a["src_ip"], a["dest_ip"], a["dest_port"]) for a in peer_all}
    check(len(peer_all) > len(keys), f"dedup: {len(peer_all)} flows over {len(keys)} keys")
    check(len(peer_once) == len(keys),
          f"dedup: one alert per key and hour ({len(peer_once)} for {len(keys)} keys)")


def pcap_records(path):
    data = open(path, "rb").read()
    recs, pos = [], 24
    while pos + 16 <= len(data):
        caplen = struct.unpack("<I", data[pos + 8:pos + 12])[0]
        recs.append(data[pos:pos + 16 + caplen])
        pos += 16 + caplen
    return data[:24], recs


def wait_lines(path, n, timeout=20):
    end = time.time() + timeout
    while time.time() < end:
        if os.path.exists(path) and sum(1 for _ in open(path)) >= n:
            return True
        time.sleep(0.05)
    return False


def test_sighup(args, tmp):
    hdr, first = pcap_records(os.path.join(args.pcaps, "mysql-downgrade.pcap"))
    _, second = pcap_records(os.path.join(args.pcaps, "etcd-peer-plain.pcap"))
    path = os.path.join(tmp, "alerts.json")
    p = subprocess.Popen([args.sensor, "-q", "--no-summary", "-r", "-", "--alerts", path],
                         stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdin.write(hdr + b"".join(first))
    p.stdin.flush()
    got_first = wait_lines(path, 1)
    os.rename(path, path + ".1")
    p.send_signal(signal.SIGHUP)
    time.sleep(0.5)
    p.stdin.write(b"".join(second))
    p.stdin.close()
    rc = p.wait(timeout=60)
    rotated = [json.loads(x)["alert"]["rule"] for x in open(path + ".1")]
    fresh = [json.loads(x)["alert"]["rule"] for x in open(path)] if os.path.exists(path) else []
    check(rc == 0 and got_first, "SIGHUP: replay from a pipe ran")
    check("mysql-tls-downgrade" in rotated and "plaintext-etcd-peer" not in rotated,
          f"SIGHUP: alerts before the signal stay in the rotated file {sorted(set(rotated))}")
    check("plaintext-etcd-peer" in fresh,
          f"SIGHUP: alerts after the signal go to the reopened file {sorted(set(fresh))}")


def test_full_disk(args):
    res = sensor_run(args, "-r", os.path.join(args.pcaps, "demo-cluster.pcap"),
                     "--alerts", "/dev/full", *demo_args(args))
    lines = [x for x in res.stderr.splitlines() if "/dev/full" in x]
    check(res.returncode == 0, f"/dev/full: the replay completes (status {res.returncode})")
    check(len(lines) == 1, f"/dev/full: one rate-limited report, not one per alert ({lines})")


def test_geo(args, tmp):
    mmdb = os.path.join(args.src, "tests", "unit", "data", "geo", "demo-zones.mmdb")
    alerts = alerts_of(args, "demo-cluster.pcap", "--geoip", mmdb, *demo_args(args))
    ping = [a for a in alerts if a["alert"]["rule"] == "plaintext-vtctld-to-vttablet"]
    check(bool(ping) and ping[0].get("geo", {}).get("src", {}).get("cell") == "control"
          and ping[0]["geo"]["dst"].get("zone") == "core",
          f"geo: zone and cell in alerts {ping[0].get('geo') if ping else None}")
    rules = os.path.join(tmp, "geo.yaml")
    with open(rules, "w") as f:
        f.write("- rule: plaintext-from-control-cell\n"
                "  desc: plaintext from the control cell\n"
                "  condition: geo.src.cell = control and flow.encrypted = false\n"
                "  output: '%flow.src_ip in %geo.src.zone'\n"
                "  severity: low\n")
    res = sensor_run(args, "-r", os.path.join(args.pcaps, "demo-cluster.pcap"), "--rules", rules,
                     "--geoip", mmdb, "--alerts", "-", *demo_args(args))
    got = [json.loads(x) for x in res.stdout.splitlines() if x.strip()]
    srcs = {a["src_ip"] for a in got}
    check(res.returncode == 0 and len(got) == 4 and srcs == {"10.99.40.1"},
          f"geo: a rule on geo.src.cell fires for the 4 plaintext vtctld flows ({len(got)}, "
          f"{srcs}) {res.stderr.strip()[:200]}")
    check(bool(got) and got[0]["alert"]["message"].endswith("in core"),
          f"geo: %geo.src.zone in the message ({got[0]['alert']['message'] if got else ''})")


def flows_of(args, pcap, *extra):
    res = sensor_run(args, "-r", os.path.join(args.pcaps, pcap), "--flows", "-", "--alerts",
                     "/dev/null", *extra)
    assert res.returncode == 0, res.stderr
    return [json.loads(line) for line in res.stdout.splitlines() if line.strip()]


def test_flow_tls(args):
    ca = ["--ca-bundle", os.path.join(args.pcaps, "certs", "ca.pem")]
    rec = flows_of(args, "cert-unknown-ca.pcap", *ca)[0]
    chain = rec["tls"].get("chain", [])
    check(len(chain) == 2 and chain[0]["issuer"] == chain[1]["subject"]
          and chain[0]["sha256"] == rec["tls"]["cert"]["sha256"],
          f"flow record: tls.chain as sent, leaf first ({len(chain)} certificates)")
    check(rec["tls"]["cert"]["chain_valid"] is False and rec["tls"]["cert"]["chain_error"],
          "flow record: chain validation result and OpenSSL's reason")
    rec13 = flows_of(args, "tls13-basic.pcap", *ca)[0]
    check(rec13["tls"]["cert"] == {"observable": False} and "chain" not in rec13["tls"],
          "flow record: TLS 1.3 says the certificate was not observable")


def test_unparseable_cert(args, tmp):
    """A certificate whose DER OpenSSL rejects (outer length made to lie) is
    reported as unparseable, not a crash."""
    data = bytearray(open(os.path.join(args.pcaps, "tls12-basic.pcap"), "rb").read())
    done = False
    for i in range(3, len(data) - 4):
        if data[i] == 0x30 and data[i + 1] == 0x82:
            inner = (data[i + 2] << 8 | data[i + 3]) + 4
            outer = data[i - 3] << 16 | data[i - 2] << 8 | data[i - 1]
            if inner == outer and inner > 200:
                data[i + 2], data[i + 3] = 0xff, 0xff
                done = True
                break
    path = os.path.join(tmp, "badcert.pcap")
    open(path, "wb").write(data)
    res = sensor_run(args, "-r", path, "--flows", "-", "--alerts", "/dev/null")
    recs = [json.loads(x) for x in res.stdout.splitlines() if x.strip()]
    cert = recs[0]["tls"]["cert"] if recs and "tls" in recs[0] else {}
    check(done and res.returncode == 0 and cert.get("unparseable") is True
          and "subject" not in cert and cert.get("sha256"),
          f"unparseable certificate reported as such ({cert})")


def test_ndpi_flows(args):
    """Real OpenSSH clients (pcaps/ndpi-ssh.pcap): a flow with one payload
    segment is shown to nDPI only when it ends (its packet held until then),
    one with more payload from its second segment; both are named SSH with
    nDPI's risk, and neither is called plaintext. The risk names once came
    from a dangling pointer, which lost the whole record."""
    recs = flows_of(args, "ndpi-ssh.pcap")
    by_port = {r["dest_port"]: r for r in recs}
    for port in (2222, 2223):
        r = by_port.get(port, {})
        check(r.get("ndpi", {}).get("protocol") == "SSH"
              and "Known Protocol on Non Standard Port" in r["ndpi"].get("risks", []),
              f"flow to {port}: nDPI names SSH and its risk ({r.get('ndpi')})")
        check(r.get("encryption") == "unknown" and r.get("app_proto") == "unknown",
              f"flow to {port}: SSH is not reported as plaintext ({r.get('encryption')})")
    res = subprocess.run([args.sensor, "-r", os.path.join(args.pcaps, "ndpi-ssh.pcap"),
                          "--alerts", "/dev/null"], capture_output=True, text=True, timeout=60)
    check("nDPI: 2 flows (1 shown their one payload packet at their end)" in res.stderr,
          "summary: one flow held its single segment for nDPI until it ended")
    none = sensor_run(args, "-r", os.path.join(args.pcaps, "ndpi-ssh.pcap"), "--flows", "-",
                      "--alerts", "/dev/null", "--no-ndpi")
    check(none.returncode == 0 and '"ndpi"' not in none.stdout,
          "--no-ndpi: no nDPI facts in the flow records")


READER_LINE = re.compile(r"^  reader thread: (\d+) packets, (\d+) of them decoded there\n",
                         re.M)


def run_threads(args, tmp, pcap, threads, notes=None):
    """(rc, alerts, flow records, summary without the reader line), reader line
    numbers (packets, decoded on the reader) or None. notes="always" makes the
    reader decode every batch (VTLS_READER_NOTES), not only when it is ahead."""
    flows = os.path.join(tmp, "flows-%d%s.json" % (threads, notes or ""))
    if os.path.exists(flows):
        os.unlink(flows)  # --flows appends
    env = dict(os.environ)
    env.pop("VTLS_READER_NOTES", None)
    if notes:
        env["VTLS_READER_NOTES"] = notes
    res = subprocess.run([args.sensor, "-r", pcap, "--threads", str(threads), "--alerts", "-",
                          "--flows", flows, "--hash-seed", "7", *demo_args(args)],
                         capture_output=True, text=True, timeout=300, env=env)
    m = READER_LINE.search(res.stderr)
    with open(flows) as f:
        out = (res.returncode, res.stdout, f.read(), READER_LINE.sub("", res.stderr))
    return out, (int(m[1]), int(m[2])) if m else None


def test_threads(args, tmp):
    """The reader thread changes nothing but speed: alerts, flow records and
    the statistics are the same byte for byte with --threads 1 and 2, on every
    capture in pcaps/ and on a generated one of 23 MB (about 90 batches), both
    when the reader decodes only while it is ahead and when it decodes every
    batch."""
    big = os.path.join(tmp, "gen.pcap")
    subprocess.run(["/usr/bin/python3", os.path.join(args.src, "tests", "bench", "gen.py"),
                    "--packets", "60000", "--flows", "800", "--seed", "3", "mixed", big],
                   check=True, capture_output=True)
    pcaps = sorted(os.path.join(args.pcaps, x) for x in os.listdir(args.pcaps)
                   if x.endswith(".pcap") or x.endswith(".pcapng"))
    differ, alerts, reader = [], 0, {}
    for pcap in pcaps + [big]:
        one, no_line = run_threads(args, tmp, pcap, 1)
        two, reader[pcap] = run_threads(args, tmp, pcap, 2)
        noted, reader_all = run_threads(args, tmp, pcap, 2, "always")
        alerts += one[1].count("\n")
        if one != two or one != noted or no_line is not None:
            differ.append(os.path.basename(pcap))
        if reader_all is None or reader_all[0] != reader_all[1]:
            differ.append(os.path.basename(pcap) + " (reader line %s)" % (reader_all,))
    check(not differ and len(pcaps) > 50,
          f"threads: {len(pcaps) + 1} captures, {alerts} alerts, outputs identical with "
          f"--threads 1, 2, and 2 decoding every packet on the reader (differ: {differ})")
    big_run = run_threads(args, tmp, big, 2)[0]
    big_flows = big_run[2].count("\n")
    check(big_flows >= 800, f"threads: the generated capture ends {big_flows} flows")
    m = re.search(r"vtls-sensor: (\d+) packets", big_run[3])
    packets, decoded = reader[big] or (0, 0)
    check(m is not None and packets == int(m[1]) >= 60000 and decoded <= packets,
          f"threads: the reader line counts {packets} packets, {decoded} decoded there")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sensor", required=True)
    ap.add_argument("--pcaps", required=True)
    args = ap.parse_args()
    args.src = os.path.dirname(os.path.abspath(args.pcaps))
    with tempfile.TemporaryDirectory() as tmp:
        test_eve(args)
        test_flow_tls(args)
        test_ndpi_flows(args)
        test_unparseable_cert(args, tmp)
        test_ecs(args)
        test_dedup(args)
        test_sighup(args, tmp)
        test_full_disk(args)
        test_geo(args, tmp)
        test_threads(args, tmp)
    print(f"{len(FAILURES)} failures")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
