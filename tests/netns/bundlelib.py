"""Helpers for the bundle's integration tests in network namespaces (host, root).

A test builds its own topology with tests/netns/topology.sh (gateway and
receiver namespaces joined by N veth paths, TBF-shaped), adds namespaces for
more gateways or a stranger when it needs them, runs the real modemd as a
receiver and as gateways (one per namespace, each with its own generated
config and control socket) and asserts only on what a user sees: `mpctl
status --json`, ping through the bundle, iperf3, the kernel's counters.
Waiting is always for an observable state with a deadline (e2elib.wait_for),
never a blind sleep. Everything created is removed by Bed.close().
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(SRCDIR, "tests", "e2e"))
from e2elib import Runner, log, sh, wait_for  # noqa: E402  (shared test style)

TOPO = os.path.join(HERE, "topology.sh")
PING = os.path.join(SRCDIR, "tests", "uml", "icmp_ping.py")

PORT = 6671
RX_TUN_ADDR = "10.77.0.1"   # receiver's IPCP address
POOL = "10.77.0.0/24"       # gateway addresses
SECRET = "s3cret-bundle"

__all__ = ["Runner", "log", "sh", "wait_for", "Bed", "Daemon", "require_root", "common_args"]


def require_root():
    if os.geteuid() != 0:
        sys.exit("FAIL: the bundle integration tests must run as root (network namespaces, veth, "
                 "tc, TUN); they are not skipped. Run them with sudo.")


def common_args(description, cases):
    import argparse
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--build", required=True, help="build directory (modemd/modemd, mpctl/mpctl)")
    ap.add_argument("--workdir", required=True, help="logs and generated files go here")
    ap.add_argument("--keep", action="store_true", help="leave namespaces and daemons for a look")
    ap.add_argument("cases", nargs="*", help=f"only these cases ({', '.join(cases)})")
    a = ap.parse_args()
    require_root()
    for c in a.cases:
        if c not in cases:
            sys.exit(f"unknown case {c}; cases: {', '.join(cases)}")
    a.build = os.path.abspath(a.build)
    a.workdir = os.path.abspath(a.workdir)
    os.makedirs(a.workdir, exist_ok=True)
    for exe in ("modemd/modemd", "mpctl/mpctl"):
        if not os.access(os.path.join(a.build, exe), os.X_OK):
            sys.exit(f"FAIL: {a.build}/{exe} not built")
    for tool in ("ip", "tc", "iperf3", "ss"):
        if sh("sh", "-c", f"command -v {tool}", check=False).returncode != 0:
            sys.exit(f"FAIL: {tool} not installed (Debian: iproute2, iperf3)")
    return a


def nsexec(ns, *argv, check=True, timeout=30):
    return sh("ip", "netns", "exec", ns, *argv, check=check, timeout=timeout)


def ping(ns, addr, count=3, timeout=2.0, iface=None):
    """count echoes from namespace ns, each answered within timeout, or raise."""
    argv = [sys.executable, PING, "-c", str(count), "-W", str(timeout)]
    if iface:
        argv += ["-I", iface]
    r = nsexec(ns, *argv, addr, check=False, timeout=count * (timeout + 1) + 10)
    if r.returncode != 0:
        raise AssertionError(f"ping {addr} from {ns}: {(r.stderr or r.stdout).strip()}")
    return r.stdout


def pings(ns, addr, count=1, timeout=2.0):
    try:
        ping(ns, addr, count, timeout)
        return True
    except AssertionError:
        return False


def link_tx_bytes(ns, ifname):
    r = sh("ip", "-n", ns, "-s", "-j", "link", "show", "dev", ifname)
    return json.loads(r.stdout)[0]["stats64"]["tx"]["bytes"]


def udp_rcvbuf_errors(ns):
    """The namespace's UDP RcvbufErrors: datagrams the kernel dropped because
    a socket's receive buffer was full."""
    lines = [l.split() for l in nsexec(ns, "cat", "/proc/net/snmp").stdout.splitlines()
             if l.startswith("Udp:")]
    return int(lines[1][lines[0].index("RcvbufErrors")])


