"""The demo's world (tests/e2e/demo_guest.py, scripts/demo.sh), inside UML.

    gateway (root netns)            carrier K (netns carK)        emulator (netns em)      receiver (netns rx)
    modemd gateway                  pppd 10.64.K.1                linkem                   modemd receiver
      mK: sim7100.py -- ppp-mK ===== (kernel PPP over a pty) ---  cK <== trace K ==> rK --  10.66.0.1 (lo), UDP 6671
      10.64.K.2                     10.65.K.2 (veth em) --------                        --  10.65.K.1 (veth carK)
      mp0 (bundle TUN) <==================== MP over UDP over every ppp-mK ==================> mp0 10.77.0.1

Carrier K forwards between its PPP call and its veth; the receiver's public
address 10.66.0.1 is routed from carK via 10.65.K.1 and the receiver routes
10.64.K.0/24 back via 10.65.K.2. linkem bridges cK <-> rK at layer 2, so the
carrier and the receiver share 10.65.K.0/24 across the emulator; "up" is
cK -> rK (gateway -> receiver). Offloads are off on these veths so frames
cross linkem as real MTU-sized frames.
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2elib import (SEED, SRCDIR, Carrier, Modemd, Receiver, Sim, link_up, log, sh,  # noqa: E402
                    wait_for)

sys.path.insert(0, os.path.join(SRCDIR, "tests", "linkem"))

TRACES = os.environ.get("MODEMD_TRACES", os.path.join(SRCDIR, "tests", "linkem", "traces"))
EM_NS = "em"
RX_NS = "rx"
RX_ADDR = "10.66.0.1"        # the receiver's public address (lo of rx)
RX_TUN_ADDR = "10.77.0.1"    # the receiver's IPCP address
POOL = "10.77.0.0/24"
PORT = 6671
GW_NAME = "demo-gw"
SECRET = "demo-secret"
RX_RUN = "/run/modemd-rx"

# Per modem: which real LTE trace its data path replays and its base delay.
PROFILES = [
    dict(trace="TMobile-LTE-short", delay_ms=30),
    dict(trace="Verizon-LTE-short", delay_ms=50),
    dict(trace="ATT-LTE-driving-2016", delay_ms=80),
]


def trace_mbit(path):
    """Mean rate of a Mahimahi trace: one 1500-byte packet per line."""
    with open(path) as f:
        ts = [int(line) for line in f if line.strip()]
    return len(ts) * 1500 * 8 / (ts[-1] / 1000.0) / 1e6 if ts and ts[-1] > 0 else 0.0


def nsx(ns, *argv, check=True, timeout=30):
    return sh("ip", "netns", "exec", ns, *argv, check=check, timeout=timeout)


def offloads_off(ns, dev):
    r = nsx(ns, "ethtool", "-K", dev, "tso", "off", "gso", "off", "gro", "off", "tx", "off",
            check=False)
    if r.returncode != 0:
        raise AssertionError(f"ethtool -K {dev} in {ns}: {r.stderr.strip()}")


def gw_bundle(d):
    b = json.loads(d.mpctl("status", "--json").stdout).get("bundle")
    if isinstance(b, list):
        b = b[0] if b else None
    return b or {}


class World:
    """Three carriers, the emulator and the receiver; the gateway modemd
    with three simulated modems and a bundle over their links."""

    def __init__(self, build, workdir, scale, emulate=True, debug=False):
        self.build, self.workdir, self.scale = build, workdir, scale
        self.emulate = emulate
        self.carriers, self.sims = [], []
        self.linkem = self.rx = self.d = None
        self.n = len(SEED)
        self.modems = [f"m{i}" for i in range(self.n)]
        self.ifaces = [f"ppp-m{i}" for i in range(self.n)]
        for ns in (EM_NS, RX_NS):
            if os.path.exists(f"/run/netns/{ns}"):
                raise AssertionError(f"namespace {ns} exists already")
        self._build_network()
        if emulate:
            self._start_linkem()
        self.rx = Receiver(build, workdir, RX_NS, RX_RUN, PORT, RX_TUN_ADDR, POOL, GW_NAME, SECRET,
                           name="demo-rx", log_level="debug" if debug else "info")
        self.rx.start()
        for i, c in enumerate(SEED):
            self.sims.append(Sim(self.modems[i], workdir, "--act", c["act"], carrier=self.carriers[i],
                                 imsi=c["imsi"], operator=c["operator"]))
        self.d = Modemd(build, workdir, self.sims, debug=debug)
        with open(self.d.conf, "a") as f:
            f.write(f"""bundle = {{
  receiver = "{RX_ADDR}";
  port = {PORT};
  name = "{GW_NAME}";
  secret = "{SECRET}";
  tun = "mp0";
  modem_links = true;
}};
""")
        r = sh(self.d.modemd, "-n", "-c", self.d.conf, check=False)
        if r.returncode != 0:
            raise AssertionError(f"modemd -n refuses {self.d.conf}: {(r.stderr or r.stdout).strip()}")
        self.d.start()

    # --- network ----------------------------------------------------------
    def _build_network(self):
        for ns in (EM_NS, RX_NS):
            sh("ip", "netns", "add", ns)
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh("ip", "-n", RX_NS, "addr", "add", f"{RX_ADDR}/32", "dev", "lo")
        for i, c in enumerate(SEED):
            car = Carrier(i, self.workdir, auth=c["auth"])
            self.carriers.append(car)
            ns = car.ns
            nsx(ns, "sysctl", "-qw", "net.ipv4.ip_forward=1")
            if self.emulate:
                # carK:em <-> em:cK ... linkem ... em:rK <-> rx:carK
                sh("ip", "link", "add", "em", "netns", ns, "type", "veth", "peer", "name", f"c{i}",
                   "netns", EM_NS)
                sh("ip", "link", "add", f"r{i}", "netns", EM_NS, "type", "veth", "peer", "name",
                   ns, "netns", RX_NS)
                for dev in (f"c{i}", f"r{i}"):
                    offloads_off(EM_NS, dev)
                    sh("ip", "-n", EM_NS, "link", "set", dev, "up")
            else:
                # no emulator: carK:em <-> rx:carK directly
                sh("ip", "link", "add", "em", "netns", ns, "type", "veth", "peer", "name", ns,
                   "netns", RX_NS)
            offloads_off(ns, "em")
            offloads_off(RX_NS, ns)
            sh("ip", "-n", ns, "addr", "add", f"10.65.{i}.2/24", "dev", "em")
            sh("ip", "-n", ns, "link", "set", "em", "up")
            sh("ip", "-n", ns, "route", "add", f"{RX_ADDR}/32", "via", f"10.65.{i}.1")
            sh("ip", "-n", RX_NS, "addr", "add", f"10.65.{i}.1/24", "dev", ns)
            sh("ip", "-n", RX_NS, "link", "set", ns, "up")
            sh("ip", "-n", RX_NS, "route", "add", f"10.64.{i}.0/24", "via", f"10.65.{i}.2")

    def profile(self, i):
        p = PROFILES[i]
        up = os.path.join(TRACES, p["trace"] + ".up")
        down = os.path.join(TRACES, p["trace"] + ".down")
        return dict(p, up=up, down=down, up_mbit=trace_mbit(up) * self.scale,
                    down_mbit=trace_mbit(down) * self.scale)

    def linkem_conf(self):
        links = []
        for i in range(self.n):
            p = self.profile(i)
            links.append(f"""  {{ name = "{self.modems[i]}"; a = "c{i}"; b = "r{i}";
    up   = {{ trace = "{p['up']}"; scale = {self.scale}; delay_ms = {p['delay_ms']}; queue_ms = 200; }};
    down = {{ trace = "{p['down']}"; scale = {self.scale}; delay_ms = {p['delay_ms']}; queue_ms = 200; }}; }}""")
        return "links = (\n" + ",\n".join(links) + "\n);\n"

    def _start_linkem(self):
        import linkemlib
        self.linkem = linkemlib.Linkem(self.build, EM_NS, self.linkem_conf(),
                                       os.path.join(self.workdir, "linkem"))
        self.linkem.start()

    # --- views ------------------------------------------------------------
    def describe(self):
        try:
            g = json.dumps(gw_bundle(self.d))[:1500]
        except Exception as e:
            g = f"(no status: {e})"
        try:
            r = json.dumps(self.rx.gateway())[:1500]
        except Exception as e:
            r = f"(no status: {e})"
        return f"gateway bundle: {g}; receiver's {GW_NAME}: {r}"

    def wait_connected(self, timeout):
        for i, name in enumerate(self.modems):
            self.d.wait_state(name, "connected", timeout,
                              lambda m: bool(m.get("local_address")) and bool(m.get("ifname")))

    def wait_bundle(self, timeout):
        """All modem links up in one bundle on both sides, IPCP up."""
        want = sorted(self.ifaces)

        def ok():
            b = gw_bundle(self.d)
            gl = sorted(l.get("interface") for l in b.get("links") or [] if link_up(l))
            g = self.rx.gateway() or {}
            rn = sum(link_up(l) for l in g.get("links") or [])
            return gl == want and rn == len(want) and b.get("state") == "up" and g.get("state") == "up"
        try:
            wait_for(f"{want} up in one bundle on both sides", ok, timeout, interval=0.3)
        except AssertionError as e:
            raise AssertionError(f"{e}; {self.describe()}") from None

    def link_bytes(self):
        """Per modem interface: gateway tx_bytes and receiver rx_bytes."""
        gw = {l.get("interface"): l.get("tx_bytes") or 0 for l in gw_bundle(self.d).get("links") or []}
        g = self.rx.gateway() or {}
        # the receiver names a link by its source; the source address is the modem's
        by_addr = {}
        for l in g.get("links") or []:
            addr = (l.get("remote_address") or l.get("name") or "").rsplit(":", 1)[0]
            by_addr[addr] = l.get("rx_bytes") or 0
        rx = {}
        for i, iface in enumerate(self.ifaces):
            rx[iface] = by_addr.get(self.carriers[i].peer, 0)
        return gw, rx

    # --- traffic ----------------------------------------------------------
    def sample_links(self, stop, out, interval=1.0):
        """Until stop is set: the gateway's link estimates every interval
        (appended to out as {"t": s, "links": {iface: {...}}})."""
        import time
        t0 = time.monotonic()
        keys = ("tx_bytes", "rate_out_Bps", "rate_in_Bps", "srtt_us", "min_rtt_us", "share_permille",
                "liveness")
        while not stop.wait(interval):
            try:
                links = gw_bundle(self.d).get("links") or []
            except Exception:
                continue
            out.append(dict(t=round(time.monotonic() - t0, 2),
                            links={l.get("interface"): {k: l.get(k) for k in keys} for l in links}))

    def iperf(self, seconds, parallel=1, at_start=None):
        """iperf3 TCP, gateway -> receiver's TUN address, through the bundle;
        at_start() runs once the server listens, just before the client.
        Returns iperf3's JSON."""
        srv_log = os.path.join(self.workdir, "iperf3-server.json")
        srv = subprocess.Popen(["ip", "netns", "exec", RX_NS, "iperf3", "-s", "-1", "-B", RX_TUN_ADDR,
                                "-J", "--logfile", srv_log], stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for("iperf3 server listening",
                     lambda: nsx(RX_NS, "ss", "-Hltn", "sport = :5201").stdout.strip(), 10)
            if at_start:
                at_start()
            r = sh("iperf3", "-c", RX_TUN_ADDR, "-t", str(seconds), "-P", str(parallel), "-J",
                   check=False, timeout=seconds + 60)
            try:
                j = json.loads(r.stdout)
            except ValueError:
                raise AssertionError(f"iperf3 exited {r.returncode}: {r.stderr.strip()} "
                                     f"{r.stdout.strip()[:300]}") from None
            if r.returncode != 0 or j.get("error"):
                raise AssertionError(f"iperf3 exited {r.returncode}: {j.get('error')}")
            return j
        finally:
            try:
                srv.wait(10)
            except subprocess.TimeoutExpired:
                srv.kill()
                srv.wait()

    # --- shutdown ---------------------------------------------------------
    def close(self):
        """Stop everything; returns (modemd exit code, receiver exit code,
        modemd pppds left, linkem's final stats or None)."""
        from e2elib import modemd_pppds
        code = self.d.stop() if self.d else None
        left = modemd_pppds() if self.d else {}
        rcode = self.rx.stop() if self.rx else None
        for s in self.sims:
            s.stop()
        final = None
        if self.linkem:
            try:
                final = self.linkem.stop()
            except Exception as e:
                log(f"demo: linkem stop: {e}")
        for c in self.carriers:
            c.close()
        for ns in (EM_NS, RX_NS):
            sh("ip", "netns", "del", ns, check=False)
        return code, rcode, left, final
