#!/usr/bin/env python3
"""Run inside user-mode Linux (tests/uml/uml-run): the simulator's data phase
carries real PPP. A client pppd on the simulated PPP port runs the shipped
3gpp.chat, gets CONNECT, and negotiates with a carrier pppd that the
simulator started in its own network namespace; the client pings the
carrier. Then the carrier drops the call (control "hangup"): the client pppd
sees the modem hang up (DCD drop, exit 16); it redials on the same port and
pings again; finally the client pppd exits and the simulator ends the call
(DTR drop) and stops the carrier.

Usage: test_uml_carrier.py [--logdir DIR]; prints PASS/FAIL lines, exit 0 if all pass.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from simtest import SRCDIR, Sim  # noqa: E402

NS = "carrier"
PING = [sys.executable, os.path.join(SRCDIR, "tests", "uml", "icmp_ping.py")]
CARRIER_ADDR, CLIENT_ADDR = "10.64.0.1", "10.64.0.2"


def wait_for(what, pred, timeout):
    """Poll an observable state (no event source for kernel addresses here)."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.0f s waiting for %s" % (timeout, what))
        time.sleep(0.1)


def has_addr(addr):
    out = subprocess.run(["ip", "-o", "-4", "addr", "show"], capture_output=True, text=True).stdout
    return [ln.split()[1] for ln in out.splitlines() if " %s" % addr in ln]


def client_pppd(tty, log):
    chat = "/usr/sbin/chat -v -s -S -T *99# -U 3GNET -f %s/chat-scripts/3gpp.chat" % SRCDIR
    return subprocess.Popen(
        ["pppd", tty, "115200", "nodetach", "local", "noauth", "nocrtscts", "nodefaultroute",
         "noipdefault", "noccp", "novj", "noipv6", "lcp-echo-interval", "0", "connect", chat,
         "logfile", log, "debug"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=open(log + ".stderr", "w"))


def carrier_cmd(log):
    # its own netns and a private /run (its own pid files and pppd2.tdb)
    pppd = ("pppd $CARRIER_TTY 115200 nodetach local noauth nocrtscts nodefaultroute noccp "
            "novj lcp-echo-interval 0 logfile %s debug %s:%s" % (log, CARRIER_ADDR, CLIENT_ADDR))
    return ("exec ip netns exec %s unshare -m --propagation private sh -c "
            "'mount -t tmpfs tmpfs /run && mkdir -p /run/lock && exec %s'" % (NS, pppd))


def dial_and_ping(sim, logdir, n):
    log = os.path.join(logdir, "client%d.log" % n)
    client = client_pppd(sim.ppp, log)
    try:
        assert sim.await_event("cgdcont", 30) == "EVENT cgdcont cid=1 type=IP apn=3GNET"
        sim.await_event("connect", 30)
        sim.await_event("carrier-start", 5)
        ifs = wait_for("client address %s" % CLIENT_ADDR, lambda: has_addr(CLIENT_ADDR), 40)
        subprocess.run(PING + ["-c", "3", "-W", "5", CARRIER_ADDR], check=True)
        print("  call %d: %s has %s, carrier %s answers ping" % (n, ifs[0], CLIENT_ADDR,
                                                                 CARRIER_ADDR))
    except BaseException:
        client.kill()
        raise
    return client


def run(logdir):
    subprocess.run(["ip", "netns", "add", NS], check=True)
    sim = Sim("--boot-delay", "0.2", "--sim-delay", "0.2", "--reg-delay", "0.3",
              carrier_cmd=carrier_cmd(os.path.join(logdir, "carrier.log")))
    try:
        sim.await_event("reg stat=1", 10)
        client = dial_and_ping(sim, logdir, 1)
        print("PASS connect-and-ping")

        t0 = time.monotonic()
        assert sim.control("hangup") == "OK"
        sim.await_event("dcd-drop", 5)
        code = client.wait(30)
        assert code == 16, "client pppd exit %d, want 16 (modem hangup)" % code
        sim.await_event("carrier-exit", 10)
        print("  client pppd saw the hangup in %.1f s (exit 16)" % (time.monotonic() - t0))
        print("PASS carrier-hangup")

        client = dial_and_ping(sim, logdir, 2)
        client.terminate()
        assert client.wait(30) == 5, "client pppd should exit 5 on SIGTERM"
        assert sim.await_event("hangup", 10) == "EVENT hangup port=ppp reason=dtr"
        sim.await_event("carrier-exit", 10)
        print("PASS redial-then-dtr-drop")
        return 0
    finally:
        sim.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--logdir", default=None)
    a = ap.parse_args()
    logdir = a.logdir or tempfile.mkdtemp(prefix="sim-uml-")
    os.makedirs(logdir, exist_ok=True)
    try:
        return run(logdir)
    except Exception as e:
        print("FAIL carrier: %s" % e)
        for name in sorted(os.listdir(logdir)):
            path = os.path.join(logdir, name)
            print("---- %s" % path)
            with open(path, errors="replace") as f:
                sys.stdout.write(f.read()[-3000:])
        return 1


if __name__ == "__main__":
    sys.exit(main())
