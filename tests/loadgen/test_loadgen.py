#!/usr/bin/env python3
"""Receiver with many gateways (host, root): 20 simulated gateways x 3 links
(tests/loadgen/mpload, the project's own plink/bundle/IPCP per gateway)
against a real modemd receiver in network namespaces.

Asserts what an operator would look at: every gateway authenticates with its
own user and secret and gets its own IPCP address, the receiver's
`mpctl status` lists all of them with all their links up, and data sent by
every gateway comes out of the receiver's TUN.

    tests/loadgen/test_loadgen.py --build BUILD --workdir DIR [--keep]
"""
import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import scalelib  # noqa: E402
from scalelib import ScaleBed, gateways_of, log, wait_for  # noqa: E402

GATEWAYS, LINKS = 20, 3


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("FAIL: needs root (network namespaces, veth, TUN); not skipped")
    for tool in ("ip", "prlimit"):
        if scalelib.sh("sh", "-c", f"command -v {tool}", check=False).returncode:
            sys.exit(f"FAIL: {tool} not installed")
    bed = ScaleBed(os.path.abspath(a.build), os.path.abspath(a.workdir),
                   f"b6t{os.getpid() % 10000}", keep=a.keep)
    ok = False
    try:
        bed.start_receiver(GATEWAYS)
        t0 = time.monotonic()
        bed.start_load(GATEWAYS, LINKS, "--size", "1000")
        up = bed.load_event("up", 30)
        log(f"all {GATEWAYS} gateways authenticated and addressed after {up['setup_s']:.2f} s "
            f"(links joined after {up['auth_s']:.2f} s)")
        assert up["links_joined"] == GATEWAYS * LINKS, up
        assert up["gateways_up"] == GATEWAYS, up

        gws = bed.wait_rx_gateways(GATEWAYS, LINKS, 20)
        names = sorted(g["name"] for g in gws)
        want = sorted(f"{scalelib.USER}{i}" for i in range(1, GATEWAYS + 1))
        assert names == want, f"receiver lists {names}, want {want}"
        addrs = [g["address"] for g in gws]
        assert len(set(addrs)) == GATEWAYS, f"addresses not distinct: {addrs}"
        log(f"receiver status: {GATEWAYS} gateways up, {LINKS} links each, addresses "
            f"{min(addrs)} .. {max(addrs)}")

        # Data: 2,000 packets/s of 1,000 bytes from every gateway in turn.
        p0, b0 = bed.tun_counters()
        s0 = bed.load_stats()
        bed.load_cmd("rate 2000 1000", "rate")
        target = s0["tx_pkts"] + 4000

        def sent():
            s = bed.load_stats()
            return s if s["tx_pkts"] >= target else None
        wait_for("mpload: 4000 packets sent", sent, 15, interval=0.2)
        bed.load_cmd("rate 0", "rate")
        s1 = bed.load_stats()
        sent_n = s1["tx_pkts"] - s0["tx_pkts"]

        def delivered():
            p, b = bed.tun_counters()
            return (p, b) if p - p0 >= sent_n * 0.95 else None
        try:
            p1, b1 = wait_for("receiver TUN: 95% of the packets", delivered, 10, interval=0.2)
        except AssertionError:
            p1, b1 = bed.tun_counters()
            raise AssertionError(f"sent {sent_n} packets, the receiver's TUN got {p1 - p0}; "
                                 f"mpload: {s1}") from None
        log(f"data: {sent_n} packets sent, {p1 - p0} out of the receiver's TUN "
            f"({(b1 - b0) / 1e6:.1f} MB)")

        # Every gateway's bundle delivered (the receiver counts per gateway).
        gws = gateways_of(bed.status())
        # (rx_packets also counts a handful of IPCP packets.)
        each = sent_n // GATEWAYS
        quiet = [(g["name"], (g.get("stats") or {}).get("rx_packets")) for g in gws
                 if ((g.get("stats") or {}).get("rx_packets") or 0) < each * 0.9]
        assert not quiet, f"gateways whose data did not arrive (~{each} each sent): {quiet}"
        st = bed.status().get("receiver") or {}
        assert st.get("links") == GATEWAYS * LINKS, f"receiver links: {st.get('links')}"
        assert st.get("unauthenticated") == 0, st
        final = bed.stop_load()
        assert final and final["link_downs"] == 0, f"links went down: {final}"
        ok = True
    finally:
        if not ok:
            log("receiver log tail:\n" + bed.rx_tail(40))
        bed.close()
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
