#!/usr/bin/env python3
"""Benchmark 2: failover (docs/benchmarks.md).

The trace links of benchmark 1 (l1 TMobile-LTE-short, l2 Verizon-LTE-short,
l3 ATT-LTE-driving-2016; 30/50/80 ms, queues 250 ms). One long TCP flow
gateway -> receiver by our own source and sink (benchlib.py source/sink: the
sink time-stamps every read, 10 ms buckets); at t=10 s the biggest link (the
trace offering the most over the case's stretch: l2 for 30 s, also for
--quick's 8 s) dies both ways (linkem `outage`) for 10 s, or for good. Cases:
  bundle-outage, bundle-dead   through modemd's bundle (TUN)
  mptcp-outage, mptcp-dead     kernel MPTCP, one subflow per path (the
                               first one on l1, the gateway's default route)
Reported: longest gap between two reads that returned data, whether the flow
ended cleanly (no reset, no timeout, every byte sent arrived), goodput
before / during / after the outage, and when mpctl showed the link dead.

    b_failover.py --build B --workdir D --json F [--quick] [--cases ...] [--prefix b2]
"""
import json
import os
import select
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as b  # noqa: E402
from b_aggregation import QUEUE_MS, SETS  # noqa: E402  (the same links)

CASES = ["bundle-outage", "bundle-dead", "mptcp-outage", "mptcp-dead"]


def extra(ap):
    ap.add_argument("--cases", default=",".join(CASES), help="cases: " + ", ".join(CASES))


