#!/usr/bin/env python3
"""Benchmark 5, guest side: kernel multilink (pppd) vs our bundle, in UML.

Run inside user-mode Linux by bench/b_multilink_uml.py (kernel PPP exists
only there). Two namespaces, b5gw and b5rx, joined by N veth paths (pathK,
10.200.K.2 <-> 10.200.K.1, receiver address 10.201.0.1 on b5rx's lo), each
direction shaped inside UML with netem (delay + rate + a queue limit). Then,
one after the other on the same paths:

  single-K  iperf3 TCP straight over path K alone (what each path delivers)
  pppd      pppd on both sides, one pair per path, `multilink mrru 1500
            endpoint magic:N`: each pppd sits on the pty of a tests/relay
            hdlc-relay; the two relays of path K exchange one PPP frame per
            UDP datagram across path K. One mount namespace (private /run,
            hence one pppd2.tdb) per side, so each side's pppds join one
            kernel bundle.
  bundle    modemd gateway (b5gw) and receiver (b5rx) over the same paths.

Each: one TCP flow gateway -> receiver (iperf3), ping p50/p99 from the
gateway through the same tunnel while it runs, and the guest's CPU use
(UML is one CPU: if it is near 100% the figures say more about UML than
the protocols).

    uml_multilink_guest.py --build BUILD --workdir DIR --out FILE [--seconds S]
    uml_multilink_guest.py ping ADDR SECONDS OUTFILE     (helper, in a namespace)
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
sys.path.insert(0, os.path.join(SRCDIR, "tests", "interop"))

GW, RX = "b5gw", "b5rx"
RX_ADDR = "10.201.0.1"
PPP_RX, PPP_GW = "10.90.0.1", "10.90.0.2"
# (rate Mbit/s, one-way delay ms) per path: low rates so UML is not the limit.
PATHS = [(2.0, 20), (1.0, 50), (0.5, 80)]
QUEUE_MS = 200   # queue behind each shaper, in ms at the path's rate
UP_TIMEOUT = 60


def log(msg):
    print(msg, flush=True)


def sh(*argv, check=True, timeout=30):
    return subprocess.run(argv, check=check, stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=timeout)


# ---- ping helper (runs in a namespace): every 0.2 s, losses tolerated ---------------

def ping_loop(addr, seconds, out):
    def csum(d):
        s = sum(struct.unpack(f"!{len(d) // 2}H", d))
        s = (s >> 16) + (s & 0xFFFF)
        return ~(s + (s >> 16)) & 0xFFFF
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    ident, sent, rtts = os.getpid() & 0xFFFF, {}, []
    t_end = time.monotonic() + seconds
    nxt, seq = time.monotonic(), 0
    while time.monotonic() < t_end + 2:  # 2 s grace for the last replies
        now = time.monotonic()
        if now >= nxt and now < t_end:
            seq += 1
            payload = b"b5-ping" * 8
            hdr = struct.pack("!BBHHH", 8, 0, 0, ident, seq & 0xFFFF)
            pkt = struct.pack("!BBHHH", 8, 0, csum(hdr + payload), ident, seq & 0xFFFF) + payload
            sent[seq & 0xFFFF] = now
            try:
                sock.sendto(pkt, (addr, 0))
            except OSError:
                pass
            nxt += 0.2
        r, _, _ = select.select([sock], [], [], max(0.0, min(nxt - time.monotonic(), 0.2)))
        if r:
            data, src = sock.recvfrom(2048)
            ihl = (data[0] & 0x0F) * 4
            typ, _, _, rid, rseq = struct.unpack("!BBHHH", data[ihl:ihl + 8])
            if typ == 0 and rid == ident and rseq in sent and src[0] == addr:
                rtts.append(1000 * (time.monotonic() - sent.pop(rseq)))
    with open(out, "w") as f:
        json.dump({"sent": seq, "rtts_ms": rtts}, f)


def pct(v, p):
    if not v:
        return None
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


# ---- topology -----------------------------------------------------------------------

def netem(ns, dev, mbit, delay_ms):
    pps = mbit * 1e6 / 8 / 1500
    limit = int(pps * (delay_ms + QUEUE_MS) / 1000) + 5  # netem's limit counts the delay line too
    sh("tc", "-n", ns, "qdisc", "replace", "dev", dev, "root", "netem", "delay", f"{delay_ms}ms",
       "rate", f"{int(mbit * 1000)}kbit", "limit", str(limit))


def topology_up(paths):
    topology_down()
    for ns in (GW, RX):
        sh("ip", "netns", "add", ns)
        sh("ip", "-n", ns, "link", "set", "lo", "up")
    sh("ip", "-n", RX, "addr", "add", f"{RX_ADDR}/32", "dev", "lo")
    sh("ip", "netns", "exec", RX, "sysctl", "-qw", "net.ipv4.conf.all.arp_ignore=1")
    for k, (mbit, delay) in enumerate(paths, 1):
        dev = f"path{k}"
        sh("ip", "-n", GW, "link", "add", dev, "type", "veth", "peer", "name", dev, "netns", RX)
        sh("ip", "-n", GW, "addr", "add", f"10.200.{k}.2/24", "dev", dev)
        sh("ip", "-n", RX, "addr", "add", f"10.200.{k}.1/24", "dev", dev)
        for ns in (GW, RX):
            sh("ip", "-n", ns, "link", "set", dev, "up")
            netem(ns, dev, mbit, delay)
    sh("ip", "-n", GW, "route", "add", "default", "via", "10.200.1.1", "dev", "path1")


def topology_down():
    for ns in (GW, RX):
        sh("ip", "netns", "del", ns, check=False)


def qdisc_drops(ns, n):
    """Packets each path's shaper dropped (queue full), both directions."""
    tot = 0
    for k in range(1, n + 1):
        j = json.loads(sh("tc", "-n", ns, "-s", "-j", "qdisc", "show", "dev", f"path{k}").stdout)
        tot += sum(q.get("drops", 0) for q in j)
    return tot


