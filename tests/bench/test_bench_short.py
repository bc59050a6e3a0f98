#!/usr/bin/env python3
"""Short benchmark runs as functional tests (host, root; docs/benchmarks.md).

    test_bench_short.py --build BUILD --workdir DIR aggregation|failover

Runs the real `bench/run --quick --only X` with a reduced case list and checks
what its user relies on, not the figures:
  aggregation  the fixed-rate unequal links (20/10/5 Mbit/s, 20/50/80 ms);
               each link alone and the bundle with one TCP flow (8 s):
               every link carried data alone, and the bundle carried data
               over all three links (mpctl and the emulator agree). Fixed,
               not trace links: a trace can leave a link in a coverage gap
               for a whole short run (ATT's has one at 3-5 s), and then the
               bundle is right not to use it; the demo replays traces.
  failover     the bundle with one TCP flow while its biggest link is out for
               3 s: the flow ended cleanly with every byte delivered, data
               flowed after the outage, the emulator dropped that link's
               traffic, mpctl saw it die
Both: bench.md and bench.json were written and hold the section.
"""
import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.path.normpath(os.path.join(HERE, "..", ".."))
RUN = os.path.join(SRCDIR, "bench", "run")
MIN_BYTES = 100_000  # per link: far more than LCP echoes carry in 5 s

ARGS = {
    "aggregation": "--sets fixed --cases single,bundle1 --seconds 8 --prefix bta",
    "failover": "--cases bundle-outage --prefix btf",
}


def check_aggregation(res):
    t = res["data"]["fixed"]["cases"]
    singles = t["single"]["singles"]
    assert len(singles) == 3 and all(s["mbit"] > 0 for s in singles), \
        f"a link alone carried nothing: {[s['mbit'] for s in singles]}"
    b1 = t["bundle1"]
    assert b1.get("mbit", 0) > 0, f"no goodput through the bundle: {b1}"
    em = {n: r["delivered_bytes"] for n, r in b1["rates"].items()}
    mp = b1["mpctl_tx_bytes"]
    for n in ("l1", "l2", "l3"):
        assert em.get(n, 0) >= MIN_BYTES, f"emulator: {n} delivered {em.get(n)} bytes of the bundle's " \
                                          f"transfer: the bundle did not use every link ({em})"
        assert mp.get(n, 0) >= MIN_BYTES, f"mpctl: {n} sent only {mp.get(n)} bytes ({mp})"
    return (f"bundle {b1['mbit']:.1f} Mbit/s, links alone "
            + "/".join(f"{s['mbit']:.1f}" for s in singles) + f"; bytes per link {em}")


def check_failover(res):
    c = res["data"]["cases"]["bundle-outage"]
    assert "error" not in c, f"case failed: {c['error']}"
    assert c["survived"], (f"the TCP flow did not survive the outage: {c['source_error'] or c['end']}, "
                           f"{c['received']} of {c['sent']} bytes")
    assert c["received"] > 0 and c["received"] == c["sent"]
    assert c["after"] and c["after"] > 0, f"no data after the outage: {c}"
    v = res["data"]["victim"]
    lv = c["rates"][v]
    assert lv.get("dropped_outage", 0) > 0, f"the emulator dropped nothing on {v}: no outage happened ({lv})"
    assert c["dead_ms"] is not None, f"mpctl never showed {v} dead during a 3 s outage"
    return (f"survived; longest gap {c['max_gap_ms']:.0f} ms, {v} dead in mpctl after {c['dead_ms']:.0f} ms, "
            f"{c['before']:.1f}/{c['during'] or 0:.1f}/{c['after']:.1f} Mbit/s before/during/after")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("which", choices=sorted(ARGS))
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("FAIL: the benchmark tests need root (network namespaces); they are not skipped")
    out = os.path.join(os.path.abspath(a.workdir), a.which)
    r = subprocess.run([sys.executable, RUN, "--build", a.build, "--out", out, "--quick", "--only", a.which,
                        "--args", f"{a.which}={ARGS[a.which]}", "--timeout", "120"],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=140)
    sys.stderr.write(r.stderr[-4000:])
    try:
        with open(os.path.join(out, "bench.json")) as f:
            doc = json.load(f)
        with open(os.path.join(out, "bench.md")) as f:
            md = f.read()
    except (OSError, ValueError) as e:
        sys.exit(f"FAIL {a.which}: bench/run wrote no results ({e}); exit {r.returncode}")
    b = doc["benchmarks"][0]
    if r.returncode != 0 or not b["ok"]:
        notes = "; ".join(((b.get("result") or {}).get("notes") or [])[:3])
        sys.exit(f"FAIL {a.which}: bench/run exit {r.returncode}: {b['error']} {notes}\n{b['log_tail']}")
    res = b["result"]
    assert f"## {res['title']}" in md, "bench.md lacks the benchmark's section"
    assert res["tables"] and res["tables"][0]["rows"], "no table rows"
    try:
        summary = {"aggregation": check_aggregation, "failover": check_failover}[a.which](res)
    except AssertionError as e:
        sys.exit(f"FAIL {a.which}: {e}")
    print(f"PASS {a.which}: {summary} ({b['seconds']:.0f} s)")


if __name__ == "__main__":
    main()
