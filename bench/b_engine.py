#!/usr/bin/env python3
"""Benchmark 4: engine throughput on an unshaped veth path (host, root).

One topology (tests/netns/topology.sh up b4 N: namespaces b4gw and b4rx, N
veth paths, no emulator, no shaping). On it, in the same run:

  raw        iperf3 straight over path 1 (10.200.1.2 -> 10.200.1.1)
  bundle     modemd gateway (b4gw) + receiver (b4rx) over the N paths;
             iperf3 to the receiver's TUN address
  ovpn-none  OpenVPN 2.6 peer-to-peer, static key, --cipher none --auth none
             (no crypto: the like-for-like peer, our bundle does not encrypt)
  ovpn-aes   OpenVPN static key, AES-256-CBC + HMAC-SHA256
  ovpn-gcm   OpenVPN TLS (certificates made here with openssl), AES-256-GCM
             data channel: what a default 2.6 deployment runs

each with iperf3 UDP (-b 0, -l 1350, receiver-side rate and loss) and one
TCP flow. CPU: user+sys seconds of the engine processes (modemd gw+rx, the
two openvpn) from /proc/PID/stat around each transfer, per Gbit delivered.

    bench/b_engine.py --build BUILD --workdir DIR --json FILE [--quick] [--paths N]

Writes the JSON described in docs/benchmarks.md and prints a summary. Exit 0
when it ran (whatever the figures), non-zero when it could not.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.path.normpath(os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(SRCDIR, "tests", "netns"))
import bundlelib as bl  # noqa: E402
from bundlelib import PORT, RX_TUN_ADDR, Daemon, sh, wait_for  # noqa: E402

PREFIX = "b4"
GW, RX = PREFIX + "gw", PREFIX + "rx"
TOPO = os.path.join(SRCDIR, "tests", "netns", "topology.sh")
PAYLOAD = 1350           # iperf3 -l: an inner IP packet of 1378 fits every tunnel unfragmented
OVPN_GW, OVPN_RX = "10.78.0.2", "10.78.0.1"
OVPN_PORT = 1194
TICK = os.sysconf("SC_CLK_TCK")


def log(msg):
    print(msg, flush=True)


# ---- CPU accounting -------------------------------------------------------------

def proc_cpu(pid):
    """user+sys seconds of one process (children not included)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime (fields 14, 15)