def wait_line(p, want, timeout):
    """Read p's stdout until a line equal to want (the probe says it is ready)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if p.poll() is not None:
            raise AssertionError(f"probe exited {p.returncode}: {p.stderr.read().strip()[-300:]}")
        r, _, _ = select.select([p.stdout], [], [], 0.1)
        if r and p.stdout.readline().strip() == want:
            return
    raise AssertionError(f"probe not {want} within {timeout} s")


def window(sink, t_from, t_to):
    """Goodput (Mbit/s) the sink saw in [t_from, t_to) (monotonic s)."""
    if sink.get("first") is None or t_to <= t_from:
        return None
    bs = sink["bucket_ms"] / 1000
    i0 = max(0, int((t_from - sink["first"]) / bs))
    i1 = max(i0, int((t_to - sink["first"]) / bs))
    if i1 <= i0:
        return None
    return b.mbit(sum(sink["buckets"][i0:i1]), (i1 - i0) * bs)


AFTER_S = 2.0  # the window after the death that the failover itself accounts for


def gap_after(sink, t_from, secs=AFTER_S):
    """Longest run of empty 10 ms buckets (ms) that starts in [t_from, t_from + secs):
    the stall the death itself caused, apart from the remaining links' own
    coverage gaps later on."""
    if sink.get("first") is None:
        return None
    bs = sink["bucket_ms"] / 1000
    b = sink["buckets"]
    i0 = max(0, int((t_from - sink["first"]) / bs) - 1)
    i1 = min(len(b), int((t_from + secs - sink["first"]) / bs))
    best, i = 0, i0
    while i < i1:
        if b[i] == 0:
            j = i
            while j < len(b) and b[j] == 0:
                j += 1
            best = max(best, (j - i) * sink["bucket_ms"])
            i = j
        else:
            i += 1
    return best


def flow_case(bench, mode, kind, secs, at, dur, port, victim):
    mptcp = mode == "mptcp"
    plink = "p" + victim[1:]  # the gateway's name for link lK
    addr = b.MPTCP_ADDR if mptcp else b.RX_TUN_ADDR
    out = os.path.join(bench.workdir, f"sink-{mode}-{kind}.json")
    flag = ["--mptcp"] if mptcp else []
    sink = bench.spawn(bench.rx, "sink", "--bind", addr, "--port", str(port), "--out", out, *flag)
    wait_line(sink, "listening", 10)
    bench.reset()
    src = bench.spawn(bench.gw, "source", addr, "--port", str(port), "--seconds", str(secs),
                      "--cc", bench.cc, *flag)
    t_start = time.monotonic()
    # The outage is scripted at a point of the transfer: a schedule, not a wait for a state.
    time.sleep(max(0.0, t_start + at - time.monotonic()))
    bench.linkem.outage(victim, dur if kind == "outage" else 3600)
    t_out = time.monotonic()
    dead_ms = back_ms = None
    if not mptcp:
        try:
            b.wait_for(f"mpctl: {plink} dead", lambda: b.link_dead_now(bench, plink), 5, interval=0.02)
            dead_ms = (time.monotonic() - t_out) * 1000
        except AssertionError:
            dead_ms = None
        if kind == "outage":
            try:
                b.wait_for(f"mpctl: {plink} up again", lambda: b.link_up(bench.gw_link(plink) or {}),
                           dur + 10, interval=0.05)
                back_ms = (time.monotonic() - t_out - dur) * 1000
            except AssertionError:
                back_ms = None
    s = bench.collect(src, secs + 90)
    try:
        rc = sink.wait(40)  # the sink gives up after 30 s without data
    except subprocess.TimeoutExpired:
        sink.kill()
        raise AssertionError("the sink did not finish 40 s after the source")
    rates = bench.rates()
    with open(out) as f:
        k = json.load(f)
    if rc != 0:
        raise AssertionError(f"sink exited {rc}")
    survived = s["error"] is None and k["end"] == "eof" and k["bytes"] == s["sent"]
    warm = min(2.0, at / 2)
    t_end = k["last"] or t_out
    if kind == "outage":
        during = window(k, t_out, t_out + dur)
        after = window(k, t_out + dur, t_end)
    else:
        during, after = None, window(k, t_out, t_end)
    return {"max_gap_ms": k["max_gap_ms"], "gap_after_death_ms": gap_after(k, t_out),
            "gap_at_s": (k["max_gap_at"] - t_out) if k.get("max_gap_at") else None,
            "survived": survived, "end": k["end"], "source_error": s["error"],
            "sent": s["sent"], "received": k["bytes"],
            "before": window(k, t_start + warm, t_out), "during": during, "after": after,
            "dead_ms": dead_ms, "back_ms": back_ms, "rates": rates}


def run(args, res):
    cases = [c for c in args.cases.split(",") if c]
    for c in cases:
        if c not in CASES:
            raise RuntimeError(f"unknown case {c}")
    secs, at, dur = (8, 2.5, 3) if args.quick else (30, 10, 10)
    links = SETS["trace"][1]()
    vi, _ = b.biggest(links, secs)
    victim, plink = links[vi]["name"], f"p{vi + 1}"
    got = {}
    t0 = time.monotonic()
    with b.Bench(args, "failover") as bench:
        for mode in ("bundle", "mptcp"):
            mine = [c for c in cases if c.startswith(mode)]
            if not mine:
                continue
            bench.start_linkem(links)  # fresh: no outage left from an earlier case
            try:
                if mode == "bundle":
                    bench.start_bundle()
                else:
                    bench.mptcp_up()
                for i, c in enumerate(mine):
                    kind = c.split("-")[1]
                    b.log(f"failover/{c}: {secs} s, {victim} dies at {at} s"
                          + (f" for {dur} s" if kind == "outage" else " for good"))
                    try:
                        if mode == "bundle" and i:
                            b.wait_for(f"{plink} up before the case",
                                       lambda: b.link_up(bench.gw_link(plink) or {}), 20, interval=0.1)
                        got[c] = flow_case(bench, mode, kind, secs, at, dur, 5301 + CASES.index(c), victim)
                    except Exception as e:  # noqa: BLE001 (one case failing is a result too)
                        res.fail(f"{c}: {e}")
                        got[c] = {"error": str(e)}
            except Exception as e:  # noqa: BLE001
                res.fail(f"{mode}: could not set up: {e}")
            finally:
                bench.stop_bundle() if mode == "bundle" else bench.mptcp_down()
        bench.stop_linkem()
    label = {"outage": f"{victim} out {dur:g} s", "dead": f"{victim} dies for good"}
    cols = ["case", f"longest gap ms in the {AFTER_S:g} s after {victim} died", "longest gap ms (whole flow)",
            f"that gap starts (s after {victim} died)", "flow survived",
            "Mbit/s before", "Mbit/s during outage", "Mbit/s after", f"mpctl: {victim} dead after ms",
            f"mpctl: {victim} up again ms after the outage"]
    rows = []
    for c in cases:
        g = got.get(c, {})
        name = ("bundle" if c.startswith("bundle") else "MPTCP") + ", " + label[c.split("-")[1]]
        if "error" in g or not g:
            rows.append([name, None, None, None, None, None, None, f"failed: {g.get('error', '?')[:80]}"])
            continue
        surv = "yes" if g["survived"] else \
            f"NO ({g['source_error'] or g['end']}, {g['received']}/{g['sent']} B)"
        rows.append([name, g["gap_after_death_ms"], g["max_gap_ms"], g["gap_at_s"], surv, g["before"], g["during"], g["after"],
                     g["dead_ms"], g["back_ms"]])
    first = next((g["rates"] for g in got.values() if g.get("rates")), {})
    res.d["links"] = [{"name": l["name"], "profile": l["profile"],
                       "capacity_mbit": (first.get(l["name"]) or {}).get("capacity_mbit"),
                       "delivered_mbit": (first.get(l["name"]) or {}).get("delivered_mbit")}
                      for l in links]
    res.table(f"One TCP flow for {secs} s, {victim} (the biggest link over those {secs} s of trace) dies "
              f"at t={at:g} s", cols, rows)
    res.note(f"Links as in 1a (queues {QUEUE_MS} ms), TCP {args.cc}; capacity/delivered above: the "
             "first case (delivered = what the link carried in that case, outage included).")
    res.note(f"Gap after the death: the longest run of 10 ms buckets without data that starts within "
             f"{AFTER_S:g} s of it (what the failover costs; the target is <= 300 ms). Longest gap: "
             "the longest time between two reads of the receiving application that returned "
             "data over the whole flow (exact, not bucketed; it includes the remaining links' own "
             "coverage gaps); 'before' starts after the first "
             f"{min(2.0, at / 2):g} s; 'during' is the outage; 'after' runs from the end of the outage "
             "(for good: from the death) to the last byte. Survived: no reset or timeout and every byte "
             "sent arrived. MPTCP has no mpctl; its first subflow runs on l1.")
    res.note(f"benchmark took {time.monotonic() - t0:.0f} s")
    res.d["data"] = {"cases": got, "victim": victim}


if __name__ == "__main__":
    b.bench_main("failover", "2. Failover: the biggest link dies under one TCP flow", run, extra,
                 default_prefix="b2")
