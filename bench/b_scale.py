#!/usr/bin/env python3
"""Benchmark 6: receiver scale (host, root).

One modemd receiver; mpload (tests/loadgen) simulates N gateways x 3 links,
each gateway the project's own plink/bundle/IPCP stack with its own user,
secret and Endpoint Discriminator, every link its own UDP socket (see
tests/loadgen/scalelib.py for the namespaces). For N in 10, 100, 1000
(--quick: 10, 100), each on a fresh receiver:

  setup     start every link (ramp 2,000 links/s), time until every
            gateway's links joined (auth s) and every gateway has its IPCP
            address (setup s)
  memory    receiver VmRSS before any gateway and with N gateways up (idle)
            -> KiB per link; descriptors (timerfds) per link
  idle      receiver CPU over IDLE seconds with only LCP echoes (200 ms, the
            gateway default) and the receiver's per-link feedback running
  data      a fixed aggregate rate (200 Mbit/s, --quick 100) of 1,200-byte
            IP packets spread over all gateways for DATA seconds; receiver
            CPU (utime+stime) per Gbit/s that came out of its TUN, delivered
            Mbit/s, drops (sent - TUN, socket buffer overflows)

Ratios are against N=10 of the same run (growth with N).

    bench/b_scale.py --build BUILD --workdir DIR --json FILE [--quick]
                     [--counts 10,100,1000] [--mbit 200] [--links 3]
"""
import argparse
import os
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.path.normpath(os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(SRCDIR, "tests", "loadgen"))
sys.path.insert(0, HERE)
import scalelib as sl  # noqa: E402
from scalelib import ScaleBed, log, proc_cpu, proc_fds, proc_rss_kib  # noqa: E402

SIZE = 1200

COLUMNS = ["N gateways", "links", "RSS MiB", "KiB per link", "CPU s per Gbit", "idle CPU %",
           "delivered Mbit/s", "setup s",
           # growth and the evidence behind it
           "CPU s per Gbit net of idle", "net x N=10", "idle CPU % per 100 gw", "fds per link",
           "offered Mbit/s", "drops %", "link flaps (rx)", "mpload CPU % (data)"]


