#!/usr/bin/env python3
"""End-to-end: the MP-over-UDP bundle over real modem links. Run inside UML
(see tests/e2e/tests.cmake).

Two simulated modems dial real carrier pppds. Both carriers live in ONE
network namespace ("carriers"; carrier K's pppd is 10.64.K.1 towards the
modem's 10.64.K.2), where a modemd receiver listens on 0.0.0.0. The
receiver's address is 10.64.255.1 on that namespace's lo, so it stays
reachable through every ppp-mK whichever carrier hangs up (a carrier's own
10.64.K.1 goes away with its call). The gateway modemd manages the modems
and has a bundle section with modem_links = true and no static link: its
links come only from the modem manager's link up/down events.

  join      both modem links join one bundle on the receiver; the gateway's
            TUN gets its IPCP address (status and kernel agree); a ping to
            the receiver's TUN address goes through the bundle
  hangup    m0's carrier hangs up and m0 cannot redial (the simulator answers
            NO CARRIER): ppp-m0 leaves the bundle on both sides, the ping
            still goes through over ppp-m1
  rejoin    the simulator connects again: m0 redials by itself and ppp-m0
            rejoins the bundle on both sides; ping
"""
import ipaddress
import json
import os
import shlex
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2elib import (SEED, Modemd, Receiver, Runner, Sim, common_args, link_up, log, ping, sh,  # noqa: E402
                    wait_for)

NS = "carriers"
RX_ADDR = "10.64.255.1"      # the receiver's UDP address (lo of NS)
RX_TUN_ADDR = "10.77.0.1"    # the receiver's IPCP address
POOL = "10.77.0.0/24"
PORT = 6671
GW_NAME = "gw1"
SECRET = "s3cret-bundle"
NMODEMS = 2
CONNECT_TIMEOUT = 60
BUNDLE_TIMEOUT = 40
RX_RUN = "/run/modemd-rx"


class SharedCarrier:
    """Carrier K in the shared namespace NS: per call a real pppd (own mount
    namespace and /run) as 10.64.K.1 towards the modem's 10.64.K.2."""

    def __init__(self, index, workdir):
        self.local = f"10.64.{index}.1"
        self.peer = f"10.64.{index}.2"
        self.log = os.path.join(workdir, f"carrier{index}.log")
        setup = "mount -t tmpfs tmpfs /run && mkdir -p /run/lock"
        opts = (f"nodetach local nocrtscts nodefaultroute noccp novj lcp-echo-interval 0 noauth "
                f"{self.local}:{self.peer} logfile {shlex.quote(self.log)} debug")
        inner = f'{setup} && exec pppd "$CARRIER_TTY" 115200 {opts}'
        self.cmd = (f"exec ip netns exec {NS} unshare -m --propagation private "
                    f"sh -c {shlex.quote(inner)}")


def nsexec(*argv, check=True):
    return sh("ip", "netns", "exec", NS, *argv, check=check)


def gw_bundle(d):
    b = d.mpctl("status", "--json")
    b = json.loads(b.stdout).get("bundle")
    if isinstance(b, list):
        b = b[0] if b else None
    return b or {}


def up_interfaces(links):
    return sorted(l.get("interface") or l.get("name") for l in links if link_up(l))


