"""Shared helpers for the benchmarks in bench/ (docs/benchmarks.md).

Every benchmark script bench/b_*.py is run by bench/run as

    python3 bench/b_X.py --build BUILD --workdir DIR --json FILE [--quick]

and writes one JSON result (Result below):

    {"id": "aggregation", "title": "1. Aggregation ...",
     "links": [{"name": "l1", "profile": "TMobile-LTE-short.up, 30 ms",
                "capacity_mbit": 13.1, "delivered_mbit": 12.0}],
     "tables": [{"caption": "...", "columns": ["case", "Mbit/s", ...],
                 "rows": [["bundle, 1 TCP flow", 17.9, ...]],
                 "links": [...optional, the links this table ran on...]}],
     "notes": ["..."], "ok": true, "data": {...optional raw figures...}}

It exits 0 when it ran (whatever the figures) and non-zero when it could not.

What is here: the result writer and its markdown rendering (bench/run uses
the same functions), a topology with the link emulator between gateway and
receiver (tests/netns/topology.sh --emulated + tests/linkem/linkemlib.py),
modemd as gateway and receiver (tests/netns/bundlelib.py), kernel MPTCP set
up over the same paths, iperf3 runs and their JSON, a rate-paced pinger and
percentiles, a TCP/MPTCP source and sink that time-stamp delivered bytes
(`python3 benchlib.py sink|source|ping ...`, run inside a namespace), and
the CPU time of a process.
"""
import argparse
import json
import os
import select
import socket
import struct
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.path.normpath(os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(SRCDIR, "tests", "netns"))
sys.path.insert(0, os.path.join(SRCDIR, "tests", "linkem"))
# The repository keeps the traces it replays (tests/linkem/traces);
# MODEMD_TRACES points elsewhere for others from the Mahimahi collection.
TRACES = os.environ.get("MODEMD_TRACES", os.path.join(SRCDIR, "tests", "linkem", "traces"))

# ---- the result file and its markdown ----------------------------------------


class Result:
    def __init__(self, rid, title):
        self.d = {"id": rid, "title": title, "links": [], "tables": [], "notes": [], "ok": True,
                  "data": {}}

    def table(self, caption, columns, rows, links=None):
        t = {"caption": caption, "columns": list(columns), "rows": [list(r) for r in rows]}
        if links:
            t["links"] = links
        self.d["tables"].append(t)
        return t

    def note(self, text):
        self.d["notes"].append(text)

    def fail(self, text):
        """A part that did not run: the result is not ok, the reason is a note."""
        self.d["ok"] = False
        self.note(f"FAILED: {text}")

    def write(self, path):
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.d, f, indent=1)
            f.write("\n")
        os.replace(tmp, path)


def fmt(v):
    """A cell: numbers with sensible precision, None as a dash."""
    if v is None:
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        a = abs(v)
        if a >= 100:
            return f"{v:.0f}"
        if a >= 10:
            return f"{v:.1f}"
        return f"{v:.2f}"
    return str(v).replace("|", "\\|").replace("\n", " ")


def md_table(columns, rows):
    """Markdown table; text columns left-aligned, numeric ones right."""
    rows = [list(r) + [None] * (len(columns) - len(r)) for r in rows]

    def numeric(i):
        return all(r[i] is None or (isinstance(r[i], (int, float)) and not isinstance(r[i], bool))
                   for r in rows)
    out = ["| " + " | ".join(fmt(c) for c in columns) + " |",
           "|" + "|".join(" ---: " if i and numeric(i) else " --- " for i in range(len(columns))) + "|"]
    for r in rows:
        out.append("| " + " | ".join(fmt(c) for c in r) + " |")
    return "\n".join(out)


def md_links(links):
    rows = [[l.get("name"), l.get("profile"), l.get("capacity_mbit"), l.get("delivered_mbit")]
            for l in links]
    return md_table(["link", "profile", "capacity Mbit/s (emulator)", "delivered Mbit/s"], rows)