def run_one(a, n, links, mbit, idle_s, data_s):
    bed = ScaleBed(a.build, os.path.join(a.workdir, f"n{n}"), f"{a.prefix}{n % 10000}",
                   keep=a.keep)
    row = {"gateways": n, "links": n * links}
    try:
        bed.start_receiver(n, log_level="info")
        pid = bed.rx_pid()
        time.sleep(0.5)  # the daemon's start-up allocations settle (RSS baseline)
        row["rss0_kib"] = proc_rss_kib(pid)
        row["fds0"], row["timerfds0"] = proc_fds(pid)
        bed.start_load(n, links, "--size", str(SIZE), "--ramp", "2000")
        lpid = bed.load.pid  # ip netns exec execs: mpload itself
        up = bed.load_event("up", 30 + n * links / 100)
        row["auth_s"], row["setup_s"] = up["auth_s"], up["setup_s"]
        log(f"N={n}: all {n * links} links joined after {up['auth_s']:.2f} s, all addressed "
            f"after {up['setup_s']:.2f} s")
        if n <= 200:  # status is O(gateways x links) in the receiver: not in the big runs
            bed.wait_rx_gateways(n, links, 30)

        # Idle: echoes and feedback only.
        time.sleep(1.0)
        c0, g0, t0 = proc_cpu(pid), proc_cpu(lpid), time.monotonic()
        s0 = bed.load_stats()
        time.sleep(idle_s)
        c1, g1, t1 = proc_cpu(pid), proc_cpu(lpid), time.monotonic()
        s1 = bed.load_stats()
        row["idle_cpu_pct"] = 100 * (c1 - c0) / (t1 - t0)
        row["gen_idle_cpu_pct"] = 100 * (g1 - g0) / (t1 - t0)
        row["gen_idle_lag_ms"] = s1["timer_lag_max_ms"]
        row["idle_rx_dgrams_per_s"] = (s1["rx_dgrams"] - s0["rx_dgrams"]) / (t1 - t0)
        row["rss_idle_kib"] = proc_rss_kib(pid)
        row["fds"], row["timerfds"] = proc_fds(pid)

        # Data at a fixed aggregate rate.
        bed.load_cmd(f"mbit {mbit} {SIZE}", "rate")
        time.sleep(1.0)  # ramp: queues and reassembly reach their steady state
        p0, b0 = bed.tun_counters()
        e0 = bed.rcvbuf_errors()
        s0 = bed.load_stats()
        c0, g0, t0 = proc_cpu(pid), proc_cpu(lpid), time.monotonic()
        time.sleep(data_s)
        c1, g1, t1 = proc_cpu(pid), proc_cpu(lpid), time.monotonic()
        p1, b1 = bed.tun_counters()
        s1 = bed.load_stats()
        e1 = bed.rcvbuf_errors()
        bed.load_cmd("rate 0", "rate")
        dt = t1 - t0
        sent = s1["tx_pkts"] - s0["tx_pkts"]
        got = p1 - p0
        row.update({
            "data_s": dt, "cpu_s": c1 - c0, "tun_pkts": got, "tun_bytes": b1 - b0,
            "sent_pkts": sent, "offered_mbit": (s1["tx_bytes"] - s0["tx_bytes"]) * 8 / dt / 1e6,
            "delivered_mbit": (b1 - b0) * 8 / dt / 1e6,
            "drops_pct": 100 * max(0, sent - got) / sent if sent else None,
            "rcvbuf_errors": e1 - e0,
            "gen_skipped": s1["gen_skipped"] - s0["gen_skipped"],
            "txq_dropped": s1["txq_dropped"] - s0["txq_dropped"],
            "link_downs": s1["link_downs"], "gen_data_cpu_pct": 100 * (g1 - g0) / dt,
            "gen_data_lag_ms": s1["timer_lag_max_ms"],
            "gen_link_dead": s1["link_dead"],
        })
        gbit = (b1 - b0) * 8 / 1e9
        row["cpu_s_per_gbit"] = (c1 - c0) / gbit if gbit > 0 else None
        net = (c1 - c0) - row["idle_cpu_pct"] / 100 * dt
        row["net_cpu_s_per_gbit"] = max(net, 0) / gbit if gbit > 0 else None
        row["rss_data_kib"] = proc_rss_kib(pid)
        row["rss_mib"] = row["rss_idle_kib"] / 1024
        row["kib_per_link"] = (row["rss_idle_kib"] - row["rss0_kib"]) / (n * links)
        row["fds_per_link"] = (row["fds"] - row["fds0"]) / (n * links)
        log(f"N={n}: RSS {row['rss_mib']:.1f} MiB ({row['kib_per_link']:.1f} KiB/link), "
            f"idle {row['idle_cpu_pct']:.1f}% CPU, {row['delivered_mbit']:.0f} of "
            f"{row['offered_mbit']:.0f} Mbit/s delivered, "
            f"{row['cpu_s_per_gbit'] or 0:.2f} CPU s/Gbit, drops {row['drops_pct'] or 0:.2f}%")
        final = bed.stop_load()
        row["mpload_exit"] = final
    finally:
        bed.close()
    # Links the receiver took out of the schedule (silent past the adaptive
    # dead timeout, 200 ms .. 1 s) at any time in the run.
    with open(bed.rxlog_path, errors="replace") as f:
        row["rx_link_silent"] = sum("link silent" in line for line in f)
    return row