def path_tx_bytes(ns, n):
    out = []
    for k in range(1, n + 1):
        j = json.loads(sh("ip", "-n", ns, "-s", "-j", "link", "show", "dev", f"path{k}").stdout)
        out.append(j[0]["stats64"]["tx"]["bytes"])
    return out


def guest_cpu():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return sum(v) - v[3] - v[4], sum(v)


# ---- one measurement ------------------------------------------------------------------

class World:
    def __init__(self, a):
        self.a = a
        self.procs = []
        self.port = 5400

    def transfer(self, tag, srv_addr, seconds, ping_addr):
        """iperf3 TCP from GW to srv_addr (server in RX), ping ping_addr from GW
        meanwhile; returns the figures."""
        self.port += 1
        wd = self.a.workdir
        srv = subprocess.Popen(["ip", "netns", "exec", RX, "iperf3", "-s", "-1", "-B", srv_addr,
                                "-p", str(self.port)], stdin=subprocess.DEVNULL,
                               stdout=open(os.path.join(wd, f"iperf3-{tag}-server.log"), "w"),
                               stderr=subprocess.STDOUT)
        self.procs.append(srv)
        deadline = time.monotonic() + 15
        while not sh("ss", "-N", RX, "-Htln", f"src {srv_addr}:{self.port}").stdout.strip():
            if srv.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{tag}: iperf3 server did not listen on {srv_addr}")
            time.sleep(0.05)
        pingf = os.path.join(wd, f"ping-{tag}.json")
        drops0 = qdisc_drops(GW, len(PATHS))
        tx0 = path_tx_bytes(GW, len(PATHS))
        c0 = guest_cpu()
        cli = subprocess.Popen(["ip", "netns", "exec", GW, "iperf3", "-c", srv_addr, "-p",
                                str(self.port), "-t", str(seconds), "-J", "--connect-timeout",
                                "10000"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
        self.procs.append(cli)
        # Ping from the second second on: a loaded queue, not slow start.
        time.sleep(min(2.0, seconds / 4))
        pinger = None
        if ping_addr:
            pinger = subprocess.Popen(["ip", "netns", "exec", GW, sys.executable,
                                       os.path.abspath(__file__), "ping", ping_addr,
                                       str(max(1.0, seconds - 3)), pingf],
                                      stdin=subprocess.DEVNULL)
            self.procs.append(pinger)
        out, err = cli.communicate(timeout=seconds + 60)
        c1 = guest_cpu()
        drops1 = qdisc_drops(GW, len(PATHS))
        tx1 = path_tx_bytes(GW, len(PATHS))
        with open(os.path.join(wd, f"iperf3-{tag}.json"), "w") as f:
            f.write(out)
        try:
            j = json.loads(out)
        except ValueError:
            j = {}
        if cli.returncode != 0 or "error" in j:
            raise RuntimeError(f"{tag}: iperf3 exited {cli.returncode}: {j.get('error') or err.strip()}")
        try:
            srv.wait(10)
        except subprocess.TimeoutExpired:
            srv.kill()
        res = {"mbit": j["end"]["sum_received"]["bits_per_second"] / 1e6,
               "bytes": j["end"]["sum_received"]["bytes"],
               "retransmits": j["end"].get("sum_sent", {}).get("retransmits"),
               "uml_cpu": (c1[0] - c0[0]) / max(1, c1[1] - c0[1]),
               "shaper_drops_up": drops1 - drops0,
               "path_tx_bytes": [y - x for x, y in zip(tx0, tx1)]}
        if pinger:
            pinger.wait(30)
            try:
                with open(pingf) as f:
                    p = json.load(f)
                res.update(ping_sent=p["sent"], ping_recv=len(p["rtts_ms"]),
                           ping_p50=pct(p["rtts_ms"], 50), ping_p99=pct(p["rtts_ms"], 99))
            except (OSError, ValueError):
                pass
        log(f"  {tag}: {res['mbit']:.3f} Mbit/s, UML CPU {100 * res['uml_cpu']:.0f}%, "
            f"ping p50 {res.get('ping_p50') or 0:.0f} ms, retransmits {res['retransmits']}, "
            f"per-path bytes {res['path_tx_bytes']}")
        return res

    def stop_all(self):
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.procs = []


# ---- cases -------------------------------------------------------------------------------

class BedShim:
    """What bundlelib.Daemon and test_interop.PppSide need from a bed."""

    def __init__(self, a, sub):
        self.workdir = os.path.join(a.workdir, sub)
        os.makedirs(self.workdir, exist_ok=True)
        self.modemd = os.path.join(a.build, "modemd", "modemd")
        self.mpctl_bin = os.path.join(a.build, "mpctl", "mpctl")
        self.relay_bin = os.path.join(a.build, "tests", "hdlc-relay")
        self.daemons, self.procs = [], []

    def close(self):
        for d in self.daemons:
            d.stop()
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()


def case_pppd(w, a, n):
    from test_interop import PppSide
    bed = BedShim(a, "pppd")
    sides = []
    try:
        gw = PppSide(bed, GW, "pppd-gw", [("x", "y", "z")])
        sides.append(gw)
        rx = PppSide(bed, RX, "pppd-rx", [("x", "y", "z")])
        sides.append(rx)
        for k in range(1, n + 1):
            gw.relay(k, f"10.200.{k}.2:{7000 + k}", f"10.200.{k}.1:{7100 + k}")
            rx.relay(k, f"10.200.{k}.1:{7100 + k}", f"10.200.{k}.2:{7000 + k}")
        mp = ["multilink", "mrru", "1500", "noauth", "mtu", "1400", "mru", "1500"]
        for k in range(1, n + 1):
            rx.pppd(k, *mp, "endpoint", "magic:55550000", f"{PPP_RX}:{PPP_GW}")
            gw.pppd(k, *mp, "endpoint", "magic:66660000", f"{PPP_GW}:{PPP_RX}")
        rx.wait_bundle(n, PPP_RX)
        gw.wait_bundle(n, PPP_GW)
        # First packets through the fresh bundle (ARP-free, but let IPCP settle).
        ok_deadline = time.monotonic() + 20
        while sh("ip", "netns", "exec", GW, sys.executable,
                 os.path.join(SRCDIR, "tests", "uml", "icmp_ping.py"), "-c", "1", "-W", "2",
                 PPP_RX, check=False).returncode != 0:
            if time.monotonic() > ok_deadline:
                raise RuntimeError("no ping through the pppd bundle")
        res = w.transfer("pppd", PPP_RX, a.seconds, PPP_RX)
        for s in sides:
            s.check_alive()
        res["links_attached"] = gw.log_text().count("Link attached to") + 1
        return res
    finally:
        for s in sides:
            s.stop()
        bed.close()


def case_bundle(w, a, n):
    import bundlelib as bl
    from bundlelib import Daemon
    bed = BedShim(a, "bundle")
    try:
        def daemon(ns, role, name, body):
            d = Daemon(bed, ns, role, name, body)
            with open(d.conf) as f:
                text = f.read().replace('log_level = "debug";', 'log_level = "info";')
            with open(d.conf, "w") as f:
                f.write(text)
            return d.start(timeout=30)
        daemon(RX, "receiver", "rx", f"""receiver = {{
  listen = "0.0.0.0"; port = {bl.PORT}; name = "receiver"; tun = "mp0";
  local_address = "{bl.RX_TUN_ADDR}"; pool = "{bl.POOL}"; require_auth = "chap";
  users = ( {{ name = "gw1"; secret = "{bl.SECRET}"; }} );
}};""")
        links = ", ".join(f'{{ name = "p{k}"; interface = "path{k}"; gateway = "10.200.{k}.1"; }}'
                          for k in range(1, n + 1))
        gw = daemon(GW, "gateway", "gw1", f"""bundle = {{
  receiver = "{RX_ADDR}"; port = {bl.PORT}; name = "gw1"; secret = "{bl.SECRET}";
  tun = "mp0"; modem_links = false;
  links = ( {links} );
}};""")
        gw.wait_links_up(n, UP_TIMEOUT)
        gw.tun_address(UP_TIMEOUT)
        deadline = time.monotonic() + 20
        while not bl.pings(GW, bl.RX_TUN_ADDR):
            if time.monotonic() > deadline:
                raise RuntimeError("no ping through the bundle")
        res = w.transfer("bundle", bl.RX_TUN_ADDR, a.seconds, bl.RX_TUN_ADDR)
        gw.alive()
        res["link_tx_bytes"] = [bl.link_bytes(l)[0] for l in gw.links()]
        return res
    finally:
        bed.close()


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "ping":
        ping_loop(sys.argv[2], float(sys.argv[3]), sys.argv[4])
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--cases", default="single,pppd,bundle")
    a = ap.parse_args()
    if not os.path.exists("/dev/ppp"):
        sys.exit("uml_multilink_guest: no /dev/ppp: run inside tests/uml/uml-run")
    os.makedirs(a.workdir, exist_ok=True)
    n = len(PATHS)
    out = {"paths": [{"name": f"path{k}", "mbit": m, "delay_ms": d, "queue_ms": QUEUE_MS}
                     for k, (m, d) in enumerate(PATHS, 1)],
           "seconds": a.seconds, "cases": {}, "errors": []}
    w = World(a)
    try:
        topology_up(PATHS)
        for case in a.cases.split(","):
            log(f"-- {case}")
            try:
                if case == "single":
                    for k in range(1, n + 1):
                        out["cases"][f"single-{k}"] = w.transfer(f"single-{k}", f"10.200.{k}.1",
                                                                 a.seconds, f"10.200.{k}.1")
                elif case == "pppd":
                    out["cases"]["pppd"] = case_pppd(w, a, n)
                elif case == "bundle":
                    out["cases"]["bundle"] = case_bundle(w, a, n)
                else:
                    raise RuntimeError(f"unknown case {case}")
            except Exception as e:
                traceback.print_exc()
                out["errors"].append(f"{case}: {e}")
            finally:
                w.stop_all()
    finally:
        w.stop_all()
        topology_down()
        with open(a.out, "w") as f:
            json.dump(out, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