def md_section(res, status=None):
    """One benchmark's `## title` section: links, tables, notes."""
    out = [f"## {res.get('title') or res.get('id', '?')}", ""]
    if status:
        out += [status, ""]
    # Links shown once: per table when the tables ran on different links.
    if res.get("links") and not any(t.get("links") for t in res.get("tables") or []):
        out += ["Links, as the emulator measured them:", "", md_links(res["links"]), ""]
    for t in res.get("tables") or []:
        if t.get("caption"):
            out += [f"**{t['caption']}**", ""]
        if t.get("links"):
            out += ["Links, as the emulator measured them in this run:", "", md_links(t["links"]), ""]
        out += [md_table(t.get("columns") or [], t.get("rows") or []), ""]
    for n in res.get("notes") or []:
        out.append(f"- {n}")
    if res.get("notes"):
        out.append("")
    return "\n".join(out)


# ---- script skeleton ----------------------------------------------------------


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def bench_main(rid, title, run, extra_args=None, default_prefix="bx"):
    """Parse the common arguments, run run(args, result), write the JSON.

    Exit 0 when the JSON was written (parts that failed are notes and
    ok=false), 1 when the benchmark could not run at all."""
    ap = argparse.ArgumentParser(description=title)
    ap.add_argument("--build", default="build", help="build directory (modemd, mpctl, linkem)")
    ap.add_argument("--workdir", required=True, help="logs and generated files")
    ap.add_argument("--json", required=True, help="write the result here")
    ap.add_argument("--quick", action="store_true", help="short cases (~8 s each)")
    ap.add_argument("--prefix", default=default_prefix, help="namespace name prefix")
    ap.add_argument("--keep", action="store_true", help="leave namespaces and daemons for a look")
    ap.add_argument("--cc", default="cubic",
                    help="TCP congestion control in the gateway and receiver (default cubic, "
                         "Linux's default; the host's may differ)")
    if extra_args:
        extra_args(ap)
    a = ap.parse_args()
    a.build = os.path.abspath(a.build)
    a.workdir = os.path.abspath(a.workdir)
    os.makedirs(a.workdir, exist_ok=True)
    res = Result(rid, title)
    try:
        check_tools(a.build)
        run(a, res)
    except Exception as e:  # noqa: BLE001 (any failure is the benchmark's result)
        traceback.print_exc()
        res.d["ok"] = False
        res.d["error"] = f"{type(e).__name__}: {e}"
        res.write(a.json)
        sys.exit(1)
    res.write(a.json)
    log(f"{rid}: wrote {a.json} ({'ok' if res.d['ok'] else 'NOT ok'})")


def check_tools(build):
    if os.geteuid() != 0:
        raise RuntimeError("needs root (network namespaces, veth, raw sockets)")
    for exe in ("modemd/modemd", "mpctl/mpctl", "tests/linkem/linkem"):
        if not os.access(os.path.join(build, exe), os.X_OK):
            raise RuntimeError(f"{build}/{exe} is not built")
    for tool in ("ip", "ss", "iperf3", "mptcpize", "ethtool"):
        if subprocess.run(["sh", "-c", f"command -v {tool}"], capture_output=True).returncode:
            raise RuntimeError(f"{tool} is not installed (scripts/install-deps.sh)")


# ---- numbers ------------------------------------------------------------------


def percentile(values, p):
    """Linear-interpolated percentile (p in 0..100) of a list; None if empty."""
    v = sorted(x for x in values if x is not None)
    if not v:
        return None
    if len(v) == 1:
        return float(v[0])
    k = (len(v) - 1) * p / 100.0
    i = int(k)
    j = min(i + 1, len(v) - 1)
    return v[i] + (v[j] - v[i]) * (k - i)


def ratio(a, b):
    return None if a is None or not b else a / b


def mbit(nbytes, seconds):
    return nbytes * 8 / seconds / 1e6 if seconds > 0 else None