def main():
    ap = argparse.ArgumentParser(description="Benchmark 6: receiver scale")
    ap.add_argument("--build", default="build")
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--json", required=True)
    ap.add_argument("--quick", action="store_true", help="N = 10, 100 and shorter phases")
    ap.add_argument("--prefix", default="b6s")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--counts", help="gateway counts, comma separated (10,100,1000)")
    ap.add_argument("--links", type=int, default=3)
    ap.add_argument("--mbit", type=float, help="aggregate data rate (200; --quick 100)")
    a = ap.parse_args()
    a.build, a.workdir = os.path.abspath(a.build), os.path.abspath(a.workdir)
    os.makedirs(a.workdir, exist_ok=True)
    sys.path.insert(0, HERE)
    from benchlib import Result, md_table  # noqa: E402 (after the paths are set)
    counts = [int(x) for x in (a.counts or ("10,100" if a.quick else "10,100,1000")).split(",")]
    mbit = a.mbit or (100 if a.quick else 200)
    idle_s, data_s = (3, 4) if a.quick else (5, 10)
    res = Result("scale", "6. Receiver scale")
    if os.geteuid() != 0:
        res.fail("needs root (network namespaces, veth, TUN)")
        res.write(a.json)
        sys.exit(1)
    rows, raw = [], []
    for n in counts:
        try:
            r = run_one(a, n, a.links, mbit, idle_s, data_s)
        except Exception as e:  # noqa: BLE001 (one size failing is a result)
            traceback.print_exc()
            res.fail(f"N={n}: {type(e).__name__}: {e}")
            continue
        raw.append(r)
    base = next((r for r in raw if r["gateways"] == counts[0]), None)
    for r in raw:
        rel = (r["net_cpu_s_per_gbit"] / base["net_cpu_s_per_gbit"]
               if base and base.get("net_cpu_s_per_gbit") and r.get("net_cpu_s_per_gbit")
               else None)
        rows.append([r["gateways"], r["links"], r["rss_mib"], r["kib_per_link"],
                     r["cpu_s_per_gbit"], r["idle_cpu_pct"], r["delivered_mbit"], r["setup_s"],
                     r["net_cpu_s_per_gbit"], rel, r["idle_cpu_pct"] * 100 / r["gateways"],
                     r["fds_per_link"], r["offered_mbit"], r["drops_pct"],
                     r["rx_link_silent"], r["gen_data_cpu_pct"]])
    res.table(f"One receiver, N simulated gateways x {a.links} links (mpload), {mbit:g} Mbit/s "
              f"aggregate of {SIZE}-byte packets for {data_s} s; idle = LCP echoes every 200 ms "
              f"+ receiver feedback every 100 ms per link, {idle_s} s", COLUMNS, rows)
    res.note("KiB per link = (receiver VmRSS with N gateways up, idle - VmRSS before any "
             "gateway) / links; fds per link likewise (modemd gives every protocol timer its "
             "own timerfd).")
    res.note("CPU s per Gbit = receiver utime+stime during the data phase / Gbit written to "
             "its TUN (includes the idle work in that window); x N=10 is the ratio to the "
             f"first row. 'offered' is what mpload handed its bundles; drops = offered packets "
             "that never left the receiver's TUN.")
    res.note("CPU s per Gbit net of idle subtracts the idle CPU rate (echoes, feedback, "
             "timers) over the same window: the per-packet cost alone; net x N=10 is its "
             "ratio to the first row.")
    res.note("link flaps (rx) = 'link silent' events in the receiver's log over the whole run "
             "(a link out of the schedule for a while). mpload runs on the same 2 cores as "
             "the receiver: its CPU and its worst timer lateness (data.rows[].gen_*_lag_ms) "
             "say whether the generator, not the receiver, was late; where offered < the "
             "target rate the generator was the limit (gen_skipped).")
    res.d["data"] = {"rows": raw, "mbit": mbit, "size": SIZE, "idle_s": idle_s,
                     "data_s": data_s, "links_per_gateway": a.links}
    res.write(a.json)
    print(md_table(COLUMNS, rows))
    log(f"scale: wrote {a.json} ({'ok' if res.d['ok'] else 'NOT ok'})")


if __name__ == "__main__":
    main()
