#!/usr/bin/env python3
"""Guest side of bench/dial-latency.sh (runs inside UML): time from a
simulated modem's appearance to pppd started and to link up, as modemd
reports it (status JSON timing.pppd_started_ms / timing.link_up_ms), with 1
and with 4 modems at once, with the simulator's default delays and with all
of them set to zero (what remains is modemd + chat + pppd + the carrier pppd
+ UML). Each round: fresh simulators (booted, SIM ready) and a fresh modemd;
its start is the modems' appearance."""
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2elib import Carrier, Modemd, Sim, common_args, log  # noqa: E402

DEFAULT = dict(boot=1.0, sim=0.6, reg=0.5, dial=0.3, cmd=0.02)  # sim7100.py defaults
ZERO = dict(boot=0, sim=0, reg=0, dial=0, cmd=0)
ROUNDS = [(1, "default", DEFAULT), (4, "default", DEFAULT), (1, "zero", ZERO), (4, "zero", ZERO)]


def one_round(a, n, delays, tag):
    work = os.path.join(a.workdir, tag)
    os.makedirs(work, exist_ok=True)
    carriers, sims, d = [], [], None
    try:
        for i in range(n):
            car = Carrier(i, work)
            carriers.append(car)
            opts = ["--boot-delay", str(delays["boot"]), "--sim-delay", str(delays["sim"]),
                    "--reg-delay", str(delays["reg"]), "--dial-delay", str(delays["dial"]),
                    "--cmd-delay", str(delays["cmd"])]
            s = Sim(f"b{i}", work, *opts, carrier=car, imsi=f"4600112345{i:05d}", operator="China Unicom")
            # Fully up before modemd sees it: SIM ready and registered (home).
            s.wait_line(lambda l: l.startswith("EVENT reg") and "stat=1" in l, 20, "registration")
            sims.append(s)
        # Ready SIMs: what remains of the simulator's delays is per command
        # (cmd) and ATD -> CONNECT (dial); registration is already done.
        d = Modemd(a.build, work, sims, debug=False)
        t0 = time.monotonic()
        d.start()
        res = []
        for s in sims:
            m = d.wait_state(s.name, "connected", 90, lambda m: m["timing"]["link_up_ms"] is not None)
            res.append((m["timing"]["pppd_started_ms"], m["timing"]["link_up_ms"]))
        wall = time.monotonic() - t0
        return res, wall
    finally:
        if d:
            d.stop()
        for s in sims:
            s.stop()
        for c in carriers:
            c.close()


def main():
    a = common_args(__doc__)
    rows = []
    for n, name, delays in ROUNDS:
        res, wall = one_round(a, n, delays, f"{n}-{name}")
        ps = [r[0] for r in res]
        ups = [r[1] for r in res]
        rows.append((n, name, delays, statistics.median(ps), max(ps), statistics.median(ups), max(ups), wall))
        log(f"  round {n} modem(s), {name} simulator delays: pppd_started {ps} ms, link_up {ups} ms")
    log("")
    log("modems  sim delays                      pppd started (med/max)  link up (med/max)  all up (wall)")
    for n, name, dl, pm, px, um, ux, wall in rows:
        dtext = f"{name}: cmd {dl['cmd'] * 1000:.0f}ms dial {dl['dial'] * 1000:.0f}ms"
        log(f"{n:>6}  {dtext:<30}  {pm:>8.0f} / {px:<8.0f} ms    {um:>6.0f} / {ux:<6.0f} ms   {wall:6.1f} s")
    log("")
    log("timings are modemd's (status JSON), from the modem's appearance (modemd start, SIM ready and")
    log("registered); 'zero' removes every simulator delay, so what remains is modemd + chat + pppd +")
    log("the carrier's pppd (started per call: ip netns exec + pppd), under user-mode Linux (one")
    log("CPU, slow system calls: expect more than on hardware, and more with several modems at once).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