def host_cpu():
    """(busy, total) jiffies of the whole machine."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return sum(v) - idle, sum(v)


def reasm_reqds(ns):
    """IP fragments the namespace had to reassemble (a tunnel too big for the path)."""
    lines = [l.split() for l in sh("ip", "netns", "exec", ns, "cat", "/proc/net/snmp").stdout
             .splitlines() if l.startswith("Ip:")]
    return int(lines[1][lines[0].index("ReasmReqds")])


# ---- iperf3 ---------------------------------------------------------------------

class Iperf:
    def __init__(self, workdir):
        self.workdir = workdir
        self.procs = []
        self.port = 5300

    def run(self, srv_addr, seconds, udp, tag, rate=0):
        """iperf3 server in RX on srv_addr, client in GW; returns the client's JSON."""
        self.port += 1
        port = self.port
        logp = os.path.join(self.workdir, f"iperf3-{tag}-server.log")
        srv = subprocess.Popen(["ip", "netns", "exec", RX, "iperf3", "-s", "-1", "-B", srv_addr,
                                "-p", str(port)], stdin=subprocess.DEVNULL,
                               stdout=open(logp, "w"), stderr=subprocess.STDOUT)
        self.procs.append(srv)
        wait_for(f"iperf3 server on {srv_addr}:{port}",
                 lambda: srv.poll() is None and
                 sh("ss", "-N", RX, "-Hln", f"src {srv_addr}:{port}").stdout.strip(), 10)
        argv = ["ip", "netns", "exec", GW, "iperf3", "-c", srv_addr, "-p", str(port),
                "-t", str(seconds), "-J", "--connect-timeout", "5000"]
        if udp:
            argv += ["-u", "-b", f"{rate:.0f}M" if rate else "0", "-l", str(PAYLOAD)]
        r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=seconds + 40)
        with open(os.path.join(self.workdir, f"iperf3-{tag}.json"), "w") as f:
            f.write(r.stdout)
        try:
            j = json.loads(r.stdout)
        except ValueError:
            j = {}
        try:
            srv.wait(10)
        except subprocess.TimeoutExpired:
            srv.kill()
            srv.wait()
        if r.returncode != 0 or "error" in j:
            raise RuntimeError(f"iperf3 {tag}: exit {r.returncode}: {j.get('error') or r.stderr.strip()}")
        return j

    def close(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()


def measure(ip, tag, srv_addr, seconds, udp, engine_pids, rate=0):
    """One transfer with CPU accounting; returns a result dict."""
    c0 = {p: proc_cpu(p) for p in engine_pids}
    h0 = host_cpu()
    f0 = reasm_reqds(RX)
    t0 = time.monotonic()
    j = ip.run(srv_addr, seconds, udp, tag, rate)
    wall = time.monotonic() - t0
    f1 = reasm_reqds(RX)
    h1 = host_cpu()
    c1 = {p: proc_cpu(p) for p in engine_pids}
    rcv = j["end"]["sum_received"]
    sent = j["end"]["sum_sent"]
    mbit = rcv["bits_per_second"] / 1e6
    r = {"tag": tag, "udp": udp, "rate": rate, "mbit": mbit, "bytes": rcv["bytes"], "seconds": rcv["seconds"],
         "sent_mbit": sent["bits_per_second"] / 1e6,
         "cpu_s": [c1[p] - c0[p] for p in engine_pids],
         "host_busy": (h1[0] - h0[0]) / max(1, h1[1] - h0[1]),
         "wall": wall, "fragments": f1 - f0,
         "iperf_cpu": j["end"].get("cpu_utilization_percent", {})}
    if udp:
        r["pps"] = rcv["bytes"] / PAYLOAD / max(rcv["seconds"], 1e-9)
        r["loss"] = rcv.get("lost_percent")
    else:
        # TCP: segments of the MSS-sized payload (mss 1400-40 through our TUN).
        r["pps"] = None
        r["retransmits"] = sent.get("retransmits")
    return r


def find_rate(ip, case, addr, pids, b0_mbit):
    """Highest offered UDP rate the tunnel carries with <= MAX_LOSS % loss, in
    short steps up from what -b 0 delivered (the -b 0 sender burns a core on
    packets the tunnel drops anyway, so paced senders get more through)."""
    rate, best, step = max(1.0, b0_mbit), None, 1.0
    for i in range(SEARCH_STEPS):
        r = measure(ip, f"{case}-search{i}", addr, SEARCH_SECONDS, True, pids, rate)
        good = r["loss"] is not None and r["loss"] <= MAX_LOSS
        log(f"   search {rate:.0f}M: {r['mbit']:.0f} Mbit/s, loss {r['loss']:.1f}%")
        if good:
            best = rate
            if step < 1:  # came down to a good rate: the next step up failed already
                break
            rate *= 1.25
        else:
            if best is not None:
                break
            step = 0.75
            rate *= step
    return best if best is not None else rate


# ---- the engines ------------------------------------------------------------------

class Bed:
    """What bundlelib.Daemon needs from a bed, on the fixed b4 namespaces."""

    def __init__(self, build, workdir):
        self.workdir = workdir
        self.modemd = os.path.join(build, "modemd", "modemd")
        self.mpctl_bin = os.path.join(build, "mpctl", "mpctl")
        self.daemons = []


def daemon(bed, ns, role, name, body):
    d = Daemon(bed, ns, role, name, body)
    # bundlelib writes log_level debug; a throughput run wants the normal level.
    with open(d.conf) as f:
        text = f.read().replace('log_level = "debug";', 'log_level = "info";')
    with open(d.conf, "w") as f:
        f.write(text)
    return d.start()


def start_bundle(bed, npaths):
    rx = daemon(bed, RX, "receiver", "rx", f"""receiver = {{
  listen = "0.0.0.0";
  port = {PORT};
  name = "receiver";
  tun = "mp0";
  local_address = "{RX_TUN_ADDR}";
  pool = "{bl.POOL}";
  require_auth = "chap";
  users = ( {{ name = "gw1"; secret = "{bl.SECRET}"; }} );
}};""")
    links = ",\n".join(f'    {{ name = "p{k}"; interface = "path{k}"; gateway = "10.200.{k}.1"; }}'
                       for k in range(1, npaths + 1))
    gw = daemon(bed, GW, "gateway", "gw1", f"""bundle = {{
  receiver = "10.201.0.1";
  port = {PORT};
  name = "gw1";
  secret = "{bl.SECRET}";
  tun = "mp0";
  modem_links = false;
  links = (
{links}
  );
}};""")
    gw.wait_links_up(npaths, 30)
    gw.tun_address(15)
    wait_for("ping through the bundle", lambda: bl.pings(GW, RX_TUN_ADDR), 15, interval=0.3)
    return [gw, rx]


def make_pki(d):
    """A CA and one certificate per side, by openssl, in d (TLS mode)."""
    def ossl(*a):
        r = subprocess.run(["openssl", *a], cwd=d, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"openssl {' '.join(a)}: {r.stderr.strip()}")
    if os.path.exists(os.path.join(d, "gw.crt")):
        return
    ossl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", "ca.key", "-out", "ca.crt", "-days", "30", "-subj", "/CN=b4-ca")
    for who in ("rx", "gw"):
        ext = os.path.join(d, f"{who}.ext")
        with open(ext, "w") as f:
            f.write("basicConstraints=CA:FALSE\n"
                    f"extendedKeyUsage={'serverAuth' if who == 'rx' else 'clientAuth'}\n"
                    "keyUsage=digitalSignature,keyAgreement\n")
        ossl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", f"{who}.key", "-out", f"{who}.csr", "-subj", f"/CN=b4-{who}")
        ossl("x509", "-req", "-in", f"{who}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
             "-CAcreateserial", "-out", f"{who}.crt", "-days", "30", "-extfile", ext)


class OpenVPN:
    """Two openvpn processes, peer to peer over path 1, a tun device each side."""

    def __init__(self, workdir, mode):
        self.dir = os.path.join(workdir, f"ovpn-{mode}")
        os.makedirs(self.dir, exist_ok=True)
        self.mode = mode
        self.procs = []
        key = os.path.join(workdir, "static.key")
        if mode in ("none", "aes") and not os.path.exists(key):
            sh("openvpn", "--genkey", "secret", key)
        common = ["--dev", "ovpn0", "--dev-type", "tun", "--proto", "udp",
                  "--tun-mtu", "1400", "--verb", "3", "--ping", "10"]
        if mode == "none":
            crypto = [["--secret", key, "--cipher", "none", "--auth", "none"]] * 2
        elif mode == "aes":
            crypto = [["--secret", key, "--cipher", "AES-256-CBC", "--auth", "SHA256"]] * 2
        else:
            make_pki(workdir)
            pki = lambda who: ["--ca", os.path.join(workdir, "ca.crt"),  # noqa: E731
                               "--cert", os.path.join(workdir, f"{who}.crt"),
                               "--key", os.path.join(workdir, f"{who}.key"),
                               "--data-ciphers", "AES-256-GCM"]
            crypto = [pki("gw") + ["--tls-client", "--remote-cert-tls", "server"],
                      pki("rx") + ["--tls-server", "--dh", "none"]]
        sides = [(GW, "10.200.1.2", "10.200.1.1", OVPN_GW, OVPN_RX, crypto[0]),
                 (RX, "10.200.1.1", "10.200.1.2", OVPN_RX, OVPN_GW, crypto[1])]
        for ns, local, remote, me, peer, cr in sides:
            logp = os.path.join(self.dir, f"{ns}.log")
            argv = ["ip", "netns", "exec", ns, "openvpn", *common,
                    "--local", local, "--lport", str(OVPN_PORT),
                    "--remote", remote, "--rport", str(OVPN_PORT),
                    "--ifconfig", me, peer, *cr]
            self.procs.append(subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                               stdout=open(logp, "w"), stderr=subprocess.STDOUT))

        def up():
            for ns, p in zip((GW, RX), self.procs):
                if p.poll() is not None:
                    raise RuntimeError(f"openvpn ({mode}) in {ns} exited {p.returncode}:\n"
                                       + self.tail(ns))
            return all("Initialization Sequence Completed" in self.text(ns) for ns in (GW, RX))
        wait_for(f"openvpn {mode}: both sides initialised", up, 30, interval=0.2)
        wait_for(f"ping through openvpn {mode}", lambda: bl.pings(GW, OVPN_RX), 15, interval=0.3)

    def text(self, ns):
        with open(os.path.join(self.dir, f"{ns}.log"), errors="replace") as f:
            return f.read()

    def tail(self, ns, n=15):
        return "".join(self.text(ns).splitlines(True)[-n:])

    def pids(self):
        return [p.pid for p in self.procs]

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


