#!/usr/bin/env python3
"""Benchmark 3: latency under load (docs/benchmarks.md).

The trace links of benchmark 1. Echoes at 20/s (benchlib.py ping: paced, not
waiting for replies) from the gateway namespace:
  through the bundle     to the receiver's TUN address
  through the best link  to 10.200.K.1 bound to pathK, no bundle running
each idle, and while one bulk TCP upload (iperf3, gateway -> receiver) runs
over the same thing (the bundle; that link alone). Echoes sent in the first
2 s of the upload (slow start) are not counted. Each case starts from a
linkem reset.

    b_latency.py --build B --workdir D --json F [--quick] [--prefix b3]
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as b  # noqa: E402
from b_aggregation import QUEUE_MS, SETS  # noqa: E402  (the same links)

RATE = 20  # echoes per second
WARM = 2.0


def idle(bench, ns, addr, secs, iface=None):
    bench.reset()
    j = bench.collect(bench.pinger(ns, addr, secs, RATE, iface), secs + 30)
    return dict(b.ping_summary(j), bulk=None, rates=bench.rates())


def loaded(bench, ns, addr, secs, srv, port, iface=None, bind=None):
    bench.iperf_server(srv, port)
    bench.reset()
    cl = bench.iperf_client(srv, secs, port=port, bind=bind)
    t0 = time.monotonic()
    # Echoes cover the transfer after its slow start and stop before its end.
    time.sleep(WARM)
    pg = bench.pinger(ns, addr, secs - WARM - 1, RATE, iface)
    j = bench.collect(pg, secs + 30)
    bulk = bench.iperf(cl)
    rates = bench.rates()
    s = b.ping_summary(j, t0 + WARM, t0 + secs - 1)
    return dict(s, bulk=bulk["mbit"], rates=rates)


def run(args, res):
    idle_s, load_s = (4, 8) if args.quick else (10, 30)
    links = SETS["trace"][1]()
    i, means = b.biggest(links, load_s)
    k, best = i + 1, links[i]["name"]
    got = {}
    t0 = time.monotonic()

    def attempt(case, fn):
        b.log(f"latency/{case}")
        try:
            got[case] = fn()
        except Exception as e:  # noqa: BLE001 (one case failing is a result too)
            res.fail(f"{case}: {e}")
            got[case] = {"error": str(e)}

    with b.Bench(args, "latency") as bench:
        bench.start_linkem(links)
        attempt("idle-single", lambda: idle(bench, bench.gw, f"10.200.{k}.1", idle_s, f"path{k}"))
        attempt("load-single", lambda: loaded(bench, bench.gw, f"10.200.{k}.1", load_s, f"10.200.{k}.1",
                                              5231, iface=f"path{k}", bind=f"10.200.{k}.2"))
        try:
            bench.start_bundle()
            attempt("idle-bundle", lambda: idle(bench, bench.gw, b.RX_TUN_ADDR, idle_s))
            attempt("load-bundle", lambda: loaded(bench, bench.gw, b.RX_TUN_ADDR, load_s, b.RX_TUN_ADDR,
                                                  5232))
        except Exception as e:  # noqa: BLE001
            res.fail(f"bundle did not come up: {e}")
        finally:
            bench.stop_bundle()
        bench.stop_linkem()

    def g(case, key):
        return (got.get(case) or {}).get(key)

    cols = ["case", "p50 ms", "p99 ms", "echo loss", "echoes", "bulk Mbit/s"]
    rows = []
    for case, name in (("idle-single", f"idle, best single link ({best})"), ("idle-bundle", "idle, bundle"),
                       ("load-single", f"under load, best single link ({best}) alone"),
                       ("load-bundle", "under load, bundle")):
        if "error" in (got.get(case) or {"error": "not run"}):
            err = (got.get(case) or {}).get("error", "?")
            rows.append([name, None, None, None, None, f"failed: {err[:80]}"])
            continue
        rows.append([name, g(case, "p50"), g(case, "p99"), g(case, "loss"), g(case, "n"), g(case, "bulk")])

    def added(case, idle_case, key):
        a, i = g(case, key), g(idle_case, "p50")
        return None if a is None or i is None else a - i
    def r(key):
        return b.ratio(g("load-bundle", key), g("load-single", key))

    def ra(key):
        return b.ratio(added("load-bundle", "idle-bundle", key), added("load-single", "idle-single", key))
    rows.append(["ratio under load: bundle / best single", r("p50"), r("p99"), None, None, r("bulk")])
    rows.append(["added by load (loaded - idle p50), bundle / best single", ra("p50"), ra("p99"),
                 None, None, None])
    src = (got.get("load-bundle") or {}).get("rates") or (got.get("load-single") or {}).get("rates") or {}
    res.d["links"] = [{"name": l["name"], "profile": l["profile"],
                       "capacity_mbit": (src.get(l["name"]) or {}).get("capacity_mbit"),
                       "delivered_mbit": None} for l in links]
    res.table(f"Round-trip time of {RATE} echoes/s from the gateway, idle ({idle_s} s) and while one TCP "
              f"upload runs ({load_s} s)", cols, rows)
    res.note(f"Best single link: {best}, the trace with the highest mean upload rate over the first "
             f"{load_s} s (what a case sees after the reset: {max(means):.1f} Mbit/s). TCP {args.cc}. Queues {QUEUE_MS} ms per direction: a full queue "
             "on a link costs up to that much. Capacity: as the emulator offered it during the loaded "
             "bundle case.")
    res.note(f"Echoes sent in the first {WARM:g} s of the upload and its last second are not counted; "
             "a lost echo counts as loss, not in the percentiles.")
    res.note(f"benchmark took {time.monotonic() - t0:.0f} s")
    res.d["data"] = {"cases": got, "best": best}


if __name__ == "__main__":
    b.bench_main("latency", "3. Latency under load: the bundle vs the best single link", run,
                 default_prefix="b3")
