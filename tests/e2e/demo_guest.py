#!/usr/bin/env python3
"""The guest side of scripts/demo.sh and of ctest e2e/demo (runs inside UML).

A gateway with three simulated SIM7100 modems on the seed carriers (China
Unicom, China Mobile, China Telecom CDMA); each carrier is a real pppd in
its own namespace, and each carrier's data path to the receiver crosses the
link emulator (linkem) replaying a different real LTE trace. modemd dials
all three with real chat + pppd and bundles the three PPP links (MP over
UDP) to a modemd receiver in its own namespace. Prints `mpctl status` on
both sides, runs iperf3 gateway -> receiver through the bundle and shows
what each link carried; then shuts down. Topology: tests/e2e/demolib.py,
docs/demo.md.

--check (the ctest): asserts that all three modem links are in the bundle
on both sides, that the iperf3 transfer completes, that every link carried
part of it, and a clean shutdown. Nothing about speed is asserted.
"""
import argparse
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from demolib import (EM_NS, RX_ADDR, RX_NS, RX_TUN_ADDR, World,  # noqa: E402
                     gw_bundle)
from e2elib import SEED, in_uml, log  # noqa: E402

CONNECT_TIMEOUT = 60
BUNDLE_TIMEOUT = 40
MIN_LINK_BYTES = 15000   # ten full-size frames: more than LCP echoes carry in a run
MIN_LINK_SHARE = 0.01
MIN_GOT_BYTES = 3000     # two full-size frames of the transfer


class Failed(Exception):
    pass


def mbit(nbytes, seconds):
    return nbytes * 8 / seconds / 1e6 if seconds > 0 else 0.0


def show(title, text):
    log(f"\n$ {title}")
    log(text.rstrip())


def per_link_table(w, before, after, seconds, em):
    """Print what each link carried during the transfer; return the rows."""
    gw0, rx0 = before
    gw1, rx1 = after
    rows = []
    for i, iface in enumerate(w.ifaces):
        sent = gw1.get(iface, 0) - gw0.get(iface, 0)
        got = rx1.get(iface, 0) - rx0.get(iface, 0)
        el = None
        if em:
            el = next((x for x in em.get("links", []) if x.get("name") == w.modems[i]), None)
        rows.append(dict(i=i, iface=iface, sent=sent, got=got,
                         em_up=(el or {}).get("up") or {}, em_down=(el or {}).get("down") or {}))
    total = sum(r["sent"] for r in rows) or 1
    em_secs = (em or {}).get("elapsed_s") or seconds
    log(f"\n{'link':8} {'carrier':14} {'trace (uplink)':22} {'gw sent':>10} {'rx got':>10} {'share':>6}"
        f" {'linkem up: delivered':>21} {'capacity':>13} {'used':>5} {'drops q/l':>9}")
    for r in rows:
        p = w.profile(r["i"])
        u = r["em_up"]
        cap = u.get("capacity_bytes")
        dl = u.get("delivered_bytes")
        used = f"{100 * dl / cap:4.0f}%" if cap and dl is not None else "  -"
        drops = (f"{u.get('dropped_queue', 0)}/{u.get('dropped_loss', 0)}" if u else "-")
        em_txt = (f"{mbit(dl, em_secs):7.2f} Mbit/s" if dl is not None else "-")
        cap_txt = (f"{mbit(cap, em_secs):5.2f} Mbit/s" if cap is not None else "-")
        log(f"{r['iface']:8} {SEED[r['i']]['operator']:14} {p['trace']:22} {r['sent']:10d} "
            f"{r['got']:10d} {100 * r['sent'] / total:5.1f}% {em_txt:>21} {cap_txt:>13} {used:>5}"
            f" {drops:>9}")
    return rows


