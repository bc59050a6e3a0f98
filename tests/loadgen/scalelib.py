"""Receiver scale bed (host, root): a modemd receiver in namespace PREFIXr,
mpload (tests/loadgen, N simulated gateways x L links) in namespace PREFIXg,
one veth between them (10.250.0.2 -> 10.250.0.1; each link is its own UDP
socket, so its own source port: the receiver keys links by address:port).

The receiver's TUN gets the gateways' data, addressed to DATA_DST, which a
blackhole route in PREFIXr drops: what is measured is the receiver's work per
packet (UDP in, MP reassembly, TUN write), counted by the TUN's RX counters.

Used by tests/loadgen/test_loadgen.py (functional) and bench/b_scale.py.
"""
import json
import os
import queue
import resource
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(SRCDIR, "tests", "netns"))
from bundlelib import (gateways_of, link_up, links_of, sh, udp_rcvbuf_errors,  # noqa: E402
                       wait_for, write_modemd_conf)

PORT = 6671
RX_ADDR, GW_ADDR = "10.250.0.1", "10.250.0.2"
RX_TUN_ADDR = "10.95.0.1"
POOL = "10.96.0.0/20"      # 4094 gateway addresses
DATA_DST = "10.99.0.1"     # blackholed in the receiver namespace
USER, SECRET = "gw", "scale-secret-"
TICK = os.sysconf("SC_CLK_TCK")


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---- /proc ------------------------------------------------------------------