def cpu_seconds(pid, children=False):
    """User+system CPU time of a process from /proc/PID/stat (s)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is field 3 (state): utime is field 14, stime 15, cutime 16, cstime 17.
    ticks = int(fields[11]) + int(fields[12])
    if children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / os.sysconf("SC_CLK_TCK")


def iperf_summary(j):
    """Goodput (receiver side, Mbit/s), sender retransmits, seconds."""
    end = j.get("end") or {}
    rcv = end.get("sum_received") or {}
    snd = end.get("sum_sent") or {}
    return {"mbit": rcv.get("bits_per_second", 0) / 1e6, "bytes": rcv.get("bytes", 0),
            "seconds": rcv.get("seconds"), "retransmits": snd.get("retransmits")}


# ---- link emulator topology -----------------------------------------------------


def trace(name):
    p = os.path.join(TRACES, name)
    if not os.path.exists(p):
        raise RuntimeError(f"trace {p} missing (set MODEMD_TRACES)")
    return p


def trace_link(name, up_trace, delay_ms, queue_ms):
    """A link replaying TRACE.up gateway->receiver and TRACE.down back."""
    base = up_trace[:-3] if up_trace.endswith(".up") else up_trace
    return {"name": name, "profile": f"{base}.up, {delay_ms} ms",
            "up": {"trace": trace(base + ".up"), "delay_ms": delay_ms, "queue_ms": queue_ms},
            "down": {"trace": trace(base + ".down"), "delay_ms": delay_ms, "queue_ms": queue_ms}}


def rate_link(name, rate_mbit, delay_ms, queue_ms):
    return {"name": name, "profile": f"{rate_mbit:g} Mbit/s, {delay_ms} ms",
            "up": {"rate_mbit": float(rate_mbit), "delay_ms": delay_ms, "queue_ms": queue_ms},
            "down": {"rate_mbit": float(rate_mbit), "delay_ms": delay_ms, "queue_ms": queue_ms}}


def _cfg_val(v):
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, float):
        return repr(v)
    return str(v)


def biggest(links, seconds):
    """Index (0-based) of the link whose upload offers the most in the first
    `seconds` after a reset: the stretch a case sees."""
    import linkemlib

    def up(l):
        u = l["up"]
        return linkemlib.mean_mbit(u["trace"], 0, seconds) if "trace" in u else u["rate_mbit"]
    rates = [up(l) for l in links]
    return rates.index(max(rates)), rates


def linkem_conf(links):
    """libconfig text for linkem: link k bridges em:gK <-> em:rK."""
    out = ["# generated by bench/benchlib.py", "links = ("]
    for k, l in enumerate(links, 1):
        dirs = []
        for d in ("up", "down"):
            kv = " ".join(f"{key} = {_cfg_val(val)};" for key, val in l[d].items())
            dirs.append(f"    {d} = {{ {kv} }};")
        out.append(f'  {{ name = "{l["name"]}"; a = "g{k}"; b = "r{k}";')
        out += dirs
        out.append("  }" + ("," if k < len(links) else ""))
    out.append(");")
    return "\n".join(out) + "\n"


def link_rates(stats, links, direction="up"):
    """Per link from linkem stats since the last reset: offered capacity and
    delivered rate (Mbit/s), delivered bytes."""
    el = stats.get("elapsed_s") or 0
    out = {}
    by = {l["name"]: l for l in stats.get("links", [])}
    for l in links:
        s = (by.get(l["name"]) or {}).get(direction) or {}
        out[l["name"]] = {"capacity_mbit": mbit(s.get("capacity_bytes", 0), el),
                          "delivered_mbit": mbit(s.get("delivered_bytes", 0), el),
                          "delivered_bytes": s.get("delivered_bytes", 0),
                          "dropped_queue": s.get("dropped_queue", 0),
                          "dropped_outage": s.get("dropped_outage", 0),
                          "mean_delay_ms": s.get("mean_delay_ms")}
    return out


def shares(rates):
    tot = sum(r["delivered_bytes"] for r in rates.values()) or 1
    return {n: r["delivered_bytes"] / tot for n, r in rates.items()}


def shares_text(rates):
    return " / ".join(f"{100 * s:.0f}%" for s in shares(rates).values())


from bundlelib import (SECRET, RX_TUN_ADDR, Bed, bundle_of, gateways_of, link_dead, link_up,  # noqa: E402
                       links_of, sh, wait_for)

TOPO = os.path.join(SRCDIR, "tests", "netns", "topology.sh")
MPTCP_ADDR = "10.201.0.1"  # the receiver's public address: MPTCP's server


class Bench(Bed):
    """Namespaces PREFIXgw, PREFIXem, PREFIXrx (topology.sh --emulated), linkem
    in PREFIXem, modemd gateway+receiver on demand, MPTCP on demand."""

    def __init__(self, args, name, npaths=3):
        # Not Bed.__init__: it builds a plain topology with its own prefix.
        self.args = args
        self.workdir = os.path.join(args.workdir, name)
        os.makedirs(self.workdir, exist_ok=True)
        self.modemd = os.path.join(args.build, "modemd", "modemd")
        self.mpctl_bin = os.path.join(args.build, "mpctl", "mpctl")
        self.keep = args.keep
        self.prefix = args.prefix
        self.extra_ns, self.daemons, self.procs, self.shapes = [], [], [], {}
        self.npaths = npaths
        self.em = f"{self.prefix}em"
        self.linkem = None
        self.rxd = self.gwd = None
        self._drop_namespaces()  # a crashed earlier run of the same prefix
        r = sh(TOPO, "up", self.prefix, str(npaths), "--emulated", check=False, timeout=60)
        if r.returncode != 0:
            raise RuntimeError(f"topology.sh up {self.prefix} --emulated: {r.stderr.strip()}")
        self.info = dict(l.split("=", 1) for l in r.stdout.split() if "=" in l)
        self.gw = self.info.get("GW_NS", f"{self.prefix}gw")
        self.rx = self.info.get("RX_NS", f"{self.prefix}rx")
        self.rx_addr = self.info.get("RX_ADDR", MPTCP_ADDR)
        # Every TCP sender here (plain, the bundle's inner flows, MPTCP) uses
        # the same congestion control, whatever the host's default: set per
        # socket (iperf3 -C, source --cc), as a namespace may only default
        # to the host's allowed ones.
        self.cc = getattr(args, "cc", "cubic")

    def _drop_namespaces(self):
        sh(TOPO, "down", self.prefix, check=False, timeout=60)
        for ns in ("gw", "em", "rx"):
            sh("ip", "netns", "del", f"{self.prefix}{ns}", check=False)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ---- emulator -----------------------------------------------------------
    def start_linkem(self, links):
        import linkemlib
        self.stop_linkem()
        self.links = links
        conf = linkem_conf(links)
        self.linkem = linkemlib.Linkem(self.args.build, self.em, conf, self.workdir, rt_prio=10)
        self.linkem.start()
        return self.linkem

    def stop_linkem(self):
        if self.linkem:
            try:
                self.linkem.stop()
            finally:
                self.linkem = None

    def reset(self):
        self.linkem.reset()

    def rates(self):
        return link_rates(self.linkem.stats(), self.links)

    # ---- bundle ---------------------------------------------------------------
    def start_bundle(self, timeout=30):
        self.rxd = self.receiver([("gw1", SECRET)])
        self.gwd = self.gateway(self.gw, "gw1", self.main_links())
        n = self.npaths
        self.gwd.wait_links_up(n, timeout)

        def rx_up():
            for g in gateways_of(self.rxd.status()):
                if g.get("name") == "gw1":
                    return sum(link_up(l) for l in links_of(g)) >= n
            return False
        wait_for(f"receiver: gw1 with {n} links up", rx_up, timeout, interval=0.2)
        self.gwd.tun_address(timeout)
        wait_for("ping through the bundle", lambda: pings(self.gw, RX_TUN_ADDR), timeout, interval=0.5)
        return self.gwd, self.rxd

    def stop_bundle(self):
        for d in (self.gwd, self.rxd):
            if d:
                d.stop()
                if d in self.daemons:
                    self.daemons.remove(d)
        self.gwd = self.rxd = None

    def gw_link(self, name):
        for l in links_of(bundle_of(self.gwd.status())):
            if l.get("name") == name:
                return l
        return None

    # ---- MPTCP over the same paths ---------------------------------------------
    def mptcp_up(self):
        """Kernel MPTCP: one subflow per path, each leaving by its own path
        (policy routing by source address)."""
        for ns in (self.gw, self.rx):
            sh("ip", "-n", ns, "mptcp", "limits", "set", "subflow", str(self.npaths),
               "add_addr_accepted", str(self.npaths))
            sh("ip", "-n", ns, "mptcp", "endpoint", "flush")
        for k in range(1, self.npaths + 1):
            t = str(200 + k)
            sh("ip", "-n", self.gw, "route", "replace", "default", "via", f"10.200.{k}.1",
               "dev", f"path{k}", "table", t)
            sh("ip", "-n", self.gw, "rule", "add", "from", f"10.200.{k}.2", "table", t,
               "priority", str(900 + k))
            if k > 1:
                sh("ip", "-n", self.gw, "mptcp", "endpoint", "add", f"10.200.{k}.2", "dev",
                   f"path{k}", "subflow")

    def mptcp_down(self):
        for k in range(1, self.npaths + 1):
            sh("ip", "-n", self.gw, "rule", "del", "priority", str(900 + k), check=False)
            sh("ip", "-n", self.gw, "route", "flush", "table", str(200 + k), check=False)
        sh("ip", "-n", self.gw, "mptcp", "endpoint", "flush", check=False)

    def mptcp_subflows(self):
        """Established MPTCP subflows (TCP sockets with the mptcp ULP) in the gateway."""
        r = sh("ss", "-N", self.gw, "-Htni", "state", "established", check=False)
        return r.stdout.count("tcp-ulp-mptcp")

    # ---- iperf3 ---------------------------------------------------------------
    def iperf_server(self, addr, port=5201, mptcp=False):
        logp = os.path.join(self.workdir, f"iperf3-server-{port}.log")
        argv = ["ip", "netns", "exec", self.rx] + (["mptcpize", "run"] if mptcp else []) + \
               ["iperf3", "-s", "-1", "-B", addr, "-p", str(port)]
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=open(logp, "w"),
                             stderr=subprocess.STDOUT)
        self.procs.append(p)

        def listening():
            if p.poll() is not None:
                raise AssertionError(f"iperf3 server exited {p.returncode}: {open(logp).read()}")
            return sh("ss", "-N", self.rx, "-Htln", f"src {addr}:{port}").stdout.strip() != ""
        wait_for(f"iperf3 server on {addr}:{port}", listening, 10, interval=0.05)
        return p

    def iperf_client(self, addr, seconds, port=5201, bind=None, parallel=1, mptcp=False):
        argv = ["ip", "netns", "exec", self.gw] + (["mptcpize", "run"] if mptcp else []) + \
               ["iperf3", "-c", addr, "-p", str(port), "-t", str(seconds), "-J",
                "--connect-timeout", "5000", "-C", self.cc]
        if bind:
            argv += ["-B", bind]
        if parallel > 1:
            argv += ["-P", str(parallel)]
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        self.procs.append(p)
        p.seconds = seconds
        return p

    def iperf(self, p):
        return iperf_summary(self.iperf_result(p, p.seconds + 40))

    # ---- our own probes (run inside a namespace) -------------------------------
    def spawn(self, ns, *argv, stdout=subprocess.PIPE):
        p = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, os.path.abspath(__file__),
                              *argv], stdin=subprocess.DEVNULL, stdout=stdout,
                             stderr=subprocess.PIPE, text=True)
        self.procs.append(p)
        return p

    def pinger(self, ns, addr, seconds, rate=20, iface=None):
        argv = ["ping", addr, "--rate", str(rate), "--seconds", str(seconds)]
        if iface:
            argv += ["--iface", iface]
        return self.spawn(ns, *argv)

    @staticmethod
    def collect(p, timeout):
        """JSON printed by one of our probes."""
        try:
            out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
            raise AssertionError(f"probe did not finish within {timeout:.0f} s: {err.strip()}")
        if p.returncode != 0:
            raise AssertionError(f"probe exited {p.returncode}: {err.strip()[-500:]}")
        return json.loads(out)

    def close(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        for d in list(self.daemons):
            d.stop()
        try:
            self.stop_linkem()
        except Exception as e:  # noqa: BLE001 (teardown goes on)
            log(f"linkem stop: {e}")
        if self.keep:
            log(f"kept: namespaces {self.gw} {self.em} {self.rx}")
            return
        self._drop_namespaces()


def link_dead_now(bench, name):
    l = bench.gw_link(name)
    return l is not None and link_dead(l)


def pings(ns, addr):
    r = sh("ip", "netns", "exec", ns, sys.executable, os.path.abspath(__file__), "ping", addr,
           "--rate", "5", "--seconds", "0.2", check=False, timeout=15)
    try:
        return r.returncode == 0 and json.loads(r.stdout)["received"] > 0
    except ValueError:
        return False


def ping_summary(j, t_from=None, t_to=None):
    """p50/p99/loss of a pinger's result, optionally only echoes sent in
    [t_from, t_to] (monotonic seconds)."""
    sel = [(t, r) for t, r in zip(j["sent_at"], j["rtt_ms"])
           if (t_from is None or t >= t_from) and (t_to is None or t <= t_to)]
    rtts = [r for _, r in sel if r is not None]
    return {"n": len(sel), "p50": percentile(rtts, 50), "p99": percentile(rtts, 99),
            "loss": (1 - len(rtts) / len(sel)) if sel else None}


# ---- probes: pinger, TCP source and sink (python3 benchlib.py CMD ...) ----------


def _csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def cmd_ping(a):
    """Echoes at a fixed rate (not waiting for replies, so a queue does not
    slow the probe down); prints send times and RTTs (null: lost)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    if a.iface:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, a.iface.encode())
    ident = (os.getpid() * 7) & 0xFFFF
    n = max(1, int(a.seconds * a.rate))
    sent_at, rtt = [], [None] * n
    t0 = time.monotonic()
    i = 0
    end = None
    while True:
        now = time.monotonic()
        if i < n and now >= t0 + i / a.rate:
            payload = b"modemd-bench" * 4
            hdr = struct.pack("!BBHHH", 8, 0, 0, ident, i & 0xFFFF)
            pkt = struct.pack("!BBHHH", 8, 0, _csum(hdr + payload), ident, i & 0xFFFF) + payload
            sent_at.append(now)
            try:
                sock.sendto(pkt, (a.addr, 0))
            except OSError:
                pass
            i += 1
            if i == n:
                end = now + a.wait
            continue
        nxt = t0 + i / a.rate if i < n else end
        if end is not None and (now >= end or all(r is not None for r in rtt)):
            break
        r, _, _ = select.select([sock], [], [], max(0.0, nxt - now))
        if not r:
            continue
        data, src = sock.recvfrom(2048)
        got = time.monotonic()
        ihl = (data[0] & 0x0F) * 4
        if len(data) < ihl + 8 or src[0] != a.addr:
            continue
        typ, _, _, rid, seq = struct.unpack("!BBHHH", data[ihl:ihl + 8])
        if typ != 0 or rid != ident:
            continue
        # Sequence numbers wrap at 65536 echoes: the latest one sent with it.
        for k in range(seq, len(sent_at), 65536)[::-1]:
            if rtt[k] is None:
                rtt[k] = (got - sent_at[k]) * 1000
                break
    print(json.dumps({"sent": len(sent_at), "received": sum(r is not None for r in rtt),
                      "sent_at": sent_at, "rtt_ms": rtt[:len(sent_at)]}))


