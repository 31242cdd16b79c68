#!/usr/bin/python3
"""End-to-end: a real Prometheus server scrapes the vtls metrics endpoint.

Starts a target (by default tests/e2e/metrics_demo; later the sensor on a
replay with --metrics-linger) on a free loopback port, checks its output with
`promtool check metrics` and its OpenMetrics rendering, starts Debian's
prometheus on loopback with a temporary config and data directory, waits
until the target is scraped, then checks series values through the HTTP API
(/api/v1/query). With --tls, the endpoint is served with a web config that
requires TLS 1.3, a client certificate from a throwaway CA and basic auth,
and Prometheus scrapes it with those credentials.

Usage:
  test_prometheus.py --target-cmd 'BUILD/metrics_demo 127.0.0.1:{port} 60 {web_config}' [--tls]
  test_prometheus.py --target-cmd 'BUILD/vtls-sensor -r pcaps/demo-cluster.pcap \
      --metrics-listen 127.0.0.1:{port} --metrics-linger 60 {web_config_opt}' \
      --expect 'sum(vtls_flows_total{client="vtctld",server="vttablet",encryption="plaintext"})=3'

{port} is replaced by the chosen port, {web_config} by the web config path
(empty without --tls) and {web_config_opt} by "--web-config PATH" (or empty).
Each --expect is PROMQL=VALUE (float compared with a 1e-9 relative
tolerance) or PROMQL=* (any value: the series exists). Without --expect,
the values metrics_demo serves are checked.
"""
import argparse
import json
import os
import shlex
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import base64

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
MAKE_CERTS = os.path.join(SRC, "tests", "unit", "data", "webtls", "make_certs.sh")

DEMO_EXPECT = [
    'vtls_packets_total >= bool 1000=1',
    # Prometheus 2.42 asks for OpenMetrics first: integer bucket bounds arrive as "1.0".
    'vtls_tls_handshake_duration_seconds_bucket{server="vttablet",le="1.0"}=4',
    'vtls_bytes_total=654321',
    'sum(vtls_flows_total{client="vtctld",server="vttablet",encryption="plaintext"})=3',
    'sum(vtls_flows_total{encryption="tls",tls_version="TLS 1.3"})=5',
    'vtls_cert_not_after_timestamp_seconds{subject_cn="vttablet-1",'
    'issuer_cn="Vitess \\"Test\\" CA",server="vttablet"}=1798761600',
    'vtls_plaintext_last_seen_timestamp_seconds{client="vtctld",server="vttablet"}=1764775807.5',
    'vtls_tls_handshake_duration_seconds_count{server="vttablet"}=4',
    'vtls_tls_handshake_duration_seconds_bucket{server="vttablet",le="0.0025"}=4',
    'vtls_tls_handshake_duration_seconds_bucket{server="vttablet",le="0.001"}=0',
    'vtls_alerts_total{rule="plaintext-grpc",severity="high"}=1',
    'vtls_build_info{version="0.1.0-demo"}=1',
    'vtls_flows_active=8',
    'vtls_rules_loaded=12',
]

PASSWORD = "scrape-secret"


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bcrypt(password):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import crypt
    return crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1 << 6))


class Ctx:
    def __init__(self, tmp, tls):
        self.tmp = tmp
        self.tls = tls
        self.web_config = ""
        self.ssl = None
        if tls:
            self.setup_tls()

    def setup_tls(self):
        subprocess.run([MAKE_CERTS, self.tmp], check=True)
        self.web_config = os.path.join(self.tmp, "web.yml")
        with open(self.web_config, "w") as f:
            f.write("tls_server_config:\n"
                    "  cert_file: server.crt\n  key_file: server.key\n"
                    "  client_auth_type: RequireAndVerifyClientCert\n"
                    "  client_ca_file: ca.crt\n  min_version: TLS13\n"
                    "basic_auth_users:\n  prometheus: '%s'\n" % bcrypt(PASSWORD))
        ctx = ssl.create_default_context(cafile=os.path.join(self.tmp, "ca.crt"))
        ctx.load_cert_chain(os.path.join(self.tmp, "client.crt"),
                            os.path.join(self.tmp, "client.key"))
        self.ssl = ctx

    def fetch(self, port, accept=None):
        scheme = "https" if self.tls else "http"
        req = urllib.request.Request("%s://127.0.0.1:%d/metrics" % (scheme, port))
        if accept:
            req.add_header("Accept", accept)
        if self.tls:
            token = base64.b64encode(("prometheus:" + PASSWORD).encode()).decode()
            req.add_header("Authorization", "Basic " + token)
        with urllib.request.urlopen(req, timeout=10, context=self.ssl) as r:
            return r.headers.get("Content-Type"), r.read().decode()

    def prometheus_config(self, port):
        job = ["scrape_configs:", "  - job_name: vtls", "    scrape_interval: 1s",
               "    scrape_timeout: 1s",
               "    static_configs:", "      - targets: ['127.0.0.1:%d']" % port]
        if self.tls:
            job += ["    scheme: https",
                    "    tls_config:",
                    "      ca_file: %s/ca.crt" % self.tmp,
                    "      cert_file: %s/client.crt" % self.tmp,
                    "      key_file: %s/client.key" % self.tmp,
                    "      server_name: localhost",
                    "    basic_auth:",
                    "      username: prometheus",
                    "      password: %s" % PASSWORD]
        path = os.path.join(self.tmp, "prometheus.yml")
        with open(path, "w") as f:
            f.write("global:\n  evaluation_interval: 1s\n" + "\n".join(job) + "\n")
        return path


