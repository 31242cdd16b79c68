#!/usr/bin/python3
"""`make bench`: generate the workloads, measure vtls-sensor against the bare
libpcap loop and its peers, print a table and write bench/results.md.

Measures whatever BUILD/vtls-sensor does when it runs (no assumptions about
which dissectors or rules exist yet). Standard library only.

  run.py --build build [--runs 3] [--workdir DIR] [--out bench/results.md]
         [--seed 1] [--skip tshark,ndpi,callgrind,...]

Workloads go to a temporary directory (removed at the end) unless --workdir
is given, in which case they are kept there and reused while the generator,
the template captures and the parameters are unchanged.
"""

import argparse
import concurrent.futures
import hashlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import gen  # noqa: E402

TARGETS = {"bare": 0.5, "ndpi": 5.0, "tshark": 50.0, "bytes_per_flow": 400}
TSHARK_SLICE = 500_000
SLICE_RUNS = 15  # runs of the sensor on that slice (and of its start-up)
# The sensor reads a regular file through a stdio buffer of this size (sensor/capture.c);
# the bare loop is also run that way, so that the faster of the two is the limit.
FILE_BUFFER = 1 << 20
# Issue 5: one protocol at a time, plaintext: h2c gRPC, MySQL, etcd client gRPC.
PLAIN_CAPTURES = (("plain-h2c", "grpc-h2c=1"), ("plain-mysql", "mysql-plain=1"),
                  ("plain-etcd", "etcd-plain=1"))
PLAIN_PACKETS = 600000
PLAIN_FLOWS = 6000
CALLGRIND_SLICE = 100_000
MALLOC_FLOWS, MALLOC_PACKETS = 4000, 400_000
MASSIF_FLOWS = 100_000
VERDICT_FLOWS = 40_000


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


def sh(cmd):
    """Stdout of a shell-less command, or '' when it fails."""
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=60).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


# ----------------------------------------------------------------------------
# Running one measured child


class Run:
    def __init__(self, wall, user, sys_, maxrss_kib, rc, stderr):
        self.wall, self.user, self.sys, self.rss = wall, user, sys_, maxrss_kib * 1024
        self.rc, self.stderr = rc, stderr


GNU_TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None


def run_once(cmd, env=None, wrap=True):
    """Run cmd with stdout to /dev/null; wall time, rusage and stderr of the child.

    Peak RSS comes from GNU time wrapped around the command when it exists:
    ru_maxrss of a child forked from this Python process starts at Python's
    own RSS (Linux carries the old memory's high-water mark across exec), which
    would hide anything smaller; GNU time's fork starts from a tiny process.
    wrap=False runs cmd directly (for LD_PRELOAD and valgrind runs)."""
    rss_file = None
    if GNU_TIME and wrap:
        fd, rss_file = tempfile.mkstemp(prefix="rss-")
        os.close(fd)
        cmd = [GNU_TIME, "-f", "%M", "-o", rss_file] + list(cmd)
    with tempfile.TemporaryFile() as err, open(os.devnull, "wb") as null:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=null, stderr=err, env=env)
        _pid, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        text = err.read().decode(errors="replace")
    maxrss = ru.ru_maxrss
    if rss_file:
        try:
            with open(rss_file) as f:
                lines = [ln for ln in f.read().split("\n") if ln.strip().isdigit()]
            if lines:
                maxrss = int(lines[-1])
        finally:
            os.unlink(rss_file)
    return Run(wall, ru.ru_utime, ru.ru_stime, maxrss, p.returncode, text)


FAILURES = []