# ---- report -------------------------------------------------------------------------

KINDS = ("udp", "udp-paced", "tcp")
MAX_LOSS = 2.0      # % loss the paced UDP row may have
SEARCH_STEPS = 8    # rate search: at most this many short transfers per case
SEARCH_SECONDS = 2

CASES = [("raw", "raw UDP/TCP on the veth (no tunnel)"),
         ("bundle", "our bundle (modemd gateway + receiver, no encryption)"),
         ("ovpn-none", "OpenVPN 2.6 static key, cipher none, auth none"),
         ("ovpn-aes", "OpenVPN 2.6 static key, AES-256-CBC + HMAC-SHA256"),
         ("ovpn-gcm", "OpenVPN 2.6 TLS, AES-256-GCM data channel")]


def fmt(v, spec):
    return "-" if v is None else format(v, spec)


def build_report(results, npaths, seconds, failures):
    raw_udp = results.get(("raw", "udp"), {}).get("mbit")
    raw_tcp = results.get(("raw", "tcp"), {}).get("mbit")
    rows = []
    for case, desc in CASES:
        for kind in KINDS:
            r = results.get((case, kind))
            if not r:
                continue
            udp = kind != "tcp"
            cpu = sum(r["cpu_s"]) if r["cpu_s"] else None
            gbit = r["bytes"] * 8 / 1e9
            ref = raw_udp if udp else raw_tcp
            rows.append([
                case, {"udp": "UDP -b 0", "tcp": "TCP 1 flow"}.get(kind, f"UDP -b {r['rate']:.0f}M"),
                round(r["mbit"], 1),
                round(r["pps"] / 1e3, 1) if r.get("pps") else None,
                round(r["loss"], 1) if udp and r.get("loss") is not None else None,
                round(r["mbit"] / raw_udp, 3) if raw_udp else None,
                round(r["mbit"] / ref, 3) if ref else None,
                None if cpu is None else round(cpu, 2),
                None if cpu is None else "+".join(f"{100 * c / r['wall']:.0f}" for c in r["cpu_s"]),
                None if cpu is None or gbit <= 0 else round(cpu / gbit, 2),
                round(100 * r["host_busy"]),
                r["fragments"]])
    cols = ["case", "traffic", "Mbit/s (rx side)", "kpkt/s", "loss %", "ratio to raw UDP",
            "ratio to raw same proto", "engine CPU s", "engine CPU % (gw+rx, of 1 core)",
            "engine CPU s per Gbit", "host busy % (2 cores)", "IP fragments"]
    notes = [
        f"{npaths} unshaped veth path(s) between namespaces {GW} and {RX}; no emulator. "
        f"{seconds} s per transfer; iperf3 UDP -b 0 -l {PAYLOAD} (inner IP packet 1378 bytes, "
        "unfragmented in every tunnel) and one TCP flow, gateway -> receiver, receiver-side rate.",
        "The fair comparison for our bundle is ovpn-none: the bundle does not encrypt. "
        "ovpn-aes/ovpn-gcm show what encryption adds on top.",
        "The machine has 2 cores: the iperf3 client, the iperf3 server and the two engine "
        "processes (gateway + receiver, or the two openvpn) all contend for them, so an engine "
        "near 100% of one core, or the host near 100% busy, means CPU is the limit, not the path.",
        "UDP -b 0 lets the iperf3 sender take a whole core writing packets the tunnel then drops "
        "(high loss %). The paced UDP row is the highest offered rate found (short "
        f"{SEARCH_SECONDS} s steps x1.25 up, or x0.75 down, from the -b 0 figure) with <= {MAX_LOSS:g}% "
        "loss, measured again for the full time: the engine's capacity on this machine.",
        "raw TCP rides veth GSO/GRO (64 KB super-packets through the stack), the tunnels carry "
        "1400-byte packets: compare tunnels' TCP with each other, not with raw TCP.",
        "engine CPU = user+sys seconds of the two engine processes from /proc/PID/stat before and "
        "after the transfer (raw: none); CPU % = those seconds over the transfer's wall time "
        "(iperf3 start to end); host busy % = /proc/stat over the same window, other users "
        "of the machine included. 'ratio to raw same proto' divides TCP by raw TCP.",
    ]
    for case, kind in (("bundle", "udp-paced"), ("bundle", "tcp"), ("ovpn-none", "udp-paced"),
                       ("ovpn-none", "tcp")):
        r = results.get((case, kind))
        if r and r["cpu_s"]:
            pcts = [c / r["wall"] for c in r["cpu_s"]]
            who = ["gateway (sender)", "receiver"][pcts.index(max(pcts))]
            notes.append(f"{case} {kind}: busiest engine process is the {who} at "
                         f"{100 * max(pcts):.0f}% of one core; host {100 * r['host_busy']:.0f}% busy"
                         + (" -> CPU-bound" if max(pcts) > 0.9 or r["host_busy"] > 0.9 else ""))
    b, o = results.get(("bundle", "udp")), results.get(("ovpn-none", "udp"))
    bp = results.get(("bundle", "udp-paced"))
    if b and raw_udp:
        notes.append(f"Target (issue 4): bundle >= 0.7x raw UDP; measured "
                     f"{b['mbit'] / raw_udp:.2f}x with -b 0"
                     + (f", {bp['mbit'] / raw_udp:.2f}x paced" if bp else "")
                     + (f"; OpenVPN (no crypto) {o['mbit'] / raw_udp:.2f}x" if o else ""))
    for f in failures:
        notes.append(f"FAILED: {f}")
    links = [{"name": f"path{k}", "profile": "veth, unshaped (no emulator)",
              "capacity_mbit": round(raw_udp, 1) if raw_udp and k == 1 else None,
              "delivered_mbit": round(raw_udp, 1) if raw_udp and k == 1 else None}
             for k in range(1, npaths + 1)]
    return {"id": "engine", "title": "4. Engine throughput on an unshaped veth path",
            "links": links,
            "tables": [{"caption": "Throughput and CPU, gateway -> receiver, same path, same run",
                        "columns": cols, "rows": rows}],
            "notes": notes, "ok": not failures and bool(rows)}