def wait_for(what, fn, timeout):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            v = fn()
            if v:
                return v
        except (OSError, urllib.error.URLError, ValueError) as e:
            last = e
        time.sleep(0.2)
    raise SystemExit("FAIL: timed out waiting for %s (%s)" % (what, last))


def api(pport, path, **params):
    url = "http://127.0.0.1:%d%s?%s" % (pport, path, urllib.parse.urlencode(params))
    with urllib.request.urlopen(url, timeout=10) as r:
        body = json.load(r)
    if body.get("status") != "success":
        raise ValueError(body)
    return body["data"]


def query(pport, expr):
    return api(pport, "/api/v1/query", query=expr)["result"]


def check_target_output(ctx, port):
    ctype, text = wait_for("the target's /metrics", lambda: ctx.fetch(port), 30)
    if not ctype.startswith("text/plain; version=0.0.4"):
        raise SystemExit("FAIL: Content-Type %r" % ctype)
    p = subprocess.run(["promtool", "check", "metrics"], input=text, text=True,
                       capture_output=True)
    if p.returncode != 0:
        raise SystemExit("FAIL: promtool check metrics:\n%s%s" % (p.stdout, p.stderr))
    print("ok: promtool check metrics accepts %d lines" % text.count("\n"))
    ctype, om = ctx.fetch(port, "application/openmetrics-text;version=1.0.0,"
                                "text/plain;version=0.0.4;q=0.5")
    if not ctype.startswith("application/openmetrics-text; version=1.0.0") or \
            not om.endswith("# EOF\n"):
        raise SystemExit("FAIL: OpenMetrics negotiation: %r" % ctype)
    print("ok: OpenMetrics served on request")


def check_expectations(pport, expects):
    failed = 0
    for e in expects:
        expr, _, want = e.rpartition("=")
        res = query(pport, expr)
        if not res:
            print("FAIL: %s: no series" % expr)
            failed += 1
            continue
        got = float(res[0]["value"][1])
        if want != "*" and abs(got - float(want)) > 1e-9 * max(1.0, abs(float(want))):
            print("FAIL: %s = %s, want %s" % (expr, got, want))
            failed += 1
        else:
            print("ok: %s = %s" % (expr, res[0]["value"][1]))
    return failed


def stop(proc):
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def run(args, tmp):
    ctx = Ctx(tmp, args.tls)
    port, pport = free_port(), free_port()
    wc_opt = "--web-config %s" % shlex.quote(ctx.web_config) if ctx.web_config else ""
    cmd = args.target_cmd.format(port=port, web_config=shlex.quote(ctx.web_config)
                                 if ctx.web_config else "", web_config_opt=wc_opt)
    target = prom = None
    try:
        target = subprocess.Popen(shlex.split(cmd), stdout=subprocess.DEVNULL)
        check_target_output(ctx, port)
        config = ctx.prometheus_config(port)
        p = subprocess.run(["promtool", "check", "config", config], capture_output=True,
                           text=True)
        if p.returncode != 0:
            raise SystemExit("FAIL: promtool check config:\n" + p.stdout + p.stderr)
        prom = subprocess.Popen(
            [args.prometheus, "--config.file=" + config,
             "--storage.tsdb.path=" + os.path.join(tmp, "data"),
             "--web.listen-address=127.0.0.1:%d" % pport, "--log.level=warn"],
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "prometheus.log"), "w"))
        wait_for("Prometheus to scrape the target",
                 lambda: query(pport, 'up{job="vtls"}') and
                 query(pport, 'up{job="vtls"}')[0]["value"][1] == "1" and
                 query(pport, "vtls_build_info"), args.timeout)
        targets = api(pport, "/api/v1/targets")["activeTargets"]
        for t in targets:
            if t["lastError"]:
                raise SystemExit("FAIL: scrape error: %s" % t["lastError"])
        print("ok: Prometheus scrapes the target (%s)" % targets[0]["scrapeUrl"])
        failed = check_expectations(pport, args.expect or DEMO_EXPECT)
        if failed:
            with open(os.path.join(tmp, "prometheus.log")) as f:
                sys.stderr.write(f.read()[-4000:])
            raise SystemExit("FAIL: %d expectation(s)" % failed)
    finally:
        stop(prom)
        stop(target)
    print("PASS")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--target-cmd", required=True)
    ap.add_argument("--expect", action="append")
    ap.add_argument("--tls", action="store_true")
    ap.add_argument("--prometheus", default="prometheus")
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args()
    for tool in (args.prometheus, "promtool"):
        if shutil.which(tool) is None:
            print("SKIP: %s not installed (apt-get install prometheus)" % tool)
            return 77
    tmp = tempfile.mkdtemp(prefix="vtls-e2e-prom-")
    try:
        run(args, tmp)
    finally:
        if args.keep:
            print("kept", tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
