#!/usr/bin/env python3
"""Proof that the UML testbed runs real PPP (run inside tests/uml/uml-run).

  pair       two pppd over a pty pair (a null-modem bridge in this script),
             one of them in its own network namespace; they negotiate IPCP
             and ping each other through ppp interfaces.
  multilink  two pty pairs, two pppd on each side with
             `multilink mrru 1500 endpoint magic:N`: the two links form one
             bundle (one interface per side), and ping works over it.

Each case prints "PASS name" or "FAIL name: why"; the last line is the
summary "N passed, N failed".
"""
import argparse
import json
import os
import select
import subprocess
import sys
import threading
import time
import tty

NS = "pppb"


def sh(*argv, check=True, **kw):
    return subprocess.run(argv, check=check, stdin=subprocess.DEVNULL, capture_output=True, text=True, **kw)


def wait_for(what, pred, timeout):
    """Poll pred() until it returns a true value (an observable state) or the deadline passes."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.1)


class NullModem:
    """Two ptys whose masters are bridged: what one slave writes, the other reads."""

    def __init__(self):
        self.m1, self.s1 = os.openpty()
        self.m2, self.s2 = os.openpty()
        # pppd needs raw ttys before it opens them (else "Serial line is looped back").
        tty.setraw(self.s1)
        tty.setraw(self.s2)
        self.path1, self.path2 = os.ttyname(self.s1), os.ttyname(self.s2)
        self.rd, self.wr = os.pipe()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        peer = {self.m1: self.m2, self.m2: self.m1}
        while True:
            r, _, _ = select.select([self.m1, self.m2, self.rd], [], [])
            if self.rd in r:
                return
            for fd in r:
                try:
                    data = os.read(fd, 4096)
                except OSError:
                    continue
                os.write(peer[fd], data)

    def close(self):
        os.write(self.wr, b"x")
        self.thread.join(2)
        # We keep our own slave fds until the end: closing them while pppd
        # still has the tty open is harmless, and opening before pppd avoids
        # EIO on the masters.
        for fd in (self.m1, self.s1, self.m2, self.s2, self.rd, self.wr):
            os.close(fd)


def ifaces_with(addr, netns=None):
    pre = ["ip", "netns", "exec", netns] if netns else []
    out = sh(*pre, "ip", "-j", "addr", "show").stdout
    return [i["ifname"] for i in json.loads(out)
            for a in i.get("addr_info", []) if a.get("local") == addr]


def pppd_cmd(tty_path, logfile, *opts):
    return ["pppd", tty_path, "115200", "nodetach", "local", "noauth", "nocrtscts",
            "nodefaultroute", "noccp", "lcp-echo-interval", "0",
            "logfile", logfile, "debug", *opts]


def in_ns(argv):
    """Run argv in netns NS with a private /run (own pppd2.tdb)."""
    inner = "mount -t tmpfs tmpfs /run && mkdir -p /run/lock && exec \"$@\""
    return ["ip", "netns", "exec", NS, "unshare", "-m", "--propagation", "private",
            "sh", "-c", inner, "sh", *argv]


def start(argv):
    return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.STDOUT)


def stop(procs):
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


PING = [sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "icmp_ping.py")]


def ping(addr, netns=None):
    pre = ["ip", "netns", "exec", netns] if netns else []
    r = sh(*pre, *PING, "-c", "3", "-W", "3", addr, check=False)
    if r.returncode != 0:
        raise AssertionError(f"ping {addr} failed: {r.stdout.strip()} {r.stderr.strip()}")
    return r.stdout


def case_pair(logdir):
    nm = NullModem()
    procs = []
    try:
        la, lb = os.path.join(logdir, "pair-a.log"), os.path.join(logdir, "pair-b.log")
        procs.append(start(pppd_cmd(nm.path1, la, "10.70.0.1:10.70.0.2")))
        procs.append(start(in_ns(pppd_cmd(nm.path2, lb))))
        ia = wait_for("side A interface with 10.70.0.1", lambda: ifaces_with("10.70.0.1"), 30)
        ib = wait_for("side B interface with 10.70.0.2", lambda: ifaces_with("10.70.0.2", NS), 30)
        print(f"  side A {ia[0]} 10.70.0.1, side B {ib[0]} 10.70.0.2 (netns {NS})")
        ping("10.70.0.2")
        ping("10.70.0.1", NS)
    finally:
        stop(procs)
        nm.close()


def case_multilink(logdir):
    links = [NullModem(), NullModem()]
    procs = []
    try:
        for i, nm in enumerate(links):
            la = os.path.join(logdir, f"ml-a{i}.log")
            lb = os.path.join(logdir, f"ml-b{i}.log")
            procs.append(start(pppd_cmd(nm.path1, la, "10.71.0.1:10.71.0.2", "multilink",
                                        "mrru", "1500", "endpoint", "magic:11111111")))
            b_cmd = pppd_cmd(nm.path2, lb, "multilink", "mrru", "1500", "endpoint", "magic:22222222")
            if i == 0:
                procs.append(start(in_ns(b_cmd)))
            else:
                # Same netns and same private /run (pppd2.tdb) as the first B link.
                procs.append(start(["nsenter", "-t", str(procs[1].pid), "-m", "-n", "--", *b_cmd]))
            if i == 0:
                # The first link creates the bundle; the second must join it.
                wait_for("bundle interface on side A", lambda: ifaces_with("10.71.0.1"), 30)
        logs = [os.path.join(logdir, f"ml-{s}1.log") for s in "ab"]

        def joined():
            txt = ""
            for f in logs:
                try:
                    with open(f) as fh:
                        txt += fh.read()
                except OSError:
                    pass
            return txt.count("attached to") >= 2 or txt.count("Link attached") >= 2

        wait_for("second link to join the bundle on both sides (\"Link attached to pppN\")", joined, 30)
        ia = ifaces_with("10.71.0.1")
        ib = ifaces_with("10.71.0.2", NS)
        if len(ia) != 1 or len(ib) != 1:
            raise AssertionError(f"expected one bundle interface per side, got A={ia} B={ib}")
        n_ppp = [i["ifname"] for i in json.loads(sh("ip", "-j", "link", "show").stdout)
                 if i["ifname"].startswith("ppp")]
        print(f"  bundle: side A {ia[0]}, side B {ib[0]}; ppp interfaces on side A: {n_ppp}")
        ping("10.71.0.2")
        ping("10.71.0.1", NS)
    finally:
        stop(procs)
        for nm in links:
            nm.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--logdir", default=None)
    ap.add_argument("cases", nargs="*", default=["pair", "multilink"])
    a = ap.parse_args()
    logdir = a.logdir or os.path.join(os.getcwd(), "uml-ppp-logs")
    os.makedirs(logdir, exist_ok=True)
    sh("ip", "netns", "add", NS)
    sh("ip", "-n", NS, "link", "set", "lo", "up")
    passed = failed = 0
    for name in a.cases:
        t0 = time.monotonic()
        try:
            globals()[f"case_{name}"](logdir)
            print(f"PASS {name} ({time.monotonic() - t0:.1f} s)", flush=True)
            passed += 1
        except Exception as e:  # report every case, keep going
            print(f"FAIL {name}: {e} (logs in {logdir})", flush=True)
            failed += 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