def run(a):
    w = None
    failures = []
    result = dict(ok=False)

    def check(cond, what):
        if a.check:
            log(f"{'PASS' if cond else 'FAIL'} {what}")
        if not cond:
            failures.append(what)
        return cond

    try:
        log("demo: gateway (this namespace) with 3 simulated SIM7100 modems; carrier K in netns carK "
            f"(pppd 10.64.K.1); link emulator in netns {EM_NS}; receiver in netns {RX_NS} "
            f"({RX_ADDR}, UDP 6671)")
        w = World(a.build, a.workdir, a.scale, emulate=not a.no_emulator, debug=a.debug)
        if w.emulate:
            log(f"demo: link emulator profiles (real LTE traces slowed down x{a.scale:g}, "
                "so that user-mode Linux keeps up with the packet rate):")
        else:
            log("demo: NO link emulator (--no-emulator): carriers wired straight to the receiver")
        for i, c in enumerate(SEED):
            p = w.profile(i)
            shape = (f"{p['trace']}: up {p['up_mbit']:.2f} Mbit/s, down {p['down_mbit']:.2f} Mbit/s "
                     f"(mean), {p['delay_ms']} ms one way" if w.emulate else "unshaped")
            log(f"  m{i} {c['operator']:13} ({c['plmn']}, {c['act']:5}) ppp-m{i} -> car{i} -> {shape}")
        t0 = time.monotonic()
        log("demo: modemd dialing the three modems (real chat + pppd) ...")
        w.wait_connected(CONNECT_TIMEOUT)
        log(f"demo: all three connected after {time.monotonic() - t0:.1f} s; waiting for the bundle ...")
        w.wait_bundle(BUNDLE_TIMEOUT)
        b = gw_bundle(w.d)
        log(f"demo: bundle up after {time.monotonic() - t0:.1f} s: gateway mp0 {b.get('local_address')}"
            f" -> receiver {b.get('peer_address')}")
        check(True, "bundle: ppp-m0, ppp-m1, ppp-m2 in one bundle on both sides, IPCP up")

        show("mpctl status                                   # gateway", w.d.mpctl("status").stdout)
        show(f"ip netns exec {RX_NS} mpctl -s {w.rx.sock} status   # receiver",
             w.rx.mpctl("status").stdout)

        log(f"\ndemo: iperf3 TCP ({a.parallel} flow{'s' if a.parallel > 1 else ''}), {a.seconds} s, gateway -> receiver {RX_TUN_ADDR} through the bundle ...")
        stop, series, start = threading.Event(), [], {}
        sampler = threading.Thread(target=w.sample_links, args=(stop, series), daemon=True)

        def at_start():
            # counters and trace clocks from the start of the transfer
            start["bytes"] = w.link_bytes()
            if w.linkem:
                w.linkem.reset()
            sampler.start()
        try:
            j = w.iperf(a.seconds, a.parallel, at_start)
            before = start["bytes"]
        finally:
            stop.set()
            if sampler.is_alive():
                sampler.join()
            with open(os.path.join(a.workdir, "links-during-iperf.json"), "w") as f:
                json.dump(series, f, indent=1)
        em = w.linkem.stats() if w.linkem else None
        after = w.link_bytes()
        end = j.get("end", {})
        rcv = end.get("sum_received", {})
        snd = end.get("sum_sent", {})
        secs = rcv.get("seconds") or a.seconds
        log(f"demo: iperf3: {rcv.get('bytes', 0)} bytes received in {secs:.1f} s = "
            f"{rcv.get('bits_per_second', 0) / 1e6:.2f} Mbit/s goodput, "
            f"{snd.get('retransmits', 0)} TCP retransmissions")
        check(rcv.get("bytes", 0) > 0, "iperf3: the transfer through the bundle completed")
        rows = per_link_table(w, before, after, secs, em)
        if em:
            cap = sum((r["em_up"].get("capacity_bytes") or 0) for r in rows)
            dl = sum((r["em_up"].get("delivered_bytes") or 0) for r in rows)
            el = em.get("elapsed_s") or secs
            good = rcv.get("bits_per_second", 0) / 1e6
            log(f"\ndemo: linkem over {el:.1f} s: the three uplinks offered {mbit(cap, el):.2f} Mbit/s "
                f"together and delivered {mbit(dl, el):.2f} Mbit/s (frames, all headers); "
                f"iperf3 goodput / summed capacity = {100 * good / mbit(cap, el) if cap else 0:.0f}%")
        total = sum(r["sent"] for r in rows) or 1
        for r in rows:
            if not a.check and r["sent"] < max(MIN_LINK_BYTES, MIN_LINK_SHARE * total):
                log(f"demo: NOTE: {r['iface']} carried almost nothing ({r['sent']} bytes): the "
                    "scheduler kept its rate estimate low (mpctl OUT); ctest e2e/demo fails on that")
                continue
            check(r["sent"] >= MIN_LINK_BYTES and r["sent"] >= MIN_LINK_SHARE * total,
                  f"{r['iface']}: the gateway sent part of the transfer on it ({r['sent']} bytes, "
                  f"{100 * r['sent'] / total:.1f}%)")
            # A trace may put the link in a coverage gap for part of a short
            # run (ATT's has 1-4 s gaps; its queue then drops what waits):
            # the receiver must have got data on it, not a fixed amount.
            check(r["got"] >= MIN_GOT_BYTES,
                  f"{r['iface']}: the receiver got part of the transfer on it ({r['got']} bytes)")
            if em:
                check((r["em_up"].get("delivered_bytes") or 0) >= MIN_GOT_BYTES,
                      f"{r['iface']}: linkem delivered it ({r['em_up'].get('delivered_bytes')} bytes)")
        # still all up after the load
        w.wait_bundle(10)
        check(True, "bundle: all three links still up on both sides after the transfer")
        show("mpctl status                                   # gateway, after the transfer",
             w.d.mpctl("status").stdout)
        result.update(iperf=j, linkem=em)
    except Exception as e:
        failures.append(str(e))
        log(f"{'FAIL' if a.check else 'demo: FAILED:'} {e}")
        if w and w.d:
            log("--- modemd log (tail) ---\n" + w.d.tail(30))
    finally:
        if w:
            code, rcode, left, final = w.close()
            log(f"\ndemo: shut down: gateway modemd exit {code}, receiver exit {rcode}, "
                f"modemd's pppd left: {len(left)}")
            check(code == 0 and rcode == 0 and not left,
                  "shutdown: both modemd exit 0, no pppd left")
            if final:
                with open(os.path.join(a.workdir, "linkem-final.json"), "w") as f:
                    json.dump(final, f)
    result["ok"] = not failures
    with open(os.path.join(a.workdir, "demo-result.json"), "w") as f:
        json.dump(dict(result, failures=failures), f)
    if a.check:
        log(f"{'all checks passed' if not failures else f'{len(failures)} check(s) failed'}")
    else:
        log("demo: OK" if not failures else f"demo: FAILED ({'; '.join(failures)[:300]})")
    log(f"demo: logs in {a.workdir}")
    return 0 if not failures else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", required=True, help="build directory (modemd, mpctl, linkem)")
    ap.add_argument("--workdir", required=True, help="logs and generated files go here")
    ap.add_argument("--seconds", type=int, default=10, help="iperf3 duration (default 10)")
    ap.add_argument("--scale", type=float, default=0.15,
                    help="linkem trace scale: rate x this (default 0.15; UML is slow per packet)")
    ap.add_argument("--parallel", type=int, default=1, help="iperf3 parallel TCP flows (default 1)")
    ap.add_argument("--check", action="store_true", help="assert, one PASS/FAIL line per check")
    ap.add_argument("--no-emulator", action="store_true", help="wire carriers straight to the receiver")
    ap.add_argument("--debug", action="store_true", help="modemd log_level debug")
    a = ap.parse_args()
    a.build = os.path.abspath(a.build)
    a.workdir = os.path.abspath(a.workdir)
    os.makedirs(a.workdir, exist_ok=True)
    if not in_uml():
        sys.exit("run me inside user-mode Linux: tests/uml/uml-run -- " + " ".join(sys.argv))
    need = ["modemd/modemd", "mpctl/mpctl"] + ([] if a.no_emulator else ["tests/linkem/linkem"])
    for exe in need:
        if not os.access(os.path.join(a.build, exe), os.X_OK):
            sys.exit(f"{a.build}/{exe} not built")
    return run(a)


if __name__ == "__main__":
    sys.exit(main())