def proc_cpu(pid):
    """user+sys CPU seconds of one process."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def proc_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {pid}")


def proc_fds(pid):
    """(open descriptors, of which timerfds)."""
    d = f"/proc/{pid}/fd"
    n = t = 0
    for e in os.listdir(d):
        n += 1
        try:
            if os.readlink(os.path.join(d, e)) == "anon_inode:[timerfd]":
                t += 1
        except OSError:
            pass
    return n, t


# ---- the bed -------------------------------------------------------------------

class ScaleBed:
    def __init__(self, build, workdir, prefix, keep=False):
        self.build, self.workdir, self.keep = build, workdir, keep
        os.makedirs(workdir, exist_ok=True)
        self.modemd = os.path.join(build, "modemd", "modemd")
        self.mpctl_bin = os.path.join(build, "mpctl", "mpctl")
        self.mpload_bin = os.path.join(build, "tests", "mpload")
        for exe in (self.modemd, self.mpctl_bin, self.mpload_bin):
            if not os.access(exe, os.X_OK):
                raise AssertionError(f"FAIL: {exe} not built")
        self.gw, self.rx = f"{prefix}g", f"{prefix}r"
        self.rxproc = self.load = None
        self.rxlog = None
        self._drop()
        try:
            for ns in (self.gw, self.rx):
                sh("ip", "netns", "add", ns)
                sh("ip", "-n", ns, "link", "set", "lo", "up")
            sh("ip", "link", "add", "b6lg", "netns", self.gw, "type", "veth", "peer", "name",
               "b6lr", "netns", self.rx)
            sh("ip", "-n", self.gw, "addr", "add", f"{GW_ADDR}/24", "dev", "b6lg")
            sh("ip", "-n", self.rx, "addr", "add", f"{RX_ADDR}/24", "dev", "b6lr")
            sh("ip", "-n", self.gw, "link", "set", "b6lg", "up")
            sh("ip", "-n", self.rx, "link", "set", "b6lr", "up")
            sh("ip", "-n", self.rx, "route", "add", "blackhole", DATA_DST.rsplit(".", 2)[0] + ".0.0/16")
        except Exception:
            self._drop()
            raise

    def _drop(self):
        for ns in (self.gw, self.rx):
            sh("ip", "netns", "del", ns, check=False)

    # ---- receiver ---------------------------------------------------------------
    def start_receiver(self, n_users, log_level="info", timeout=20):
        d = os.path.join(self.workdir, "rx")
        conf = os.path.join(d, "modemd.conf")
        users = ",\n".join(f'    {{ name = "{USER}{i}"; secret = "{SECRET}{i}"; }}'
                           for i in range(1, n_users + 1))
        self.sock = write_modemd_conf(conf, d, "receiver", f"""receiver = {{
  listen = "0.0.0.0";
  port = {PORT};
  name = "receiver";
  tun = "mp0";
  local_address = "{RX_TUN_ADDR}";
  pool = "{POOL}";
  require_auth = "chap";
  max_gateways = {max(n_users, 1)};
  max_links_per_gateway = 16;
  max_unauthenticated = 65536;
  unauthenticated_timeout = 60000;
  users = (
{users}
  );
}};""", "tests/loadgen/scalelib.py", log_level)
        r = sh(self.modemd, "-n", "-c", conf, check=False)
        if r.returncode != 0:
            raise AssertionError(f"modemd -n refuses {conf}: {(r.stderr or r.stdout).strip()}")
        self.rxlog_path = os.path.join(d, "modemd.log")
        self.rxlog = open(self.rxlog_path, "w")
        # modemd keeps ~5 timerfds per link and ~4 per gateway: 1,000 gateways
        # x 3 links need ~19,000 descriptors, so lift the soft limit as far as
        # the hard one goes (raising that needs CAP_SYS_RESOURCE).
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        nofile = 1048576 if hard == resource.RLIM_INFINITY else hard
        self.nofile = nofile
        self.rxproc = subprocess.Popen(
            ["prlimit", f"--nofile={nofile}:{nofile}", "--", "ip", "netns", "exec", self.rx,
             self.modemd, "-c", conf], stdin=subprocess.DEVNULL, stdout=self.rxlog,
            stderr=subprocess.STDOUT)
        wait_for("receiver: control socket answering", self._answers, timeout)
        return self.rxproc

    def _answers(self):
        if self.rxproc.poll() is not None:
            raise AssertionError(f"receiver exited {self.rxproc.returncode}:\n{self.rx_tail()}")
        return self.status(check=False) is not None

    def rx_tail(self, n=25):
        try:
            with open(self.rxlog_path, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def status(self, check=True, timeout=60):
        r = sh(self.mpctl_bin, "-s", self.sock, "status", "--json", check=False, timeout=timeout)
        if r.returncode != 0:
            if check:
                raise AssertionError(f"mpctl status: {r.stderr.strip()}")
            return None
        return json.loads(r.stdout)

    def rx_pid(self):
        """modemd's pid (prlimit and ip netns exec both exec, so the same)."""
        return self.rxproc.pid

    def tun_counters(self):
        """Receiver TUN: (packets, bytes) the daemon wrote into the kernel."""
        r = sh("ip", "-n", self.rx, "-s", "-j", "link", "show", "dev", "mp0")
        rx = json.loads(r.stdout)[0]["stats64"]["rx"]
        return rx["packets"], rx["bytes"]

    def rcvbuf_errors(self):
        return udp_rcvbuf_errors(self.rx)

    # ---- mpload -------------------------------------------------------------------
    def start_load(self, gateways, links, *extra):
        argv = ["ip", "netns", "exec", self.gw, self.mpload_bin, "--rx", f"{RX_ADDR}:{PORT}",
                "-g", str(gateways), "-l", str(links), "--src", GW_ADDR, "--user", USER,
                "--secret", SECRET, "--dst", DATA_DST, *extra]
        self.load_err = open(os.path.join(self.workdir, "mpload.log"), "w")
        self.load = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.load_err, text=True, bufsize=1)
        self.events = queue.Queue()
        threading.Thread(target=self._reader, args=(self.load,), daemon=True).start()
        return self.load

    def _reader(self, p):
        for line in p.stdout:
            try:
                self.events.put(json.loads(line))
            except ValueError:
                self.events.put({"event": "garbage", "line": line})
        self.events.put({"event": "eof"})

    def load_event(self, want, timeout):
        """The next line from mpload with event == want (others skipped)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"mpload: no {want!r} within {timeout:.0f} s")
            try:
                e = self.events.get(timeout=left)
            except queue.Empty:
                continue
            if e.get("event") == "eof":
                raise AssertionError(f"mpload exited ({self.load.poll()}) waiting for {want!r}")
            if e.get("event") == want:
                return e

    def load_cmd(self, line, want=None, timeout=10):
        self.load.stdin.write(line + "\n")
        self.load.stdin.flush()
        return self.load_event(want, timeout) if want else None

    def load_stats(self):
        return self.load_cmd("stats", "stats")

    def stop_load(self, timeout=10):
        if not self.load:
            return None
        final = None
        if self.load.poll() is None:
            try:
                self.load.stdin.write("quit\n")
                self.load.stdin.flush()
                final = self.load_event("exit", timeout)
                self.load.wait(timeout)
            except (AssertionError, OSError, subprocess.TimeoutExpired):
                self.load.kill()
                self.load.wait()
        self.load = None
        return final

    def wait_rx_gateways(self, n, links, timeout):
        """The receiver's status shows n gateways up, each with `links` links up."""
        def ok():
            gws = gateways_of(self.status())
            good = [g for g in gws if g.get("state") == "up" and g.get("address")
                    and sum(link_up(l) for l in links_of(g)) == links]
            return gws if len(good) == n else None
        return wait_for(f"receiver: {n} gateways with {links} links up", ok, timeout,
                        interval=0.5)

    def close(self):
        try:
            self.stop_load()
        finally:
            if self.rxproc and self.rxproc.poll() is None:
                self.rxproc.terminate()
                try:
                    self.rxproc.wait(10)
                except subprocess.TimeoutExpired:
                    self.rxproc.kill()
                    self.rxproc.wait()
            if self.rxlog:
                self.rxlog.close()
            if self.keep:
                log(f"kept: namespaces {self.gw} {self.rx}")
            else:
                self._drop()