def _stream_socket(mptcp):
    return socket.socket(socket.AF_INET, socket.SOCK_STREAM,
                         getattr(socket, "IPPROTO_MPTCP", 262) if mptcp else 0)


def cmd_sink(a):
    """Accept one connection, read to the end; delivered bytes per bucket,
    the longest gap between two reads that returned data, how it ended."""
    ls = _stream_socket(a.mptcp)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((a.bind, a.port))
    ls.listen(1)
    print("listening", flush=True)
    ls.settimeout(a.accept_timeout)
    c, _ = ls.accept()
    # The listener stays open: MPTCP's MP_JOIN SYNs for more subflows arrive there.
    # A flow silent this long is dead: say so instead of waiting forever.
    c.settimeout(a.idle_timeout)
    bucket = a.bucket_ms / 1000
    buckets = []
    total, first, last, gap, gap_at, end = 0, None, None, 0.0, None, "eof"
    buf = bytearray(1 << 18)
    while True:
        try:
            n = c.recv_into(buf)
        except socket.timeout:
            end = f"stalled: no data for {a.idle_timeout:g} s"
            break
        except OSError as e:
            end = f"error: {e.strerror or e}"
            break
        now = time.monotonic()
        if n == 0:
            break
        if first is None:
            first = now
        elif now - last > gap:
            gap, gap_at = now - last, last
        last = now
        i = int((now - first) / bucket)
        if i >= len(buckets):
            buckets.extend([0] * (i + 1 - len(buckets)))
        buckets[i] += n
        total += n
    c.close()
    ls.close()
    if end != "eof" and last is not None:  # the silence that ended the flow is a gap too
        if time.monotonic() - last > gap:
            gap, gap_at = time.monotonic() - last, last
    json.dump({"bytes": total, "end": end, "first": first, "last": last, "max_gap_ms": gap * 1000,
               "max_gap_at": gap_at, "bucket_ms": a.bucket_ms, "buckets": buckets},
              open(a.out, "w"))