def summary(rep):
    t = rep["tables"][0]
    show = [0, 1, 2, 3, 4, 5, 7, 8, 9, 10]
    hdr = ["case", "traffic", "Mbit/s", "kpkt/s", "loss%", "xRawUDP", "cpu s", "cpu% gw+rx",
           "s/Gbit", "host%"]
    w = [10, 11, 8, 7, 6, 8, 6, 11, 7, 6]
    lines = [rep["title"], " ".join(h.ljust(x) for h, x in zip(hdr, w))]
    for row in t["rows"]:
        lines.append(" ".join(("-" if row[i] is None else str(row[i])).ljust(x)
                              for i, x in zip(show, w)))
    lines += ["  " + n for n in rep["notes"]]
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--json", required=True)
    ap.add_argument("--quick", action="store_true", help="3 s per transfer instead of 10")
    ap.add_argument("--paths", type=int, default=1, help="veth paths for the bundle (default 1)")
    ap.add_argument("--cases", default=",".join(c for c, _ in CASES),
                    help="comma-separated subset of: " + ", ".join(c for c, _ in CASES))
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("b_engine: must run as root (network namespaces, TUN)")
    a.build, a.workdir = os.path.abspath(a.build), os.path.abspath(a.workdir)
    for exe in ("modemd/modemd", "mpctl/mpctl"):
        if not os.access(os.path.join(a.build, exe), os.X_OK):
            sys.exit(f"b_engine: {a.build}/{exe} not built")
    for tool in ("iperf3", "openvpn", "openssl", "ss", "ip"):
        if not shutil.which(tool):
            sys.exit(f"b_engine: {tool} not installed (Debian: iperf3 openvpn openssl iproute2)")
    cases = a.cases.split(",")
    seconds = 3 if a.quick else 10
    work = os.path.join(a.workdir, "engine")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    sh(TOPO, "down", PREFIX, check=False)
    r = sh(TOPO, "up", PREFIX, str(a.paths), check=False, timeout=60)
    if r.returncode != 0:
        sys.exit(f"b_engine: topology.sh up {PREFIX}: {r.stderr.strip()}")
    results, failures = {}, []
    ip = Iperf(work)
    bed = Bed(a.build, work)
    try:
        for case in cases:
            log(f"-- {case}")
            engine, pids, addr = None, [], None
            try:
                if case == "raw":
                    addr = "10.200.1.1"
                elif case == "bundle":
                    engine = start_bundle(bed, a.paths)
                    pids, addr = [d.proc.pid for d in engine], RX_TUN_ADDR
                elif case.startswith("ovpn-"):
                    engine = OpenVPN(work, case[5:])
                    pids, addr = engine.pids(), OVPN_RX
                else:
                    raise RuntimeError(f"unknown case {case}")
                for kind in KINDS:
                    if case == "raw" and kind == "udp-paced":
                        continue  # raw's loss is the iperf3 receiver's: -b 0 is the reference
                    rate = 0
                    if kind == "udp-paced":
                        rate = find_rate(ip, case, addr, pids, results[(case, "udp")]["mbit"])
                    res = measure(ip, f"{case}-{kind}", addr, seconds, kind != "tcp", pids, rate)
                    results[(case, kind)] = res
                    log(f"   {kind}{f' {rate:.0f}M' if rate else ''}: {res['mbit']:.0f} Mbit/s, "
                        f"engine CPU {'+'.join(f'{c:.2f}' for c in res['cpu_s']) or '-'} s, "
                        f"host {100 * res['host_busy']:.0f}% busy")
            except Exception as e:
                failures.append(f"{case}: {e}")
                log(f"   FAILED: {e}")
                traceback.print_exc()
            finally:
                if isinstance(engine, list):
                    for d in engine:
                        d.stop()
                elif engine is not None:
                    engine.stop()
    finally:
        ip.close()
        for d in bed.daemons:
            d.stop()
        sh(TOPO, "down", PREFIX, check=False)
    rep = build_report(results, a.paths, seconds, failures)
    with open(a.json, "w") as f:
        json.dump(rep, f, indent=1)
    log(summary(rep))
    return 0 if results else 1


if __name__ == "__main__":
    sys.exit(main())
