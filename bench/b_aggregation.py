#!/usr/bin/env python3
"""Benchmark 1: aggregation (docs/benchmarks.md).

Three emulated links between namespaces PREFIXgw and PREFIXrx (linkem in
PREFIXem). Link sets:
  trace  TMobile-LTE-short, Verizon-LTE-short, ATT-LTE-driving-2016 (.up
         gateway->receiver, .down back), 30/50/80 ms one way
  fixed  20/10/5 Mbit/s both ways, 20/50/80 ms one way
every queue 250 ms. Cases, each after a linkem `reset` (the same stretch of
trace for every case) and followed by linkem `stats`:
  single   plain TCP over each path alone (the three at once, each on its
           own link; their sum is the denominator)
  bundle1  modemd gateway+receiver, 1 TCP flow through the TUN
  bundle8  the same with 8 parallel flows
  mptcp1   kernel MPTCP, one subflow per path (mptcpize iperf3), 1 flow
  mptcp8   the same, 8 flows

    b_aggregation.py --build B --workdir D --json F [--quick] [--sets trace,fixed]
                     [--cases single,bundle1,...] [--seconds N] [--prefix b1]
"""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as b  # noqa: E402

QUEUE_MS = 250
SETS = {
    "trace": ("trace links", lambda: [b.trace_link("l1", "TMobile-LTE-short", 30, QUEUE_MS),
                                      b.trace_link("l2", "Verizon-LTE-short", 50, QUEUE_MS),
                                      b.trace_link("l3", "ATT-LTE-driving-2016", 80, QUEUE_MS)]),
    "fixed": ("fixed-rate unequal links", lambda: [b.rate_link("l1", 20, 20, QUEUE_MS),
                                                   b.rate_link("l2", 10, 50, QUEUE_MS),
                                                   b.rate_link("l3", 5, 80, QUEUE_MS)]),
}
CASES = ["single", "bundle1", "bundle8", "mptcp1", "mptcp8"]
LABEL = {"bundle1": "bundle, 1 TCP flow", "bundle8": "bundle, 8 TCP flows",
         "mptcp1": "MPTCP, 1 flow (3 subflows)", "mptcp8": "MPTCP, 8 flows (3 subflows each)"}


def extra(ap):
    ap.add_argument("--sets", default="trace,fixed", help="link sets: trace, fixed")
    ap.add_argument("--cases", default=",".join(CASES), help="cases: " + ", ".join(CASES))
    ap.add_argument("--seconds", type=float, help="per case (default 30, --quick 8)")


def measured(bench, start, finish):
    """reset the emulator, run the case, read its stats."""
    bench.reset()
    procs = start()
    out = finish(procs)
    return out, bench.rates()


def case_single(bench, secs):
    n = len(bench.links)
    for k in range(1, n + 1):
        bench.iperf_server(f"10.200.{k}.1", 5200 + k)

    def start():
        return [bench.iperf_client(f"10.200.{k}.1", secs, port=5200 + k, bind=f"10.200.{k}.2")
                for k in range(1, n + 1)]
    res, rates = measured(bench, start, lambda ps: [bench.iperf(p) for p in ps])
    return res, rates


def case_flows(bench, secs, addr, parallel, mptcp, port):
    bench.iperf_server(addr, port, mptcp=mptcp)
    sub = []

    def start():
        p = bench.iperf_client(addr, secs, port=port, parallel=parallel, mptcp=mptcp)
        if mptcp:  # how many subflows really run, half way through
            t = threading.Timer(secs / 2, lambda: sub.append(bench.mptcp_subflows()))
            t.start()
        return p
    res, rates = measured(bench, start, bench.iperf)
    res["subflows"] = sub[0] if sub else None
    res["parallel"] = parallel
    return res, rates


def run_set(bench, res, key, secs, cases):
    title, mk = SETS[key]
    links = mk()
    bench.start_linkem(links)
    names = [l["name"] for l in links]
    got = {}   # case -> {"mbit", "retransmits", "rates", ...}

    def attempt(case, fn):
        b.log(f"{key}/{case}: {secs:g} s")
        try:
            r, rates = fn()
            got[case] = dict(r if isinstance(r, dict) else {}, rates=rates)
            if isinstance(r, list):
                got[case]["singles"] = r
        except Exception as e:  # noqa: BLE001 (one case failing is a result too)
            res.fail(f"{title}, {case}: {e}")
            got[case] = {"error": str(e)}

    if "single" in cases:
        attempt("single", lambda: case_single(bench, secs))
    if {"bundle1", "bundle8"} & set(cases):
        try:
            bench.start_bundle()
            before = {n: (bench.gw_link(f"p{i}") or {}).get("tx_bytes", 0)
                      for i, n in enumerate(names, 1)}
            for c, par in (("bundle1", 1), ("bundle8", 8)):
                if c in cases:
                    attempt(c, lambda: case_flows(bench, secs, b.RX_TUN_ADDR, par, False, 5211 + par))
            got.setdefault("bundle1", {})["mpctl_tx_bytes"] = {
                n: (bench.gw_link(f"p{i}") or {}).get("tx_bytes", 0) - before[n]
                for i, n in enumerate(names, 1)}
        except Exception as e:  # noqa: BLE001
            res.fail(f"{title}: bundle did not come up: {e}")
        finally:
            bench.stop_bundle()
    if {"mptcp1", "mptcp8"} & set(cases):
        try:
            bench.mptcp_up()
            for c, par in (("mptcp1", 1), ("mptcp8", 8)):
                if c in cases:
                    attempt(c, lambda: case_flows(bench, secs, b.MPTCP_ADDR, par, True, 5221 + par))
        finally:
            bench.mptcp_down()
    bench.stop_linkem()
    report(res, key, title, links, got, cases)