# ---- what mpctl status --json shows about the bundle ------------------------
# One place that knows the reply's shape (docs/control-protocol.md, bundle
# and receiver sections), so the cases read like the user's view.

def bundle_of(st):
    """Gateway: the bundle object of a status reply, or None."""
    b = st.get("bundle")
    if isinstance(b, list):
        b = b[0] if b else None
    return b


def links_of(obj):
    return list((obj or {}).get("links") or [])


def link_up(l):
    """A link the user would call up: in the bundle (PPP phase Network) and
    alive (echoes answered)."""
    return (l.get("phase") == "network" and l.get("liveness") == "alive"
            and l.get("in_bundle", True))


def link_dead(l):
    """Out of the schedule: silent past the dead timeout (a cut path stays in
    LCP Opened), or no longer in Network at all."""
    return l.get("liveness") == "dead" or l.get("phase") != "network"


def link_bytes(l):
    return (l.get("tx_bytes") or 0), (l.get("rx_bytes") or 0)


def gateways_of(st):
    """Receiver: its gateways (one block per bundle)."""
    r = st.get("receiver") or {}
    return list(r.get("gateways") or st.get("gateways") or [])


def unauthenticated_of(st):
    r = st.get("receiver") or {}
    for k in ("unauthenticated", "unauthenticated_sources", "pending"):
        if k in r:
            v = r[k]
            return v if isinstance(v, int) else len(v)
    raise AssertionError(f"receiver status has no unauthenticated count: {sorted(r)}")


def write_modemd_conf(path, d, mode, body, source, log_level="debug"):
    """A modemd config (mode gateway|receiver, then body) for a daemon whose
    socket, run and state directories live in d; 0600 (it holds secrets).
    Returns the control socket path."""
    for sub in ("state", "run"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    sock = os.path.join(d, "control.sock")
    text = f"""# generated by {source}
log_level = "{log_level}";
control_socket = "{sock}";
control_group = "";
run_dir = "{os.path.join(d, 'run')}";
state_dir = "{os.path.join(d, 'state')}";
udev = false;
apn_db = [ ];
mode = "{mode}";
{body}
"""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)
    return sock


