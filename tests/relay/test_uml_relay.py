#!/usr/bin/env python3
"""Real pppd through hdlc-relay (run inside tests/uml/uml-run: kernel PPP).

  pair       pppd A -- relay A ==UDP loopback== relay B -- pppd B (own netns,
             private /run): LCP opens, IPCP addresses come up, ICMP echo both
             ways. Relay B runs --accm-after-lcp, so pppd B also receives raw
             control characters once its ACCM 0 is in force.
  multilink  two such relay pairs, `multilink mrru 1500 endpoint magic:N` on
             both sides: the second link joins the bundle; ping over it.
Then the relays' captures decode with tshark as LCP/IPCP/MP with no
malformed packet. Set HDLC_RELAY to the relay binary. Prints "PASS name" or
"FAIL name: why" per case and "N passed, N failed".
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

NS = "relayb"
HERE = os.path.dirname(os.path.abspath(__file__))
PING = [sys.executable, os.path.join(HERE, "..", "uml", "icmp_ping.py")]
RELAY = os.environ.get("HDLC_RELAY", "")


def sh(*argv, check=True):
    return subprocess.run(argv, check=check, stdin=subprocess.DEVNULL, capture_output=True, text=True)


def wait_for(what, pred, timeout):
    """Poll an observable state until true or the deadline (a failure guard)."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.1)


def ifaces_with(addr, netns=None):
    pre = ["ip", "netns", "exec", netns] if netns else []
    out = sh(*pre, "ip", "-j", "addr", "show").stdout
    return [i["ifname"] for i in json.loads(out)
            for a in i.get("addr_info", []) if a.get("local") == addr]


def pppd_cmd(tty_path, logfile, *opts):
    return ["pppd", tty_path, "115200", "nodetach", "local", "noauth", "nocrtscts",
            "nodefaultroute", "noccp", "lcp-echo-interval", "0", "logfile", logfile, "debug", *opts]


def in_ns(argv):
    """argv in netns NS with a private /run (its own pppd2.tdb)."""
    inner = "mount -t tmpfs tmpfs /run && mkdir -p /run/lock && exec \"$@\""
    return ["ip", "netns", "exec", NS, "unshare", "-m", "--propagation", "private",
            "sh", "-c", inner, "sh", *argv]


def start(argv, out=subprocess.DEVNULL):
    return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)


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


def ping(addr, netns=None):
    pre = ["ip", "netns", "exec", netns] if netns else []
    r = sh(*pre, *PING, "-c", "3", "-W", "3", addr, check=False)
    if r.returncode != 0:
        raise AssertionError(f"ping {addr} failed: {r.stdout.strip()} {r.stderr.strip()}")


def relay_pair(logdir, name, port, procs):
    """Two relays back to back on loopback; returns their pty links."""
    links = []
    for side, lp, rp, extra in (("a", port, port + 1, []), ("b", port + 1, port, ["--accm-after-lcp"])):
        link = os.path.join(logdir, f"{name}-{side}.pty")
        p = subprocess.Popen([RELAY, "--pty-link", link, "--udp-local", f"127.0.0.1:{lp}",
                              "--udp-remote", f"127.0.0.1:{rp}", "--pcap",
                              os.path.join(logdir, f"{name}-{side}.pcap"), *extra],
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=open(os.path.join(logdir, f"{name}-{side}.relay.log"), "w"))
        procs.append(p)
        if p.stdout.readline() != b"READY\n":
            raise AssertionError(f"relay {name}-{side} did not start")
        links.append(link)
    return links


def check_pcaps(logdir, name, want):
    """tshark decodes the captures; want: protocol names that must appear."""
    if not shutil.which("tshark"):
        print("  (tshark not installed: capture not checked)")
        return
    env_home = ["env", f"HOME={logdir}"]
    seen = set()
    for side in "ab":
        pcap = os.path.join(logdir, f"{name}-{side}.pcap")
        r = sh(*env_home, "tshark", "-n", "-r", pcap, "-T", "fields", "-e", "_ws.col.Protocol")
        protos = set(r.stdout.split())
        seen |= protos
        missing = [p for p in want if p not in protos]
        if missing:
            raise AssertionError(f"{pcap}: no {missing} in {sorted(protos)}")
        r = sh(*env_home, "tshark", "-n", "-r", pcap, "-Y", "_ws.malformed || _ws.expert.severity >= error")
        if r.stdout.strip():
            raise AssertionError(f"{pcap}: malformed packets:\n{r.stdout}")
    print(f"  captures decode: {', '.join(want)} present, nothing malformed")
    return seen