def report(res, key, title, links, got, cases):
    names = [l["name"] for l in links]
    singles = got.get("single", {}).get("singles")
    alone = {n: s["mbit"] for n, s in zip(names, singles)} if singles else {}
    total = sum(alone.values()) if alone else None
    cap_src = next((g["rates"] for g in got.values() if g.get("rates")), {})
    tlinks = []
    for l in links:
        c = cap_src.get(l["name"], {})
        tlinks.append({"name": l["name"], "profile": l["profile"],
                       "capacity_mbit": c.get("capacity_mbit"), "delivered_mbit": alone.get(l["name"])})
    cols = ["case", "Mbit/s", "ratio to sum", "of capacity", "per-link share " + "/".join(names),
            "retransmits"]
    rows = []

    def capsum(g):
        return sum(r["capacity_mbit"] or 0 for r in g["rates"].values())

    if singles:
        g = got["single"]
        for n, s in zip(names, singles):
            r = g["rates"][n]
            rows.append([f"{n} alone", s["mbit"], b.ratio(s["mbit"], total),
                         b.ratio(s["mbit"], r["capacity_mbit"]), None, s["retransmits"]])
        rows.append(["sum of the links alone", total, 1.0, b.ratio(total, capsum(g)), None, None])
        best = max(alone, key=alone.get)
        rows.append([f"best single link ({best})", alone[best], b.ratio(alone[best], total),
                     None, None, None])
    for c in cases:
        if c == "single" or c not in got:
            continue
        g = got[c]
        if "error" in g or "mbit" not in g:
            rows.append([LABEL[c], None, None, None, f"failed: {g.get('error', '?')[:80]}", None])
            continue
        label = LABEL[c]
        if g.get("subflows") is not None:
            # iperf3's control connection is MPTCP too: parallel + 1 connections.
            label += f" [{g['subflows'] / (g['parallel'] + 1):.1f} subflows per connection seen]"
        rows.append([label, g["mbit"], b.ratio(g["mbit"], total), b.ratio(g["mbit"], capsum(g)),
                     b.shares_text(g["rates"]), g["retransmits"]])
        unused = [n for n, s in b.shares(g["rates"]).items() if s < 0.01]
        if unused:
            res.note(f"{title}, {LABEL[c]}: link(s) {', '.join(unused)} carried < 1% of the data")
    res.table(f"1{'a' if key == 'trace' else 'b'}. {title}: one upload gateway -> receiver per case",
              cols, rows, links=tlinks)
    if key == "trace" or not res.d["links"]:
        res.d["links"] = tlinks
    res.d["data"][key] = {"links": tlinks, "cases": {
        c: {k: v for k, v in g.items()} for c, g in got.items()}}


def run(args, res):
    secs = args.seconds or (8 if args.quick else 30)
    sets = [s for s in args.sets.split(",") if s]
    cases = [c for c in args.cases.split(",") if c]
    for s in sets:
        if s not in SETS:
            raise RuntimeError(f"unknown set {s}")
    for c in cases:
        if c not in CASES:
            raise RuntimeError(f"unknown case {c}")
    t0 = time.monotonic()
    with b.Bench(args, "aggregation") as bench:
        for s in sets:
            run_set(bench, res, s, secs, cases)
    res.note(f"{secs:g} s per case; each case starts from a linkem reset, so every case sees the same "
             f"stretch of trace; queues {QUEUE_MS} ms per direction; TCP {args.cc}. Links: capacity = "
             "what the emulator offered per second in the single-link case, delivered = what plain TCP "
             "got over the link "
             "alone. 'ratio to sum': goodput / sum of "
             "what each link delivered alone (plain TCP, the three links measured at once, each on its own "
             "path). 'of capacity': goodput / sum of what the emulator offered in that case. Per-link "
             "share: bytes each link delivered gateway->receiver (linkem stats, with tunnel overhead).")
    res.note(f"benchmark took {time.monotonic() - t0:.0f} s")


if __name__ == "__main__":
    b.bench_main("aggregation", "1. Aggregation: one TCP flow and 8 flows over three links vs the sum "
                 "of the links alone, MPTCP and the best single link", run, extra, default_prefix="b1")