class World:
    def __init__(self, a):
        self.a = a
        self.sims, self.carriers = [], []
        self.rx = self.d = None
        sh("ip", "netns", "add", NS)
        sh("ip", "-n", NS, "link", "set", "lo", "up")
        sh("ip", "-n", NS, "addr", "add", f"{RX_ADDR}/32", "dev", "lo")
        # Strict reverse-path filtering on both sides (as on many real hosts):
        # a datagram to RX_ADDR arrives on carrier K's ppp end and its answer
        # leaves there; the gateway's answers come back on the ppp-mK whose
        # source-address policy route points to RX_ADDR through it. Both
        # pass; the interfaces (created later) inherit "default".
        for k in ("all", "default"):
            nsexec("sysctl", "-qw", f"net.ipv4.conf.{k}.rp_filter=1")
            sh("sysctl", "-qw", f"net.ipv4.conf.{k}.rp_filter=1")
        for i in range(NMODEMS):
            c = SEED[i]
            assert c["auth"] is None, "shared carriers answer without authentication"
            car = SharedCarrier(i, a.workdir)
            self.carriers.append(car)
            self.sims.append(Sim(f"m{i}", a.workdir, "--act", c["act"], carrier=car,
                                 imsi=c["imsi"], operator=c["operator"]))
        self.rx = Receiver(a.build, a.workdir, NS, RX_RUN, PORT, RX_TUN_ADDR, POOL, GW_NAME, SECRET)
        self.rx.start()
        self.d = Modemd(a.build, a.workdir, self.sims, backoff=(1000, 4000))
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
        assert r.returncode == 0, f"modemd -n refuses {self.d.conf}: {(r.stderr or r.stdout).strip()}"
        self.d.start()

    def close(self):
        if self.d:
            self.d.stop()
        if self.rx:
            self.rx.stop()
        for s in self.sims:
            s.stop()
        sh("ip", "netns", "del", NS, check=False)

    def describe(self):
        try:
            g = json.dumps(gw_bundle(self.d))[:1200]
        except Exception as e:
            g = f"(no status: {e})"
        try:
            r = json.dumps(self.rx.gateway())[:1200]
        except Exception as e:
            r = f"(no status: {e})"
        return f"gateway bundle: {g}; receiver's {GW_NAME}: {r}"

    def wait_both(self, what, want, timeout):
        """Wait until gateway and receiver both show exactly the `want`
        interfaces / link count up."""
        def ok():
            gl = up_interfaces(gw_bundle(self.d).get("links") or [])
            g = self.rx.gateway()
            rn = sum(link_up(l) for l in (g or {}).get("links") or [])
            return gl == want and rn == len(want)
        try:
            wait_for(what, ok, timeout, interval=0.2)
        except AssertionError as e:
            raise AssertionError(f"{e}; {self.describe()}") from None

    def ping(self, count=3):
        try:
            ping(RX_TUN_ADDR, count=count)
        except AssertionError as e:
            raise AssertionError(f"{e}; {self.describe()}") from None


ALL = [f"ppp-m{i}" for i in range(NMODEMS)]


def case_join(w):
    for i in range(NMODEMS):
        m = w.d.wait_state(f"m{i}", "connected", CONNECT_TIMEOUT,
                           lambda m: bool(m.get("local_address")) and bool(m.get("ifname")))
        assert m["ifname"] == f"ppp-m{i}", m["ifname"]
        assert m["local_address"] == w.carriers[i].peer, m["local_address"]
    w.wait_both(f"{ALL} up in one bundle on both sides", ALL, BUNDLE_TIMEOUT)
    addr = wait_for("gateway: IPCP address", lambda: gw_bundle(w.d).get("local_address"), 15,
                    interval=0.2)
    assert ipaddress.ip_address(addr) in ipaddress.ip_network(POOL), f"{addr} not in {POOL}"
    kern = json.loads(sh("ip", "-j", "-4", "addr", "show", "dev", "mp0").stdout)
    kaddrs = [a["local"] for i in kern for a in i.get("addr_info", [])]
    assert addr in kaddrs, f"mp0 has {kaddrs}, status says {addr}"
    g = w.rx.gateway()
    gaddr = g.get("address", g.get("remote_address", g.get("peer_address")))
    log(f"  gateway TUN mp0 {addr} (receiver: {gaddr}); links "
        + ", ".join(f"{l.get('interface')} {l.get('local_address')}" for l in gw_bundle(w.d)["links"]))
    w.ping()


def case_hangup(w):
    s = w.sims[0]
    s.control("dial-result NO CARRIER")
    s.control("hangup")
    # m0 tried to redial and was refused: it is down for as long as we say.
    w.d.wait_state("m0", "backoff", 30, lambda m: "NO CARRIER" in (m.get("reason") or ""))
    w.wait_both("ppp-m0 out of the bundle on both sides", ALL[1:], BUNDLE_TIMEOUT)
    w.ping()
    m0 = w.d.modem("m0")
    assert m0["state"] != "connected", f"m0 reconnected while the carrier refuses: {m0['state']}"


def case_rejoin(w):
    w.sims[0].control("dial-result CONNECT")
    w.d.wait_state("m0", "connected", CONNECT_TIMEOUT,
                   lambda m: bool(m.get("local_address")) and m.get("redials", 0) >= 1)
    w.wait_both("ppp-m0 back in the bundle on both sides", ALL, BUNDLE_TIMEOUT)
    w.ping()


CASES = [("join", case_join), ("hangup", case_hangup), ("rejoin", case_rejoin)]


def main():
    a = common_args(__doc__.split("\n")[0])
    for c in a.cases:
        if c not in dict(CASES):
            sys.exit(f"unknown case {c}; cases: {', '.join(n for n, _ in CASES)}")
    r = Runner(a.workdir)
    w = None
    try:
        w = World(a)
        for name, fn in CASES:
            if a.cases and name not in a.cases:
                continue
            if not r.run(name, fn, w):
                break  # later cases build on earlier ones
    except Exception as e:
        r.failed += 1
        log(f"FAIL setup: {e}")
    finally:
        if w:
            w.close()
    return r.finish()


if __name__ == "__main__":
    sys.exit(main())