class Daemon:
    """modemd in a namespace with a generated config; mpctl on its socket."""

    def __init__(self, bed, ns, role, name, body):
        self.bed, self.ns, self.role, self.name = bed, ns, role, name
        d = os.path.join(bed.workdir, name)
        self.dir = d
        self.conf = os.path.join(d, "modemd.conf")
        self.logpath = os.path.join(d, "modemd.log")
        self.sock = write_modemd_conf(self.conf, d, "receiver" if role == "receiver" else "gateway",
                                      body, f"tests/netns/bundlelib.py ({role} {name})")
        self.proc = None
        self.logf = None

    def start(self, timeout=15):
        r = sh(self.bed.modemd, "-n", "-c", self.conf, check=False)
        if r.returncode != 0:
            raise AssertionError(f"modemd -n refuses {self.conf}: {(r.stderr or r.stdout).strip()}")
        self.logf = open(self.logpath, "a")
        self.proc = subprocess.Popen(["ip", "netns", "exec", self.ns, self.bed.modemd, "-c", self.conf],
                                     stdin=subprocess.DEVNULL, stdout=self.logf,
                                     stderr=subprocess.STDOUT)
        self.bed.daemons.append(self)
        wait_for(f"{self.name}: control socket answering", self._answers, timeout)
        return self

    def _answers(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"{self.name}: modemd exited with {self.proc.returncode}:\n"
                                 f"{self.tail()}")
        return self.status(check=False) is not None

    def tail(self, n=25):
        try:
            with open(self.logpath, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def log_text(self):
        with open(self.logpath, errors="replace") as f:
            return f.read()

    def mpctl(self, *args, check=True):
        r = sh(self.bed.mpctl_bin, "-s", self.sock, *args, check=False, timeout=15)
        if check and r.returncode != 0:
            raise AssertionError(f"{self.name}: mpctl {' '.join(args)} exited {r.returncode}: "
                                 f"{r.stderr.strip()}")
        return r

    def status(self, check=True):
        r = self.mpctl("status", "--json", check=check)
        if r.returncode != 0:
            return None
        j = json.loads(r.stdout)
        if not j.get("ok"):
            raise AssertionError(f"{self.name}: status not ok: {j}")
        return j

    def alive(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"{self.name}: modemd exited with {self.proc.returncode}:\n"
                                 f"{self.tail()}")

    # gateway view
    def links(self):
        self.alive()
        return links_of(bundle_of(self.status()))

    def link(self, name):
        for l in self.links():
            if l.get("name") == name:
                return l
        raise AssertionError(f"{self.name}: no link {name} in mpctl status")

    def wait_links_up(self, n, timeout):
        def ok():
            ls = self.links()
            return ls if sum(link_up(l) for l in ls) >= n else None
        try:
            return wait_for(f"{self.name}: {n} links up", ok, timeout, interval=0.2)
        except AssertionError as e:
            raise AssertionError(f"{e}; links now: {self.brief()}") from None

    def tun_address(self, timeout=10):
        """Gateway: the address IPCP gave its TUN (from mpctl)."""
        def addr():
            b = bundle_of(self.status()) or {}
            return b.get("local_address")
        return wait_for(f"{self.name}: bundle address", addr, timeout, interval=0.2)

    def brief(self):
        try:
            st = self.status()
        except Exception as e:
            return f"(no status: {e})"
        if self.role == "receiver":
            return json.dumps(st.get("receiver", st))[:1500]
        return json.dumps(bundle_of(st))[:1500]

    def stop(self, timeout=10):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.logf:
            self.logf.close()
            self.logf = None
        return self.proc.returncode if self.proc else None


class Bed:
    """One case's world: a topology (gateway gw1 + receiver), optional extra
    gateway namespaces and a stranger, the daemons, iperf3 servers."""

    def __init__(self, args, case, npaths, shapes=()):
        self.workdir = os.path.join(args.workdir, case)
        # Logs are appended to (pppd, modemd): start each run empty, so
        # that what a test waits for in them is this run's.
        shutil.rmtree(self.workdir, ignore_errors=True)
        os.makedirs(self.workdir, exist_ok=True)
        self.modemd = os.path.join(args.build, "modemd", "modemd")
        self.mpctl_bin = os.path.join(args.build, "mpctl", "mpctl")
        self.keep = args.keep
        self.prefix = f"b{os.getpid() % 100000}{case[:3]}-"
        self.extra_ns = []
        self.daemons = []
        self.procs = []
        self.shapes = {}
        r = sh(TOPO, "up", self.prefix, str(npaths), *shapes, check=False, timeout=60)
        if r.returncode != 0:
            raise AssertionError(f"topology.sh up: {r.stderr.strip()}")
        self.info = dict(l.split("=", 1) for l in r.stdout.split() if "=" in l)
        self.gw = self.info["GW_NS"]
        self.rx = self.info["RX_NS"]
        self.rx_addr = self.info["RX_ADDR"]
        self.npaths = npaths
        for s in shapes:
            k, spec = s.split("=", 1)
            self.shapes[k] = spec

    # ---- namespaces -------------------------------------------------------
    def add_gateway_ns(self, idx, npaths):
        """Namespace PREFIXgwIDX with npaths veths into the receiver:
        interface gIDXpK, 10.(210+IDX).K.2/24 <-> .1; default route via path 1."""
        ns = f"{self.prefix}gw{idx}"
        sh("ip", "netns", "add", ns)
        self.extra_ns.append(ns)
        sh("ip", "-n", ns, "link", "set", "lo", "up")
        for k in range(1, npaths + 1):
            dev, net = f"g{idx}p{k}", f"10.{210 + idx}.{k}"
            sh("ip", "-n", ns, "link", "add", dev, "type", "veth", "peer", "name", dev,
               "netns", self.rx)
            sh("ip", "-n", ns, "addr", "add", f"{net}.2/24", "dev", dev)
            sh("ip", "-n", self.rx, "addr", "add", f"{net}.1/24", "dev", dev)
            sh("ip", "-n", ns, "link", "set", dev, "up")
            sh("ip", "-n", self.rx, "link", "set", dev, "up")
        sh("ip", "-n", ns, "route", "add", "default", "via", f"10.{210 + idx}.1.1")
        return ns, [(f"g{idx}p{k}", f"10.{210 + idx}.{k}.1") for k in range(1, npaths + 1)]

    def add_stranger_ns(self, naddrs):
        """A namespace on the internet side of the receiver with naddrs source
        addresses 10.230.0.2.. on one veth; returns (ns, [addresses])."""
        ns = f"{self.prefix}x"
        sh("ip", "netns", "add", ns)
        self.extra_ns.append(ns)
        sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh("ip", "-n", ns, "link", "add", "xp", "type", "veth", "peer", "name", "xp", "netns", self.rx)
        sh("ip", "-n", self.rx, "addr", "add", "10.230.0.1/16", "dev", "xp")
        addrs = [f"10.230.{(i + 2) // 256}.{(i + 2) % 256}" for i in range(naddrs)]
        batch = "".join(f"addr add {a}/16 dev xp\n" for a in addrs)
        subprocess.run(["ip", "-n", ns, "-batch", "-"], input=batch, text=True, check=True)
        sh("ip", "-n", ns, "link", "set", "xp", "up")
        sh("ip", "-n", self.rx, "link", "set", "xp", "up")
        sh("ip", "-n", ns, "route", "add", "default", "via", "10.230.0.1")
        return ns, addrs

    # ---- paths ------------------------------------------------------------
    def cut(self, k):
        """Path k drops everything both ways (a path that goes silent: no
        carrier change, no local error; pfifo with limit 0 on both ends)."""
        for ns in (self.gw, self.rx):
            sh("tc", "-n", ns, "qdisc", "replace", "dev", f"path{k}", "root", "pfifo", "limit", "0")

    def restore(self, k):
        spec = self.shapes.get(str(k))
        for ns in (self.gw, self.rx):
            if spec:
                rate, *opts = spec.split(",")
                kv = dict(o.split("=", 1) for o in opts)
                sh("tc", "-n", ns, "qdisc", "replace", "dev", f"path{k}", "root", "tbf", "rate", rate,
                   "burst", kv.get("burst", "32kb"), "latency", kv.get("latency", "50ms"))
            else:
                sh("tc", "-n", ns, "qdisc", "del", "dev", f"path{k}", "root", check=False)

    # ---- daemons ----------------------------------------------------------
    def receiver(self, users, max_unauth=None, name="rx", extra=""):
        us = ",\n".join(
            f'    {{ name = "{u}"; secret = "{s}"; }}' for u, s in users)
        body = f"""receiver = {{
  listen = "0.0.0.0";
  port = {PORT};
  name = "receiver";
  tun = "mp0";
  local_address = "{RX_TUN_ADDR}";
  pool = "{POOL}";
  require_auth = "chap";
  {f'max_unauthenticated = {max_unauth};' if max_unauth else ''}
  {extra}
  users = (
{us}
  );
}};"""
        return Daemon(self, self.rx, "receiver", name, body).start()

    def gateway(self, ns, name, links, secret=SECRET, extra=""):
        """links: [(interface, next hop)]; link names p1, p2, ..."""
        ls = ",\n".join(f'    {{ name = "p{i}"; interface = "{dev}"; gateway = "{hop}"; }}'
                        for i, (dev, hop) in enumerate(links, 1))
        body = f"""bundle = {{
  receiver = "{self.rx_addr}";
  port = {PORT};
  name = "{name}";
  secret = "{secret}";
  tun = "mp0";
  modem_links = false;
  {extra}
  links = (
{ls}
  );
}};"""
        return Daemon(self, ns, "gateway", name, body).start()

    def main_links(self):
        return [(f"path{k}", f"10.200.{k}.1") for k in range(1, self.npaths + 1)]

    # ---- iperf3 -----------------------------------------------------------
    def iperf_server(self, addr, port=5201):
        """iperf3 -s -1 in the receiver namespace bound to addr; waits until
        it listens."""
        logp = os.path.join(self.workdir, f"iperf3-server-{port}.log")
        p = subprocess.Popen(["ip", "netns", "exec", self.rx, "iperf3", "-s", "-1", "-B", addr,
                              "-p", str(port)], stdin=subprocess.DEVNULL,
                             stdout=open(logp, "w"), stderr=subprocess.STDOUT)
        self.procs.append(p)

        def listening():
            if p.poll() is not None:
                raise AssertionError(f"iperf3 server exited {p.returncode}: {open(logp).read()}")
            r = sh("ss", "-N", self.rx, "-Htln", f"src {addr}:{port}")
            return r.stdout.strip() != ""
        wait_for(f"iperf3 server on {addr}:{port}", listening, 10)
        return p

    def iperf_client(self, ns, addr, seconds, port=5201):
        """Start iperf3 -c (JSON) in ns; returns the Popen (stdout = JSON)."""
        p = subprocess.Popen(["ip", "netns", "exec", ns, "iperf3", "-c", addr, "-p", str(port),
                              "-t", str(seconds), "-J", "--connect-timeout", "5000"],
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        self.procs.append(p)
        return p

    @staticmethod
    def iperf_result(p, timeout):
        try:
            out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
            raise AssertionError(f"iperf3 did not finish within {timeout} s")
        try:
            j = json.loads(out)
        except ValueError:
            j = {}
        if p.returncode != 0 or "error" in j:
            raise AssertionError(f"iperf3 exited {p.returncode}: {j.get('error') or err.strip()}")
        return j

    # ---- teardown ---------------------------------------------------------
    def close(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        for d in self.daemons:
            d.stop()
        if self.keep:
            log(f"kept: namespaces {self.gw} {self.rx} {' '.join(self.extra_ns)}")
            return
        for ns in self.extra_ns:
            sh("ip", "netns", "del", ns, check=False)
        sh(TOPO, "down", self.prefix, check=False)


# ---- hostile input (run inside the stranger namespace) ----------------------

def lcp_conf_req(ident, magic):
    """FF 03 C021, Configure-Request: MRU 1400, Magic-Number, MRRU 1600."""
    opts = bytes([1, 4, 0x05, 0x78, 5, 6]) + magic.to_bytes(4, "big") + bytes([17, 4, 0x06, 0x40])
    return bytes([0xFF, 0x03, 0xC0, 0x21, 1, ident & 0xFF]) + (4 + len(opts)).to_bytes(2, "big") + opts


def flood(target, port, addrs, nrandom, nconfreq, seed=1):
    """nrandom random datagrams (0-1500 bytes, some dressed as LCP), then
    nconfreq LCP Configure-Requests, each from a fresh source (address from
    addrs, new ephemeral port). Prints what it sent."""
    import random
    rnd = random.Random(seed)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addrs[0], 0))
    sent = 0
    for i in range(nrandom):
        d = rnd.randbytes(rnd.randrange(0, 1501))
        if i % 4 == 0:
            d = bytes([0xFF, 0x03, 0xC0, 0x21]) + d[:60]  # LCP with garbage
        try:
            s.sendto(d, (target, port))
            sent += 1
        except OSError:
            pass
    s.close()
    socks = []
    t0 = time.monotonic()
    for i in range(nconfreq):
        # Paced at ~1000/s so the receiver is under pressure for seconds
        # while the test samples its state, not for one burst.
        ahead = t0 + i / 1000 - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)
        t = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        t.bind((addrs[i % len(addrs)], 0))
        try:
            t.sendto(lcp_conf_req(i, rnd.getrandbits(32)), (target, port))
            sent += 1
        except OSError:
            pass
        socks.append(t)
        if len(socks) > 200:  # keep ports busy a while so they stay distinct
            socks.pop(0).close()
    for t in socks:
        t.close()
    print(f"sent {sent}", flush=True)


if __name__ == "__main__":
    # python3 bundlelib.py flood TARGET PORT NRANDOM NCONFREQ ADDR...
    if len(sys.argv) >= 6 and sys.argv[1] == "flood":
        flood(sys.argv[2], int(sys.argv[3]), sys.argv[6:], int(sys.argv[4]), int(sys.argv[5]))
    else:
        sys.exit("usage: bundlelib.py flood TARGET PORT NRANDOM NCONFREQ ADDR...")