def run_median(cmd, runs, env=None):
    """Median wall time over `runs` runs; all runs kept. None if a run fails
    (the failure is kept in FAILURES for the report)."""
    out = []
    for _ in range(runs):
        r = run_once(cmd, env)
        if r.rc != 0:
            log("%s failed (exit %d): %s" % (" ".join(cmd), r.rc, r.stderr.strip()[-500:]))
            FAILURES.append((" ".join(os.path.basename(c) if c.startswith("/") else c
                                      for c in cmd), r.rc, r.stderr.strip()[-800:]))
            return None
        out.append(r)
    out.sort(key=lambda r: r.wall)
    return out[len(out) // 2], out


# ----------------------------------------------------------------------------
# Workloads


def slice_pcap(src, dst, n):
    """Copy the first n records of a classic little-endian microsecond pcap."""
    with open(src, "rb") as f, open(dst, "wb") as out:
        out.write(f.read(24))
        for _ in range(n):
            hdr = f.read(16)
            if len(hdr) < 16:
                break
            incl = int.from_bytes(hdr[8:12], "little")
            out.write(hdr + f.read(incl))


def workload_key(args):
    h = hashlib.sha256()
    for p in [os.path.join(HERE, "gen.py")] + sorted(
            os.path.join(gen.PCAPS, f) for f in os.listdir(gen.PCAPS) if f.endswith(".pcap")):
        with open(p, "rb") as f:
            h.update(f.read())
    h.update(repr((args.seed, args.packets, args.flows, args.flood_flows)).encode())
    return h.hexdigest()[:16]


def _generate(path, seed, spec):
    """One capture from a gen.py-style argument list (runs in a worker process)."""
    t0 = time.perf_counter()
    opts = dict(zip(spec[1::2], spec[2::2]))
    if spec[0] == "mixed":
        n, f = gen.write_mixed(path, seed, int(opts["--flows"]), int(opts["--packets"]),
                               int(opts.get("--data-mult", 1)), float(opts.get("--midstream", 0)),
                               int(opts.get("--active", 1500)), opts.get("--fin", "1") == "1",
                               mix=opts.get("--mix", gen.DEFAULT_MIX))
    else:
        n, f = gen.write_flood(path, seed, int(opts["--flows"]))
    return path, n, f, time.perf_counter() - t0


def make_workloads(args, wd):
    """Generate (or reuse) every capture; returns {name: (path, packets, flows)}."""
    key = workload_key(args)
    stamp = os.path.join(wd, "workload.key")
    specs = [
        ("mixed", ["mixed", "--packets", str(args.packets), "--flows", str(args.flows)]),
        ("midstream", ["mixed", "--packets", str(args.packets), "--flows", str(args.flows),
                       "--midstream", "0.5"]),
        ("wide", ["mixed", "--packets", str(args.packets), "--flows", str(args.flows),
                  "--active", "20000"]),
        ("flood", ["flood", "--flows", str(args.flood_flows)]),
        ("flood-small", ["flood", "--flows", str(MASSIF_FLOWS)]),
        ("verdict", ["mixed", "--packets", "0", "--flows", str(VERDICT_FLOWS), "--active", "500",
                     "--fin", "0"]),
        ("verdict-small", ["mixed", "--packets", "0", "--flows", str(VERDICT_FLOWS // 4),
                           "--active", "500", "--fin", "0"]),
        ("malloc1x", ["mixed", "--packets", str(MALLOC_PACKETS), "--flows", str(MALLOC_FLOWS)]),
        ("malloc2x", ["mixed", "--packets", str(MALLOC_PACKETS), "--flows", str(MALLOC_FLOWS),
                      "--data-mult", "2"]),
    ] + [(name, ["mixed", "--packets", str(PLAIN_PACKETS), "--flows", str(PLAIN_FLOWS),
                 "--mix", mix]) for name, mix in PLAIN_CAPTURES]
    key += hashlib.sha256(repr((specs, TSHARK_SLICE, CALLGRIND_SLICE)).encode()).hexdigest()[:8]
    reuse = os.path.exists(stamp) and open(stamp).read().split("\n")[0] == key
    out = {}
    if reuse:
        for line in open(stamp).read().split("\n")[1:]:
            if line:
                name, path, n, f = line.split("\t")
                out[name] = (path, int(n), int(f))
        log("reusing workloads in %s" % wd)
        return out
    with concurrent.futures.ProcessPoolExecutor(max_workers=max(1, os.cpu_count() or 1)) as ex:
        jobs = {name: ex.submit(_generate, os.path.join(wd, name + ".pcap"), args.seed, spec)
                for name, spec in specs}
        for name, _spec in specs:
            path, n, f, secs = jobs[name].result()
            out[name] = (path, n, f)
            log("generated %s: %d packets, %d flows, %.0f MB in %.1f s" % (
                name, n, f, os.path.getsize(path) / 1e6, secs))
    mixed = out["mixed"][0]
    for name, n in (("tshark-slice", TSHARK_SLICE), ("callgrind-slice", CALLGRIND_SLICE),
                    ("one", 1)):
        path = os.path.join(wd, name + ".pcap")
        slice_pcap(mixed, path, n)
        out[name] = (path, n, 0)
    with open(stamp, "w") as f:
        f.write(key + "\n")
        for name, (path, n, fl) in out.items():
            f.write("%s\t%s\t%d\t%d\n" % (name, path, n, fl))
    return out


# ----------------------------------------------------------------------------
# Tools


class Tools:
    def __init__(self, args, wd):
        b = os.path.abspath(args.build)
        self.sensor = os.path.join(b, "vtls-sensor")
        self.bare = os.path.join(b, "bench_pcap_loop")
        for p in (self.sensor, self.bare):
            if not os.access(p, os.X_OK):
                sys.exit("bench: %s not built (run `make bench`)" % p)
        self.build = b
        self.sensor_extra = []
        # --threads 1 runs as a row of its own where the sensor has the option
        # and the default is the reader thread (two or more CPUs).
        self.threads = "--threads" in sh([self.sensor, "--help"]) and (os.cpu_count() or 1) > 1
        self.ndpi = shutil.which("ndpiReader")
        self.tshark = shutil.which("tshark")
        self.valgrind = shutil.which("valgrind")
        self.shim = self.build_shim(wd)

    def build_shim(self, wd):
        out = os.path.join(wd, "malloc_count.so")
        cc = shutil.which("cc") or shutil.which("gcc")
        if cc is None:
            return None
        r = subprocess.run([cc, "-O2", "-shared", "-fPIC", "-o", out,
                            os.path.join(HERE, "malloc_count.c")], capture_output=True, text=True)
        if r.returncode != 0:
            log("malloc_count.c did not build: " + r.stderr[-400:])
            return None
        return out

    def detect_rules(self, one_pcap):
        """Run the sensor with its defaults; add the repo's default rules file
        only if the defaults do not work and the sensor takes --rules."""
        r = run_once([self.sensor, "-r", one_pcap, "-q"])
        if r.rc == 0:
            return
        rules = os.path.join(ROOT, "rules", "vitess-tls.yaml")
        helptext = sh([self.sensor, "--help"])
        if "--rules" in helptext and os.path.exists(rules):
            self.sensor_extra = ["--rules", rules]
            r = run_once(self.sensor_cmd(one_pcap))
        if r.rc != 0:
            sys.exit("bench: vtls-sensor fails on a one-packet capture: " + r.stderr[-500:])

    def sensor_cmd(self, pcap, quiet=True, extra=()):
        return [self.sensor, "-r", pcap] + (["-q"] if quiet else []) + self.sensor_extra + list(
            extra)


# ----------------------------------------------------------------------------
# Measurements


def throughput(tools, wl, runs, skip):
    """{capture: {tool: dict(packets, wall, cpu, pps_wall, pps_cpu, note, ...)}}

    wall and cpu (user+sys of the child) are medians over the runs, taken
    separately. "sensor" is the default run (a reader thread when the machine
    has two CPUs), judged by wall time: the rate a span port sees. "sensor1"
    is --threads 1, judged by CPU time like the single-threaded peers."""
    res = {}
    for cap in ("mixed", "midstream", "wide") + tuple(name for name, _m in PLAIN_CAPTURES):
        path, n, _f = wl[cap]
        subprocess.run(["cat", path], stdout=subprocess.DEVNULL)  # page cache
        row = {}
        cmds = [("bare", [tools.bare, path], n, ""),
                ("bare-buf", [tools.bare, "--buffer", str(FILE_BUFFER), path], n, ""),
                ("sensor", tools.sensor_cmd(path), n, "")]
        if tools.threads:
            cmds.append(("sensor1", tools.sensor_cmd(path, extra=["--threads", "1"]), n, ""))
        if tools.ndpi and "ndpi" not in skip and cap in ("mixed", "midstream"):
            cmds.append(("ndpi", [tools.ndpi, "-i", path, "-q"], n, ""))
        if tools.tshark and "tshark" not in skip and cap == "mixed":
            sp, sn, _ = wl["tshark-slice"]
            cmds.append(("tshark", [tools.tshark, "-n", "-r", sp, "-Y", "tls.handshake"], sn,
                         "first %d packets" % sn))
            # The sensor on the same slice, for a like-for-like ratio to tshark.
            cmds.append(("sensor-slice", tools.sensor_cmd(sp), sn, "first %d packets" % sn))
        for name, cmd, count, note in cmds:
            n_runs = runs if name in ("bare", "bare-buf", "sensor", "sensor1") else min(runs, 3)
            if name == "sensor-slice":
                # A run of the slice lasts about 0.08 s and its wall time moves by
                # +-20% from run to run on this VM: more runs, a steadier median.
                n_runs = max(runs, SLICE_RUNS)
            log("throughput %s: %s x%d" % (cap, name, n_runs))
            m = run_median(cmd, n_runs)
            if m is None:
                continue
            med, allr = m
            cpu = statistics.median(r.user + r.sys for r in allr)
            row[name] = dict(packets=count, wall=med.wall, cpu=cpu, runs=n_runs,
                             pps_wall=count / med.wall, pps_cpu=count / max(cpu, 1e-6),
                             note=note)
        if "tshark" in row:
            # tshark's start-up (dissector registration) on a one-packet capture,
            # so its rate can also be given without it.
            m = run_median([tools.tshark, "-n", "-r", wl["one"][0], "-Y", "tls.handshake"],
                           min(runs, 3))
            if m is not None:
                t = row["tshark"]
                su_cpu = statistics.median(r.user + r.sys for r in m[1])
                su_wall = statistics.median(r.wall for r in m[1])
                t["startup_cpu"] = su_cpu
                t["pps_cpu_steady"] = t["packets"] / max(1e-6, t["cpu"] - su_cpu)
                t["pps_wall_steady"] = t["packets"] / max(1e-6, t["wall"] - su_wall)
                t["note"] += "; start-up %.2f s CPU" % su_cpu
        if "sensor-slice" in row:
            # The sensor's start-up too, so that both slice rates are steady rates.
            m = run_median(tools.sensor_cmd(wl["one"][0]), max(runs, SLICE_RUNS))
            if m is not None:
                t = row["sensor-slice"]
                su_wall = statistics.median(r.wall for r in m[1])
                su_cpu = statistics.median(r.user + r.sys for r in m[1])
                t["pps_wall_steady"] = t["packets"] / max(1e-6, t["wall"] - su_wall)
                t["pps_cpu_steady"] = t["packets"] / max(1e-6, t["cpu"] - su_cpu)
                t["note"] += "; start-up %.3f s wall" % su_wall
        res[cap] = row
    return res


FLOWS_RE = re.compile(r"flows: (\d+) created, (\d+) evicted, (\d+) not tracked[^,]*, peak ([\d.]+)")


def sensor_summary(tools, wl, wd):
    """The sensor's own stderr summary of one non-quiet run over the mixed
    capture, and its flow records counted by kind (when it has --flows)."""
    extra, path = [], os.path.join(wd, "flows.json")
    if "--flows" in sh([tools.sensor, "--help"]):
        extra = ["--flows", path]
    r = run_once(tools.sensor_cmd(wl["mixed"][0], quiet=False, extra=extra))
    kinds = {}
    if extra and os.path.exists(path):
        with open(path, errors="replace") as f:
            for line in f:
                try:
                    d = json.loads(line)
                except ValueError:
                    continue
                if d.get("event_type") != "flow":
                    continue
                k = (d.get("app_proto"), d.get("encryption"), (d.get("tls") or {}).get("version"),
                     (d.get("vitess") or {}).get("server"))
                kinds[k] = kinds.get(k, 0) + 1
        os.unlink(path)
    return r.stderr.strip(), kinds


def flood(tools, wl, runs):
    path, n, nflows = wl["flood"]
    base = run_once(tools.sensor_cmd(wl["one"][0]))
    out = {"base_rss": base.rss, "packets": n, "flows": nflows}
    for label, extra in (("default", []), ("memcap64", ["--memcap", "64"])):
        log("flood %s x%d" % (label, runs))
        m = run_median(tools.sensor_cmd(path, quiet=False, extra=extra), runs)
        if m is None:
            continue
        med, allr = m
        hit = FLOWS_RE.search(med.stderr)
        created, evicted, untracked, peak = (int(hit[1]), int(hit[2]), int(hit[3]),
                                             float(hit[4])) if hit else (None, None, None, None)
        out[label] = dict(run=med, rss=max(r.rss for r in allr), created=created,
                          evicted=evicted, untracked=untracked, peak_mib=peak, pps=n / med.wall)
    return out


def _verdict_run(tools, wl, name, runs):
    path, n, nflows = wl[name]
    m = run_median(tools.sensor_cmd(path, quiet=False), runs)
    if m is None:
        return None
    med, allr = m
    hit = FLOWS_RE.search(med.stderr)
    if not hit:
        return None
    return dict(flows=nflows, packets=n, created=int(hit[1]), evicted=int(hit[2]),
                peak_mib=float(hit[4]), rss=max(r.rss for r in allr),
                cpu=statistics.median(r.user + r.sys for r in allr))


def verdict_memory(tools, wl, runs):
    """Memory per flow held past its verdict. The 'verdict' captures open
    every flow (500 at a time), run its opening and a few exchanges and never
    close it, so at the end nearly all flows are past their verdict. Per flow:
    (RSS - one-packet baseline) / flows, and the marginal cost between the
    40,000- and 10,000-flow captures, which leaves out everything fixed and the
    500 flows still in their handshake."""
    base = run_once(tools.sensor_cmd(wl["one"][0]))
    log("verdict memory x%d" % min(runs, 3))
    big = _verdict_run(tools, wl, "verdict", min(runs, 3))
    small = _verdict_run(tools, wl, "verdict-small", min(runs, 3))
    if big is None:
        return None
    held = big["created"] - big["evicted"]
    out = dict(big, base_rss=base.rss, flows_per_s=big["created"] / max(big["cpu"], 1e-6),
               pps=big["packets"] / max(big["cpu"], 1e-6),
               bpf=(big["rss"] - base.rss) / float(held) if held else float("nan"),
               acc=big["peak_mib"] * 1048576 / held if held else float("nan"))
    if small is not None:
        dn = held - (small["created"] - small["evicted"])
        if dn > 0:
            out["small"] = small
            out["marginal"] = (big["rss"] - small["rss"]) / float(dn)
            out["marginal_acc"] = (big["peak_mib"] - small["peak_mib"]) * 1048576 / float(dn)
    return out


LIVE_RE = re.compile(r"(\d+) received by filter, (\d+) dropped by kernel")
TCPDUMP_RE = re.compile(r"(\d+) packets? received by filter\s+(\d+) packets? dropped by kernel")


def live(tools, wl, wd):
    """Replay the mixed capture with tcpreplay --topspeed onto a veth whose
    peer sits in a private network namespace, where vtls-sensor -i and
    tcpdump -w /dev/null capture at the same time; compare kernel drops."""
    need = [shutil.which(x) for x in ("ip", "tcpreplay", "tcpdump")]
    if os.geteuid() != 0 or None in need:
        return dict(error="needs root, ip, tcpreplay and tcpdump")
    ns, host, peer = "vtlsbench%d" % os.getpid(), "vtb%d" % (os.getpid() % 10000), "vtbp"
    path, n, _f = wl["mixed"]
    run = lambda *c: subprocess.run(list(c), capture_output=True, text=True)
    res = {}
    try:
        for c in (["ip", "netns", "add", ns],
                  ["ip", "link", "add", host, "type", "veth", "peer", "name", peer, "netns", ns],
                  ["ip", "link", "set", host, "up"],
                  ["ip", "-n", ns, "link", "set", peer, "up"]):
            r = run(*c)
            if r.returncode != 0:
                return dict(error="%s: %s" % (" ".join(c), r.stderr.strip()))
        errs = {k: tempfile.TemporaryFile(dir=wd) for k in ("sensor", "tcpdump")}
        null = open(os.devnull, "wb")
        procs = {
            "sensor": subprocess.Popen(["ip", "netns", "exec", ns, tools.sensor, "-i", peer]
                                       + tools.sensor_extra, stdout=null,
                                       stderr=errs["sensor"]),
            "tcpdump": subprocess.Popen(["ip", "netns", "exec", ns, "tcpdump", "-n", "-i", peer,
                                         "-w", "/dev/null"], stdout=null,
                                        stderr=errs["tcpdump"]),
        }
        time.sleep(2.0)
        log("live: tcpreplay --topspeed of %d packets" % n)
        r = run("tcpreplay", "--topspeed", "-i", host, path)
        m = re.search(r"Rated: [\d.]+ Bps, [\d.]+ Mbps, ([\d.]+) pps", r.stdout)
        sent = re.search(r"Actual: (\d+) packets", r.stdout)
        res["replay_pps"] = float(m[1]) if m else None
        res["sent"] = int(sent[1]) if sent else None
        time.sleep(1.0)
        for name, p in procs.items():
            p.send_signal(2)
        for name, p in procs.items():
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            errs[name].seek(0)
            text = errs[name].read().decode(errors="replace")
            rx = (LIVE_RE if name == "sensor" else TCPDUMP_RE).search(text)
            res[name] = (int(rx[1]), int(rx[2])) if rx else None
            if rx is None:
                res[name + "_err"] = text.strip()[-400:]
        null.close()
    finally:
        run("ip", "netns", "del", ns)
        run("ip", "link", "del", host)
    return res


def malloc_counts(tools, wl):
    if tools.shim is None:
        return None
    res = {}
    for name in ("malloc1x", "malloc2x"):
        path, n, _f = wl[name]
        fn = os.path.join(os.path.dirname(path), name + ".count")
        if os.path.exists(fn):
            os.unlink(fn)
        env = dict(os.environ, LD_PRELOAD=tools.shim, MALLOC_COUNT_FILE=fn)
        r = run_once(tools.sensor_cmd(path), env, wrap=False)
        if r.rc != 0 or not os.path.exists(fn):
            log("malloc count run failed: " + r.stderr[-300:])
            FAILURES.append(("LD_PRELOAD=malloc_count.so vtls-sensor -r %s.pcap" % name, r.rc,
                             r.stderr.strip()[-800:]))
            return None
        line = open(fn).read().strip().split("\n")[-1]
        c = dict((k, int(v)) for k, v in (kv.split("=") for kv in line.split()))
        c["allocs"] = c["malloc"] + c["calloc"] + c["realloc"] + c["aligned"]
        res[name] = (n, c)
    (n1, c1), (n2, c2) = res["malloc1x"], res["malloc2x"]
    res["per_packet"] = (c2["allocs"] - c1["allocs"]) / float(n2 - n1)
    return res


def massif(tools, wl, wd, capture="flood-small"):
    """Heap at its peak by allocation site (top-level entries of the peak
    snapshot), sensor on a small capture: dict(flows, total, rows=[(bytes, %, site)])."""
    if tools.valgrind is None:
        return None
    path, _n, nflows = wl[capture]
    outf = os.path.join(wd, "massif.%s.out" % capture)
    log("massif on %s (%d flows)" % (capture, nflows))
    r = run_once([tools.valgrind, "--tool=massif", "--massif-out-file=" + outf]
                 + tools.sensor_cmd(path), wrap=False)
    if r.rc != 0 or not os.path.exists(outf):
        return None
    text = sh(["ms_print", outf])
    lines = text.split("\n")
    # The peak snapshot's number is in the list "Detailed snapshots: [..., N (peak)]";
    # its table row is followed by the allocation tree.
    m = re.search(r"(\d+) \(peak\)", text)
    if m is None:
        return None
    snap = m[1]
    row = re.compile(r"\s*%s\s+[\d,]+\s+[\d,]+" % snap)
    start = next((i for i, ln in enumerate(lines) if row.match(ln)), None)
    if start is None:
        return None
    total = int(lines[start].split()[2].replace(",", ""))
    rows = []
    for ln in lines[start + 1:]:
        if re.match(r"\s*\d+\s+[\d,]+\s+[\d,]+", ln) or ln.startswith("---"):
            if rows:
                break
            continue
        mm = re.match(r"->\s*([\d.]+)% \(([\d,]+)B\) (?:0x[0-9A-Fa-f]+: )?(.*)$", ln)
        if mm:
            rows.append((int(mm[2].replace(",", "")), float(mm[1]), mm[3]))
    return dict(flows=nflows, total=total, rows=rows)


def perf_profile(tools, wl, wd):
    """Where the sensor's time goes on the whole mixed capture: perf record with
    the cpu-clock software event (works without hardware counters, e.g. in a
    VM), top symbols by self samples: [(percent, symbol, object)]."""
    perf = shutil.which("perf")
    if perf is None:
        return None
    data = os.path.join(wd, "perf.data")
    log("perf record (cpu-clock) of the sensor on mixed")
    r = run_once([perf, "record", "-q", "-e", "cpu-clock", "-F", "4000", "-o", data]
                 + tools.sensor_cmd(wl["mixed"][0]), wrap=False)
    if r.rc != 0:
        return None
    text = sh([perf, "report", "-i", data, "--no-children", "--sort", "sym,dso", "--stdio"])
    rows = []
    for line in text.split("\n"):
        m = re.match(r"\s*([\d.]+)%\s+\[(.)\]\s+(\S+)\s+(\S+)\s*$", line)
        if m:
            rows.append((float(m[1]), m[3], m[4] if m[2] != "k" else "kernel"))
        if len(rows) >= 25:
            break
    os.unlink(data)
    return rows


def callgrind(tools, wl, wd):
    if tools.valgrind is None:
        return None
    sp, sn, _ = wl["callgrind-slice"]
    one = wl["one"][0]
    res = {}
    for name, cmd in (("sensor", lambda p: tools.sensor_cmd(p)),
                      ("bare", lambda p: [tools.bare, p])):
        irs = {}
        for tag, p in (("slice", sp), ("one", one)):
            outf = os.path.join(wd, "callgrind.%s.%s" % (name, tag))
            log("callgrind %s %s" % (name, tag))
            r = run_once([tools.valgrind, "--tool=callgrind", "--callgrind-out-file=" + outf]
                         + cmd(p), wrap=False)
            m = re.search(r"Collected : (\d+)", r.stderr)
            irs[tag] = (int(m[1]) if m else None, outf)
        if None in (irs["slice"][0], irs["one"][0]):
            continue
        per = (irs["slice"][0] - irs["one"][0]) / float(sn - 1)
        res[name] = dict(per_packet=per, total=irs["slice"][0], startup=irs["one"][0],
                         top=callgrind_top(irs["slice"][1], irs["one"][1], sn - 1, 20),
                         incl=callgrind_top(irs["slice"][1], irs["one"][1], sn - 1, 25, True,
                                            os.path.basename(tools.sensor)))
    return res


def callgrind_self(outf, inclusive=False):
    """{(function, object): self (or inclusive) Ir} from callgrind_annotate."""
    text = sh(["callgrind_annotate", "--threshold=100"]
              + (["--inclusive=yes"] if inclusive else []) + [outf])
    out = {}
    for line in text.split("\n"):
        m = re.match(r"\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(.*)$", line)
        if not m or "PROGRAM TOTALS" in line:
            continue
        fn = m[2]
        where = re.search(r"\[(.*)\]\s*$", fn)
        name = re.sub(r"\s*\[.*\]\s*$", "", fn)
        name = name.split(":", 1)[1] if ":" in name else name
        key = (name, os.path.basename(where[1]) if where else "")
        out[key] = out.get(key, 0) + int(m[1].replace(",", ""))
    return out


def callgrind_top(slice_out, one_out, packets, n, inclusive=False, obj=None):
    """Top functions by self (or inclusive) instructions per packet: the slice
    run minus the one-packet run (so start-up such as nDPI's initialisation
    drops out); only functions of object `obj` when given."""
    a, b = callgrind_self(slice_out, inclusive), callgrind_self(one_out, inclusive)
    diff = {k: v - b.get(k, 0) for k, v in a.items() if obj is None or k[1] == obj}
    pos = [v for v in diff.values() if v > 0]
    total = float((max(pos) if inclusive else sum(pos)) if pos else 1)
    rows = sorted(((v, k) for k, v in diff.items() if v > 0), reverse=True)[:n]
    return [(v / float(packets), 100.0 * v / total, k[0], k[1]) for v, k in rows]


PKG_LIBS = ["libpcap", "openssl", "libmaxminddb", "libndpi", "libnghttp2", "yaml-0.1",
            "jansson", "libmicrohttpd"]


def build_bench_c(tools, name, wd):
    """A tests/bench/bench_*.c program: the CMake target when there is one,
    else compiled here with cc against BUILD/libvtls_core.a and pkg-config."""
    exe = os.path.join(tools.build, name)
    if not os.access(exe, os.X_OK):
        subprocess.run(["cmake", "--build", tools.build, "--target", name], capture_output=True)
    if os.access(exe, os.X_OK):
        return exe, "CMake target"
    core = os.path.join(tools.build, "libvtls_core.a")
    if not os.path.exists(core):
        return None, "no %s to link against" % core
    exe = os.path.join(wd, name)
    flags = sh(["pkg-config", "--cflags", "--libs"] + PKG_LIBS).split()
    cmd = ["cc", "-std=c11", "-O2", "-D_GNU_SOURCE", '-DVTLS_SOURCE_DIR="%s"' % ROOT,
           '-DVTLS_VERSION="bench"', '-DVTLS_DATADIR="%s"' % ROOT, "-I", ROOT,
           os.path.join(HERE, name + ".c"), core] + flags + ["-lm", "-o", exe]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        return None, "did not build with cc: " + r.stderr.strip()[-300:]
    return exe, "built by run.py with cc"


def other_benches(tools, wd):
    """Handshake and rule-evaluation benchmarks from other issues, if present:
    {name: dict(exe, how, text, kv)} where kv holds the key=value pairs printed."""
    found = {}
    srcs = sorted(f[:-2] for f in os.listdir(HERE)
                  if f.startswith("bench_") and f.endswith(".c"))
    for name in srcs:
        exe, how = build_bench_c(tools, name, wd)
        text, kv = "", {}
        if exe is not None:
            log("running %s" % name)
            try:
                r = subprocess.run([exe], capture_output=True, text=True, timeout=120, cwd=ROOT)
                text = (r.stdout + r.stderr).strip()
                if r.returncode != 0:
                    text += "\n(exit %d)" % r.returncode
            except subprocess.TimeoutExpired:
                text = "timed out after 120 s"
            kv = dict(m for m in re.findall(r"(\w+)=([-\d.eE+]+)", text))
        found[name] = dict(exe=exe, how=how, text=text, kv=kv)
    return found


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def machine():
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = "?"
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal"):
                mem = "%.1f GiB" % (int(line.split()[1]) / 1048576.0)
    deb = open("/etc/debian_version").read().strip() if os.path.exists(
        "/etc/debian_version") else ""
    return cpu, os.cpu_count(), mem, platform.release(), deb


def versions(tools):
    v = {"vtls-sensor": sh([tools.sensor, "--version"]),
         "git": sh(["git", "-C", ROOT, "describe", "--always", "--dirty"]),
         "cc": sh(["cc", "--version"]).split("\n")[0],
         "libpcap": sh(["pkg-config", "--modversion", "libpcap"]),
         "nDPI": sh(["pkg-config", "--modversion", "libndpi"]),
         "tshark": sh(["tshark", "--version"]).split("\n")[0] if tools.tshark else "absent",
         "valgrind": sh(["valgrind", "--version"]) if tools.valgrind else "absent",
         "python": platform.python_version()}
    return v


# ----------------------------------------------------------------------------
# Report


def fmt_rate(x):
    return "%.2f M" % (x / 1e6) if x >= 1e6 else "%.0f k" % (x / 1e3)


def verdict(ok):
    """ok is True, False, or None for a number measured but not a target."""
    return "measured, not a target" if ok is None else "met" if ok else "NOT met"


def report(args, tools, wl, thr, fl, mc, cg, others, elapsed, summary, load, ms, vm, lv, msv):
    L = []
    cpu, ncpu, mem, kern, deb = machine()
    v = versions(tools)
    L.append("# vtls-sensor benchmark results\n")
    L.append("Written by `make bench` (tests/bench/run.py) on %s; %d runs per number, "
             "medians; total bench time %.0f s.\n" % (time.strftime("%Y-%m-%d %H:%M UTC",
                                                                   time.gmtime()),
                                                     args.runs, elapsed))
    L.append("## Machine\n")
    L.append("| | |\n|---|---|")
    L.append("| CPU | %s |" % cpu)
    L.append("| cores (nproc) | %d |" % ncpu)
    L.append("| memory | %s |" % mem)
    L.append("| kernel | %s (Debian %s) |" % (kern, deb))
    for k, val in v.items():
        L.append("| %s | %s |" % (k, val))
    L.append("| sensor command | `%s` |" % " ".join(
        ["vtls-sensor", "-r", "FILE", "-q"] + [os.path.relpath(x, ROOT) if x.startswith(ROOT)
                                                else x for x in tools.sensor_extra]))
    L.append("")
    L.append("## Workload (seed %d, generated by tests/bench/gen.py)\n" % args.seed)
    L.append("| capture | packets | flows | size |\n|---|---:|---:|---:|")
    for name in ("mixed", "midstream", "wide", "flood", "verdict", "malloc1x", "malloc2x") + tuple(
            name for name, _m in PLAIN_CAPTURES):
        path, n, f = wl[name]
        L.append("| %s | %d | %d | %.0f MB |" % (name, n, f, os.path.getsize(path) / 1e6))
    L.append("")
    mix = "; ".join("%.0f%% %s (%s)" % (share * 100, name, ", ".join(
        sorted({"pcaps/" + t.name for t in tmpl}))) for name, share, tmpl, _k, _p in
                    gen.load_classes())
    L.append("mixed: flows by kind: %s. Each flow replays the opening of a real connection "
             "(everything before its FIN/RST; grpc-tls: only the vtgate->vttablet connection) "
             "with rewritten addresses and ports, then request/response exchanges with "
             "consistent sequence numbers (TLS application-data records of 80-600 bytes up "
             "and 60 bytes-24 KB down, or h2 HEADERS+DATA+trailers for plaintext gRPC) and "
             "client ACKs, then a FIN exchange; 1500 flows open at a time, interleaved packet "
             "by packet, ~2-3 us apart in packet time (the template captures' date). "
             "midstream: the same flows, half without their opening. wide: the same flows "
             "with 20,000 open at a time instead of 1500 (a flow table that no longer fits "
             "in the CPU caches). flood: SYN plus one "
             "4-16 byte segment per flow. verdict: the mixed kinds, every flow left open "
             "after its opening and a few exchanges. malloc1x/2x: %d flows, the same "
             "openings, 1x and 2x the data exchanges. IP/TCP checksums are zero.\n"
             % (mix, MALLOC_FLOWS))

    L.append("## Replay throughput\n")
    L.append("Medians over the runs. packets/s (wall) = packets / elapsed seconds; packets/s "
             "(CPU) = packets / (user + sys CPU seconds of the process). **vtls-sensor** is the "
             "default run: on a machine with two or more CPUs libpcap reads on a thread of "
             "its own and hands batches of packets to the thread that does everything else "
             "(`--threads 2`), so it is judged by wall time, the rate a span port sees, "
             "against the peers' wall time (all three peers run on one thread, wall ~ CPU). "
             "**vtls-sensor --threads 1** does everything on one thread and is judged by CPU "
             "time, as every row was before the reader thread. The bare loop runs twice: "
             "as libpcap opens a file by itself (glibc's 4 KiB stdio buffer) and through "
             "the page-aligned %d KiB buffer the sensor gives a regular file; the faster of "
             "the two is the limit the target is judged against. Load average during the "
             "bench: %s (other work on the machine inflates wall time, much less CPU "
             "time).\n" % (FILE_BUFFER // 1024, load))
    L.append("| capture | tool | packets | runs | wall s | CPU s | packets/s (wall) "
             "| packets/s (CPU) | vs bare loop | vs faster bare loop | sensor / tool | target |")
    L.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    names = {"bare": "bare libpcap loop (bench_pcap_loop)",
             "bare-buf": "bare libpcap loop, %d KiB stdio buffer as the sensor reads "
                         "(bench_pcap_loop --buffer)" % (FILE_BUFFER // 1024),
             "sensor": "vtls-sensor -r -q",
             "sensor1": "vtls-sensor -r -q --threads 1",
             "sensor-slice": "vtls-sensor -r SLICE -q",
             "ndpi": "ndpiReader -i FILE -q (nDPI 4.2)",
             "tshark": "tshark -r SLICE -Y tls.handshake"}
    checks = []
    for cap, row in thr.items():
        bare, sens = row.get("bare"), row.get("sensor")
        # The limit is the faster of the two bare loops.
        fast = max((row[b] for b in ("bare", "bare-buf") if b in row),
                   key=lambda t: t["pps_wall"], default=None)
        # The default run is judged by wall time when it uses the reader thread.
        key = "pps_wall" if tools.threads else "pps_cpu"
        basis = "wall" if tools.threads else "CPU"
        for tool in ("bare", "bare-buf", "sensor", "sensor1", "ndpi", "sensor-slice", "tshark"):
            if tool not in row:
                continue
            t = row[tool]
            k = "pps_cpu" if tool == "sensor1" else key
            ratio = t[k] / bare[k] if bare else float("nan")
            ratio_fast = t[k] / fast[k] if fast else float("nan")
            # For tshark, judge on its rate without start-up (stricter for the sensor).
            peer = t.get(key + "_steady", t[key])
            # tshark is compared with the sensor on the same slice, both without
            # their start-up; the ratio with the sensor's start-up is given too.
            mine = row.get("sensor-slice", sens) if tool == "tshark" else sens
            s_over = mine.get(key + "_steady", mine[key]) / peer if mine else float("nan")
            s_incl = mine[key] / peer if mine else float("nan")
            target = ""
            if tool == "sensor" and cap == "mixed":
                ok = ratio_fast >= TARGETS["bare"]
                target = ">= %.1fx the faster bare loop: %s" % (TARGETS["bare"], verdict(ok))
                checks.append(("sensor >= 0.5x the faster bare loop (mixed, %s)" % basis,
                               "%.2fx (%.2fx the plain loop; CPU %.2fx)" % (
                                   ratio_fast, ratio, t["pps_cpu"] / fast["pps_cpu"]), ok))
            elif tool == "sensor1" and cap == "mixed":
                target = "(one thread, CPU) %s" % ("above 0.5x" if ratio_fast >= TARGETS["bare"]
                                                   else "below 0.5x")
            elif tool in ("ndpi", "tshark") and cap == "mixed" and sens:
                ok = s_over >= TARGETS[tool]
                target = "sensor >= %.0fx: %s" % (TARGETS[tool], verdict(ok))
                one = row.get("sensor1")
                cpu_over = (one or sens)["pps_cpu"] / t.get("pps_cpu_steady", t["pps_cpu"])
                extra = ("; with the sensor's start-up %.1fx" % s_incl) if tool == "tshark" else ""
                checks.append(("sensor >= %.0fx %s (mixed, %s)" % (TARGETS[tool], tool, basis),
                               "%.1fx (one thread by CPU: %.1fx%s)" % (s_over, cpu_over, extra),
                               ok))
            L.append("| %s | %s%s | %d | %d | %.3f | %.3f | %s | %s | %.3fx | %.3fx | %s | %s |" % (
                cap, names[tool], " (%s)" % t["note"] if t["note"] else "", t["packets"],
                t["runs"], t["wall"], t["cpu"], fmt_rate(t["pps_wall"]), fmt_rate(t["pps_cpu"]),
                ratio, ratio_fast, "%.1fx" % s_over if tool in ("ndpi", "tshark") else "",
                target))
    for tool, why in (("ndpi", tools.ndpi), ("tshark", tools.tshark)):
        if not why:
            L.append("| mixed | %s | | | | | | not available | | | | |" % names[tool])
    for cap, row in thr.items():
        if "sensor" not in row:
            L.append("| %s | %s | | | | | | **FAILED** (see below) | | | | |" % (cap,
                                                                         names["sensor"]))
            checks.append(("vtls-sensor replays the %s capture" % cap, "failed", False))
    L.append("")
    L.append("tshark runs on the first %d packets of the mixed capture (the whole capture "
             "takes about 20 s per run). sensor / tshark divides the sensor's rate on that "
             "same slice by tshark's, both without their start-up (the time of each one's "
             "one-packet run subtracted; the summary also gives the ratio with the sensor's "
             "start-up left in); the one-thread figure in the summary divides "
             "the --threads 1 CPU rate on the whole capture by tshark's CPU rate. ndpiReader "
             "is Debian's libndpi-bin build of nDPI 4.2's own example reader, run with -q, "
             "on one thread.\n" % TSHARK_SLICE)
    if summary and summary[0]:
        L.append("The sensor's own summary of one run over the mixed capture (without -q):\n")
        L.append("```\n%s\n```\n" % summary[0])
    if summary and summary[1]:
        L.append("Its flow records (`--flows`) by kind, a check that the workload is what it "
                 "claims to be:\n")
        L.append("| flows | app_proto | encryption | TLS version | server component |")
        L.append("|---:|---|---|---|---|")
        for k, v in sorted(summary[1].items(), key=lambda kv: -kv[1])[:15]:
            L.append("| %d | %s |" % (v, " | ".join(str(x) if x is not None else "-"
                                                    for x in k)))
        L.append("")

    L.append("## Memory: flood capture (%d flows, SYN + a few bytes each)\n" % fl["flows"])
    L.append("| memcap | peak RSS | RSS - baseline | flows created | evicted | not tracked "
             "| sensor peak (accounted) | bytes/flow (RSS) | bytes/flow (accounted) | packets/s |")
    L.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for label, cap in (("default", "default (256 MiB)"), ("memcap64", "--memcap 64")):
        d = fl.get(label)
        if d is None:
            L.append("| %s | failed | | | | | | | | |" % cap)
            continue
        delta = d["rss"] - fl["base_rss"]
        tracked = (d["created"] - d["evicted"]) if d["created"] is not None else None
        bpf = delta / tracked if tracked else float("nan")
        acc = d["peak_mib"] * 1048576 / tracked if tracked else float("nan")
        L.append("| %s | %.1f MiB | %.1f MiB | %s | %s | %s | %s MiB | %.0f | %.0f | %s |" % (
            cap, d["rss"] / 1048576.0, delta / 1048576.0, d["created"], d["evicted"],
            d["untracked"], d["peak_mib"], bpf, acc, fmt_rate(d["pps"])))
        d["bpf"] = bpf
    L.append("")
    L.append("Baseline RSS (sensor on a one-packet capture): %.1f MiB. Bytes per flow = "
             "(peak RSS - baseline) / (created - evicted), i.e. flows held at the end, which "
             "is the peak for this capture (no flow ends). These flows never reach a "
             "verdict (SYN + a few bytes, no reply), so this is the cost of a flow still being "
             "inspected; flows past their verdict are measured below.\n"
             % (fl["base_rss"] / 1048576.0))
    d = fl.get("default")
    if d and "bpf" in d:
        # The 400 bytes are for flows past their verdict (below); a flood
        # flow never gets one, so this row is reported but not judged.
        checks.append(("bytes per tracked flow in the flood (RSS, before any verdict)",
                       "%.0f B (%s 400 B)" % (d["bpf"], "within" if d["bpf"] <= TARGETS[
                           "bytes_per_flow"] else "above"), None))
    d = fl.get("memcap64")
    if d:
        over = d["rss"] - fl["base_rss"] - 64 * 1048576
        checks.append(("--memcap 64: evictions counted, peak RSS <= one-packet baseline + 64 MiB "
                       "+ 16 MiB slack",
                       "%s evicted; RSS - baseline - 64 MiB = %.1f MiB" % (
                           d["evicted"], over / 1048576.0),
                       bool(d["evicted"]) and over < 16 * 1048576))

    if vm:
        L.append("Flows past their verdict (captures `verdict-small` and `verdict`: %s and %d "
                 "flows of the mixed kinds, 500 opened at a time, each with its handshake and a "
                 "few exchanges, none closed; default memcap):\n"
                 % (vm["small"]["flows"] if "small" in vm else "-", vm["flows"]))
        L.append("| flows created | evicted | peak RSS | RSS - baseline | sensor peak "
                 "(accounted) | bytes/flow (RSS) | bytes/flow (accounted) |")
        L.append("|---:|---:|---:|---:|---:|---:|---:|")
        for v in (vm.get("small"), vm):
            if v is None:
                continue
            held = v["created"] - v["evicted"]
            L.append("| %d | %d | %.1f MiB | %.1f MiB | %.1f MiB | %.0f | %.0f |" % (
                v["created"], v["evicted"], v["rss"] / 1048576.0,
                (v["rss"] - vm["base_rss"]) / 1048576.0, v["peak_mib"],
                (v["rss"] - vm["base_rss"]) / float(held) if held else float("nan"),
                v["peak_mib"] * 1048576 / held if held else float("nan")))
        L.append("")
        if "marginal" in vm:
            L.append("Marginal cost of a flow past its verdict (difference between the two "
                     "rows, so fixed tables and the 500 flows still in their handshake drop "
                     "out): **%.0f bytes RSS**, %.0f bytes accounted by the sensor.\n"
                     % (vm["marginal"], vm["marginal_acc"]))
        per = vm.get("marginal", vm["bpf"])
        checks.append(("<= 400 bytes per tracked flow past its verdict (RSS, marginal)",
                       "%.0f B (RSS/flows %.0f B, accounted %.0f B)"
                       % (per, vm["bpf"], vm.get("marginal_acc", vm["acc"])),
                       per <= TARGETS["bytes_per_flow"]))
    for m, what in ((msv, "flows past their verdict (the `verdict` capture's shape, "
                           "%d flows left open)"),
                    (ms, "the flood (same shape, %d flows)")):
        if not m:
            continue
        L.append(("Where the memory goes for " + what + ": valgrind massif, sensor with "
                  "default memcap, heap at its peak by allocation site:\n") % m["flows"])
        L.append("| bytes | % of heap | bytes/flow | allocation site |\n|---:|---:|---:|---|")
        for b, pct, site in m["rows"]:
            L.append("| %d | %.1f | %.0f | `%s` |" % (b, pct, b / float(m["flows"]), site))
        L.append("")
        L.append("(bytes/flow is bytes / flows; for tables sized at start-up, such as nDPI's "
                 "initialisation or a fixed de-duplication table, it is not a per-flow cost.)\n")

    L.append("## Allocations on the fast path\n")
    if mc is None:
        L.append("not measured (no C compiler or the shim failed)\n")
    else:
        L.append("| capture | packets | malloc | calloc | realloc | aligned | free |")
        L.append("|---|---:|---:|---:|---:|---:|---:|")
        for name in ("malloc1x", "malloc2x"):
            n, c = mc[name]
            L.append("| %s | %d | %d | %d | %d | %d | %d |" % (
                name, n, c["malloc"], c["calloc"], c["realloc"], c["aligned"], c["free"]))
        L.append("")
        n1, c1 = mc["malloc1x"]
        n2, c2 = mc["malloc2x"]
        L.append("Allocation calls (malloc + calloc + realloc + aligned) per extra data "
                 "packet = (%d - %d) / (%d - %d) = **%.4f** (target 0; a difference of a few "
                 "calls over the whole run is start-up or exit noise, not per packet). Counted "
                 "by tests/bench/malloc_count.c (LD_PRELOAD).\n"
                 % (c2["allocs"], c1["allocs"], n2, n1, mc["per_packet"]))
        checks.append(("0 allocations per fast-path packet", "%.4f" % mc["per_packet"],
                       abs(mc["per_packet"]) < 0.001))

    L.append("## Instructions per packet (callgrind, first %d packets of mixed)\n"
             % CALLGRIND_SLICE)
    if not cg:
        L.append("not measured (valgrind absent or failed)\n")
    else:
        L.append("| program | instructions/packet | total Ir | start-up Ir (1 packet) |")
        L.append("|---|---:|---:|---:|")
        for name in ("bare", "sensor"):
            if name in cg:
                c = cg[name]
                L.append("| %s | %.0f | %d | %d |" % (name, c["per_packet"], c["total"],
                                                     c["startup"]))
        L.append("")
        if "sensor" in cg:
            L.append("Instructions/packet = (Ir of the slice - Ir of a one-packet run) / "
                     "packets, so start-up is excluded. Top functions of the sensor by self "
                     "instructions per packet (same subtraction):\n")
            L.append("| Ir/packet | % | function | object |\n|---:|---:|---|---|")
            for ir, pct, fn, lib in cg["sensor"]["top"]:
                L.append("| %.1f | %.1f | `%s` | %s |" % (ir, pct, fn, lib))
            L.append("")
            if cg.get("perf"):
                L.append("Where the time goes (as opposed to instructions): `perf record -e "
                         "cpu-clock` of the sensor on the whole mixed capture, top symbols by "
                         "self samples. Functions that rank higher here than in the "
                         "instruction table are waiting on memory (cache misses):\n")
                L.append("| % of samples | symbol | object |\n|---:|---|---|")
                for pct, sym, obj in cg["perf"]:
                    L.append("| %.1f | `%s` | %s |" % (pct, sym, obj))
                L.append("")
            L.append("The sensor's own functions by inclusive instructions per packet (callees "
                     "included; same subtraction), i.e. where the pipeline spends them:\n")
            L.append("| Ir/packet | function |\n|---:|---|")
            for ir, _pct, fn, _lib in cg["sensor"]["incl"]:
                L.append("| %.1f | `%s` |" % (ir, fn))
            L.append("")

    L.append("## Handshakes and rule evaluations per second\n")
    L.append("| measure | value | from |\n|---|---:|---|")
    slots = (("TLS handshakes/s", ("handshakes_per_sec",)),
             ("rule evaluations/s", ("rule_evals_per_sec",)),
             ("rule events/s", ("events_per_sec",)))
    for label, keys in slots:
        hit = None
        for name, o in others.items():
            for k in keys:
                if k in o["kv"]:
                    hit = (float(o["kv"][k]), name, o["how"])
        if hit:
            L.append("| %s | %s | tests/bench/%s.c (%s) |" % (label, fmt_rate(hit[0]), hit[1],
                                                             hit[2]))
        else:
            L.append("| %s | not yet available | no tests/bench/bench_*.c prints %s |"
                     % (label, keys[0]))
    if vm:
        L.append("| flows from opening to verdict per second, whole pipeline | %s | "
                 "vtls-sensor -r on the `verdict` capture: %d flows (each a real handshake: "
                 "TLS 1.3, MySQL+TLS 1.2, h2c or etcd, plus 2-6 data packets) in %.2f s CPU, "
                 "%s packets/s |" % (fmt_rate(vm["flows_per_s"]), vm["created"], vm["cpu"],
                                     fmt_rate(vm["pps"])))
    L.append("")
    for name, o in others.items():
        L.append("%s (%s):\n" % (name, o["how"]))
        L.append("```\n%s\n```\n" % (o["text"] or "(no output)")[-1500:])

    if lv:
        L.append("## Live capture\n")
        if "error" in lv:
            L.append("not measured: %s\n" % lv["error"])
        else:
            L.append("tcpreplay --topspeed of the mixed capture (%s packets sent at %s "
                     "packets/s) onto a veth; on its peer, in a private network namespace, "
                     "`vtls-sensor -i` (defaults) and `tcpdump -w /dev/null` capture at the "
                     "same time.\n" % (lv.get("sent"), fmt_rate(lv.get("replay_pps") or 0)))
            L.append("| capture | received by filter | dropped by kernel |\n|---|---:|---:|")
            for name in ("sensor", "tcpdump"):
                v = lv.get(name)
                L.append("| %s | %s | %s |" % (name, v[0] if v else "?", v[1] if v else
                                               lv.get(name + "_err", "?")))
            L.append("")

    if FAILURES:
        L.append("## Failed runs\n")
        for cmd, rc, err in FAILURES:
            L.append("`%s` exited with %d:\n\n```\n%s\n```\n" % (cmd, rc, err))

    L.append("## Targets\n")
    L.append("| target | measured | |\n|---|---|---|")
    for what, val, ok in checks:
        L.append("| %s | %s | %s |" % (what, val, verdict(ok)))
    if lv and "error" not in lv and lv.get("sensor") and lv.get("tcpdump"):
        checks_live = lv["sensor"][1] <= lv["tcpdump"][1]
        L.append("| live capture: no more kernel drops than tcpdump on the same veth | "
                 "sensor %d, tcpdump %d | %s |" % (lv["sensor"][1], lv["tcpdump"][1],
                                                   verdict(checks_live)))
        checks.append(("live drops", "", checks_live))
    else:
        L.append("| live capture: no more drops than tcpdump on a veth | not measured (%s) | |"
                 % ((lv or {}).get("error") or "skipped or no drop counts"))
    L.append("")
    return "\n".join(L), checks


def key_numbers(tools, thr, fl, vm, mc, cg, lv, checks):
    """The headline numbers as one JSON object (results.json), for comparing runs."""
    cpu, ncpu, mem, kern, _deb = machine()
    out = dict(time=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
               git=sh(["git", "-C", ROOT, "describe", "--always", "--dirty"]),
               machine=dict(cpu=cpu, nproc=ncpu, memory=mem, kernel=kern),
               targets={c[0]: dict(measured=c[1], met=None if c[2] is None else bool(c[2]))
                        for c in checks})
    for cap, row in thr.items():
        for tool, t in row.items():
            out["pps_cpu.%s.%s" % (cap, tool)] = round(t["pps_cpu"])
            out["pps_wall.%s.%s" % (cap, tool)] = round(t["pps_wall"])
    for label in ("default", "memcap64"):
        d = (fl or {}).get(label)
        if d:
            out["flood.%s" % label] = dict(rss=d["rss"], created=d["created"],
                                           evicted=d["evicted"], bytes_per_flow=d.get("bpf"))
    if vm:
        out["verdict.bytes_per_flow"] = vm["bpf"]
        out["verdict.marginal_bytes_per_flow"] = vm.get("marginal")
        out["verdict.flows_per_s"] = vm["flows_per_s"]
    if mc:
        out["malloc_per_packet"] = mc["per_packet"]
    if cg:
        for name in ("sensor", "bare"):
            if name in cg and isinstance(cg[name], dict):
                out["instructions_per_packet.%s" % name] = cg[name]["per_packet"]
    if lv and "error" not in lv:
        out["live"] = {k: v for k, v in lv.items() if not k.endswith("_err")}
    return out


def main():
    ap = argparse.ArgumentParser(description="vtls-sensor benchmark")
    ap.add_argument("--build", default="build")
    ap.add_argument("--runs", type=int, default=5,
                    help="runs per number for the bare loop and the sensor (peers: up to 3)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--packets", type=int, default=2_100_000)
    ap.add_argument("--flows", type=int, default=22_000)
    ap.add_argument("--flood-flows", type=int, default=1_000_000)
    ap.add_argument("--workdir", help="keep and reuse the generated captures here")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results.md"))
    ap.add_argument("--skip", default="",
                    help="comma list: ndpi,tshark,callgrind,perf,massif,flood,malloc,live")
    args = ap.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    t0 = time.perf_counter()
    load0 = loadavg()
    if not (shutil.which("ndpiReader") and shutil.which("valgrind")):
        subprocess.run([os.path.join(ROOT, "tools", "install-deps.sh"), "libndpi-bin",
                        "valgrind"])
    tmp = None
    if args.workdir:
        wd = os.path.abspath(args.workdir)
        os.makedirs(wd, exist_ok=True)
    else:
        tmp = wd = tempfile.mkdtemp(prefix="vtls-bench-")
    try:
        tools = Tools(args, wd)
        wl = make_workloads(args, wd)
        tools.detect_rules(wl["one"][0])
        thr = throughput(tools, wl, args.runs, skip)
        summary = sensor_summary(tools, wl, wd)
        fl = flood(tools, wl, args.runs) if "flood" not in skip else None
        mc = malloc_counts(tools, wl) if "malloc" not in skip else None
        ms = massif(tools, wl, wd) if "massif" not in skip else None
        msv = massif(tools, wl, wd, "verdict-small") if "massif" not in skip else None
        vm = verdict_memory(tools, wl, args.runs) if "flood" not in skip else None
        lv = live(tools, wl, wd) if "live" not in skip else None
        cg = callgrind(tools, wl, wd) if "callgrind" not in skip else None
        if cg is not None and "perf" not in skip:
            cg["perf"] = perf_profile(tools, wl, wd)
        others = other_benches(tools, wd)
        text, checks = report(args, tools, wl, thr, fl or {"flows": 0, "base_rss": 0}, mc, cg,
                              others, time.perf_counter() - t0, summary,
                              "%s at start, %s at end" % (load0, loadavg()), ms, vm, lv, msv)
        numbers = key_numbers(tools, thr, fl, vm, mc, cg, lv, checks)
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        f.write(text)
    with open(os.path.splitext(args.out)[0] + ".json", "w") as f:
        json.dump(numbers, f, indent=1, sort_keys=True)
        f.write("\n")
    print(text)
    log("wrote %s" % args.out)
    judged = [c for c in checks if c[2] is not None]
    log("targets: %d of %d met" % (sum(1 for c in judged if c[2]), len(judged)))


if __name__ == "__main__":
    main()