def _unsent(s):
    import fcntl
    try:
        return struct.unpack("i", fcntl.ioctl(s.fileno(), 0x894B, b"\0" * 4))[0]
    except OSError:
        return 0


def cmd_source(a):
    """Connect, write for SECONDS, close our side, wait for the sink's close."""
    s = _stream_socket(a.mptcp)
    # Keep little unsent data in the socket: the flow then ends about when
    # the writing does, instead of draining megabytes of buffer afterwards.
    try:
        s.setsockopt(socket.IPPROTO_TCP, getattr(socket, "TCP_NOTSENT_LOWAT", 25), 256 * 1024)
    except OSError:
        pass
    if a.cc:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, a.cc.encode())
    if a.bind:
        s.bind((a.bind, 0))
    err = None
    sent = 0
    t0 = time.monotonic()
    try:
        s.settimeout(10)
        s.connect((a.addr, a.port))
        s.settimeout(30)  # a stall longer than this is a dead flow
        chunk = b"\0" * 65536
        while time.monotonic() - t0 < a.seconds:
            # MPTCP ignores TCP_NOTSENT_LOWAT: hold back while the socket
            # has more than 256 KiB not yet sent (SIOCOUTQNSD).
            while _unsent(s) > 256 * 1024 and time.monotonic() - t0 < a.seconds:
                time.sleep(0.002)
            sent += s.send(chunk)
        s.shutdown(socket.SHUT_WR)
        while s.recv(4096):
            pass
    except OSError as e:
        err = f"{type(e).__name__}: {e.strerror or e}"
    finally:
        s.close()
    print(json.dumps({"sent": sent, "error": err, "started": t0, "ended": time.monotonic()}))


def probe_main():
    ap = argparse.ArgumentParser(description="benchmark probes, run inside a namespace")
    sp = ap.add_subparsers(dest="cmd", required=True)
    p = sp.add_parser("ping")
    p.add_argument("addr")
    p.add_argument("--rate", type=float, default=20)
    p.add_argument("--seconds", type=float, default=10)
    p.add_argument("--iface")
    p.add_argument("--wait", type=float, default=2.0, help="after the last echo")
    p = sp.add_parser("sink")
    p.add_argument("--bind", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--mptcp", action="store_true")
    p.add_argument("--bucket-ms", type=int, default=10)
    p.add_argument("--accept-timeout", type=float, default=30)
    p.add_argument("--idle-timeout", type=float, default=30)
    p = sp.add_parser("source")
    p.add_argument("addr")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--seconds", type=float, required=True)
    p.add_argument("--bind")
    p.add_argument("--mptcp", action="store_true")
    p.add_argument("--cc", help="TCP congestion control")
    a = ap.parse_args()
    {"ping": cmd_ping, "sink": cmd_sink, "source": cmd_source}[a.cmd](a)


if __name__ == "__main__":
    probe_main()