def relay_stats(logdir, name):
    txt = ""
    for side in "ab":
        with open(os.path.join(logdir, f"{name}-{side}.relay.log")) as f:
            txt += f"  relay {side}: {f.read().strip()}\n"
    return txt.rstrip()


def case_pair(logdir):
    procs = []
    try:
        la, lb = relay_pair(logdir, "pair", 16710, procs)
        pa, pb = os.path.join(logdir, "pair-a.log"), os.path.join(logdir, "pair-b.log")
        procs.append(start(pppd_cmd(la, pa, "10.72.0.1:10.72.0.2")))
        procs.append(start(in_ns(pppd_cmd(lb, pb))))
        ia = wait_for("side A interface with 10.72.0.1", lambda: ifaces_with("10.72.0.1"), 40)
        ib = wait_for("side B interface with 10.72.0.2", lambda: ifaces_with("10.72.0.2", NS), 40)
        print(f"  side A {ia[0]} 10.72.0.1, side B {ib[0]} 10.72.0.2 (netns {NS})")
        ping("10.72.0.2")
        ping("10.72.0.1", NS)
    finally:
        stop(procs[2:])
        stop(procs[:2])
    stats = relay_stats(logdir, "pair")
    print(stats)
    # pppd B asked for ACCM 0; relay B applied it once pppd B was past lcp_up.
    if "escaping towards the tty with ACCM 0x00000000" not in stats:
        raise AssertionError("relay B never applied pppd's negotiated ACCM")
    check_pcaps(logdir, "pair", ["LCP", "IPCP", "ICMP"])


def case_multilink(logdir):
    procs, pppds = [], []
    try:
        for i in range(2):
            la, lb = relay_pair(logdir, f"ml{i}", 16720 + 2 * i, procs)
            a_log = os.path.join(logdir, f"ml{i}-a.log")
            b_log = os.path.join(logdir, f"ml{i}-b.log")
            pppds.append(start(pppd_cmd(la, a_log, "10.73.0.1:10.73.0.2", "multilink", "mrru", "1500",
                                        "endpoint", "magic:11111111")))
            b_cmd = pppd_cmd(lb, b_log, "multilink", "mrru", "1500", "endpoint", "magic:22222222")
            if i == 0:
                pppds.append(start(in_ns(b_cmd)))
                wait_for("bundle interface on side A", lambda: ifaces_with("10.73.0.1"), 40)
            else:
                # Same netns and private /run (pppd2.tdb) as the first B link.
                pppds.append(start(["nsenter", "-t", str(pppds[1].pid), "-m", "-n", "--", *b_cmd]))

        def joined():
            txt = ""
            for s in "ab":
                try:
                    with open(os.path.join(logdir, f"ml1-{s}.log")) as fh:
                        txt += fh.read()
                except OSError:
                    pass
            return txt.count("attached to") >= 2

        wait_for("second link to join the bundle on both sides", joined, 40)
        ia, ib = ifaces_with("10.73.0.1"), ifaces_with("10.73.0.2", NS)
        if len(ia) != 1 or len(ib) != 1:
            raise AssertionError(f"expected one bundle interface per side, got A={ia} B={ib}")
        print(f"  bundle: side A {ia[0]}, side B {ib[0]}")
        ping("10.73.0.2")
        ping("10.73.0.1", NS)
    finally:
        stop(pppds)
        stop(procs)
    for i in range(2):
        print(relay_stats(logdir, f"ml{i}"))
    # The kernel puts a few pings on whichever member it likes: MP must be
    # on the wire, not necessarily on the first link.
    seen = set()
    for i in range(2):
        seen |= check_pcaps(logdir, f"ml{i}", ["LCP"]) or {"MP"}
    if "MP" not in seen:
        raise AssertionError(f"no MP frame on either link (protocols: {sorted(seen)})")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--logdir", default=None)
    ap.add_argument("cases", nargs="*", default=["pair", "multilink"])
    a = ap.parse_args()
    if not RELAY:
        print("HDLC_RELAY not set")
        return 2
    logdir = os.path.abspath(a.logdir or "uml-relay-logs")
    # pppd appends to its logfile: a previous run's "attached to" lines
    # would make the wait for the second link pass at once (pings before
    # the bundle exists go out plain, without MP).
    shutil.rmtree(logdir, ignore_errors=True)
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
