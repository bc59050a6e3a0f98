#!/usr/bin/env python3
"""Benchmark 5: kernel multilink (pppd) vs our bundle, inside user-mode Linux.

The host kernel has no PPP; this boots one UML instance (tests/uml/uml-run)
and runs bench/uml_multilink_guest.py there: three veth paths between two
namespaces shaped inside UML with netem (2/1/0.5 Mbit/s, 20/50/80 ms one
way, 200 ms queue), and on the same paths one TCP flow (iperf3) through
  - each path alone (what each path delivers: the denominator),
  - pppd + Linux kernel multilink on both sides (one pppd pair per path,
    their ptys bridged across the path by two tests/relay hdlc-relays),
  - our bundle (modemd gateway + receiver),
with ping p50/p99 through the same tunnel during the transfer.

    bench/b_multilink_uml.py --build BUILD --workdir DIR --json FILE [--quick]

Exit 0 when it ran (whatever the figures), non-zero when it could not.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.path.normpath(os.path.join(HERE, ".."))
UML_RUN = os.path.join(SRCDIR, "tests", "uml", "uml-run")
GUEST = os.path.join(HERE, "uml_multilink_guest.py")


def r1(v, n=3):
    return None if v is None else round(v, n)


def build_report(g, seconds, rc):
    cases = g.get("cases", {})
    paths = g.get("paths", [])
    singles = [cases.get(f"single-{k}", {}).get("mbit") for k in range(1, len(paths) + 1)]
    have_singles = all(v is not None for v in singles) and singles
    sum_single = sum(singles) if have_singles else None
    sum_conf = sum(p["mbit"] for p in paths)
    best_k = max(range(len(singles)), key=lambda i: singles[i] or 0) if have_singles else None
    best = singles[best_k] if best_k is not None else None
    links = [{"name": p["name"],
              "profile": f"netem {p['mbit']} Mbit/s, {p['delay_ms']} ms one way, "
                         f"queue {p['queue_ms']} ms (inside UML)",
              "capacity_mbit": p["mbit"], "delivered_mbit": r1(singles[i] if singles else None)}
             for i, p in enumerate(paths)]
    rows = []
    order = [("bundle", "our bundle (modemd gw + rx)"),
             ("pppd", "pppd + kernel multilink, both sides")]
    if best_k is not None:
        order.append((f"single-{best_k + 1}", f"best single path (path{best_k + 1})"))
    for key, label in order:
        c = cases.get(key)
        if not c:
            continue
        tx = c.get("path_tx_bytes") or []
        tot = sum(tx) or 1
        rows.append([label, r1(c["mbit"]),
                     r1(c["mbit"] / sum_single) if sum_single else None,
                     r1(c["mbit"] / sum_conf),
                     r1(c["mbit"] / best) if best else None,
                     r1(c.get("ping_p50"), 0), r1(c.get("ping_p99"), 0),
                     c.get("retransmits"),
                     "/".join(f"{100 * b / tot:.0f}" for b in tx),
                     round(100 * c["uml_cpu"])])
    cols = ["case", "TCP goodput Mbit/s", "ratio to sum of paths alone", "ratio to configured sum",
            "ratio to best single", "ping p50 ms (loaded)", "ping p99 ms (loaded)",
            "TCP retransmits", "share of bytes per path % (gw side)", "UML CPU %"]
    notes = [
        f"One UML boot; namespaces b5gw/b5rx joined by {len(paths)} veth paths shaped per direction "
        "inside UML with netem (delay + rate + queue limit). One TCP flow (iperf3) gateway -> "
        f"receiver, {seconds:g} s per case; ping every 0.2 s through the same tunnel while it runs.",
        "Denominator: the sum of what each path delivered alone to one TCP flow in the same run "
        + (f"({sum_single:.3f} Mbit/s; configured {sum_conf:g} Mbit/s)." if sum_single else "(missing)."),
        "pppd case: on each side one pppd per path (`multilink mrru 1500 endpoint magic:N`, "
        "noauth), each side's pppds in one private mount namespace (one /run, one pppd2.tdb, so "
        "they join one kernel bundle); each pppd's pty is bridged to the other side's by two "
        "tests/relay hdlc-relays exchanging one PPP frame per UDP datagram over path K.",
        "UML is one virtual CPU: the UML CPU column says whether the guest itself was the limit "
        "(near 100% = suspect the figures). The host's 2 cores are shared with other work.",
        "The paths' netem queues hold 200 ms at their rate, so loaded ping includes that queueing "
        "(cellular bufferbloat); the single-path ping is through that one path's queue.",
    ]
    pp = cases.get("pppd", {}).get("path_tx_bytes") or []
    if pp and sum(pp) and max(pp) / sum(pp) < 1.2 / len(pp) and len(paths) == len(pp):
        notes.append("Kernel multilink split the bytes about evenly across the paths ("
                     + "/".join(f"{100 * b / sum(pp):.0f}" for b in pp)
                     + "%) whatever their rates: Linux ppp_generic fragments each packet over the "
                     "channels free to send, in parts weighted by tty speed, and the relays' ptys "
                     "all look alike and never busy, so the slowest path paces the bundle "
                     "(here at most "
                     f"{len(pp)} x {min(p['mbit'] for p in paths):g} Mbit/s).")
    for e in g.get("errors", []):
        notes.append(f"FAILED: {e}")
    if rc != 0:
        notes.append(f"uml-run exited {rc}")
    ok = rc == 0 and not g.get("errors") and bool(rows)
    return {"id": "multilink-uml",
            "title": "5. Kernel multilink (pppd, in user-mode Linux) vs our bundle on the same links",
            "links": links,
            "tables": [{"caption": "One TCP flow over 3 netem-shaped paths inside UML",
                        "columns": cols, "rows": rows}],
            "notes": notes, "ok": ok}


def summary(rep):
    lines = [rep["title"]]
    for l in rep["links"]:
        lines.append(f"  {l['name']}: {l['profile']}; delivered alone {l['delivered_mbit']} Mbit/s")
    hdr = ["case", "Mbit/s", "xSumAlone", "xConf", "xBest", "p50ms", "p99ms", "retr",
           "share%", "umlCPU%"]
    w = [38, 7, 9, 6, 6, 6, 6, 5, 9, 7]
    lines.append(" ".join(h.ljust(x) for h, x in zip(hdr, w)))
    for row in rep["tables"][0]["rows"]:
        lines.append(" ".join(("-" if v is None else str(v)).ljust(x) for v, x in zip(row, w)))
    lines += ["  " + n for n in rep["notes"]]
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--json", required=True)
    ap.add_argument("--quick", action="store_true", help="5 s per case instead of 20")
    ap.add_argument("--seconds", type=float, help="seconds per case (overrides --quick)")
    a = ap.parse_args()
    a.build, a.workdir = os.path.abspath(a.build), os.path.abspath(a.workdir)
    for exe in ("modemd/modemd", "mpctl/mpctl", "tests/hdlc-relay"):
        if not os.access(os.path.join(a.build, exe), os.X_OK):
            sys.exit(f"b_multilink_uml: {a.build}/{exe} not built")
    for tool in ("pppd", "iperf3", "/usr/bin/linux.uml"):
        if not shutil.which(tool):
            sys.exit(f"b_multilink_uml: {tool} missing (Debian: ppp iperf3 user-mode-linux)")
    seconds = a.seconds or (5 if a.quick else 20)
    work = os.path.join(a.workdir, "multilink-uml")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    out = os.path.join(work, "guest-result.json")
    # 5 transfers plus bring-up (pppd and modemd links in UML take ~10-20 s each).
    timeout = 5 * (seconds + 15) + 120
    cmd = [UML_RUN, "--timeout", str(int(timeout)), "--dir", os.path.join(work, "uml"), "--",
           sys.executable, GUEST, "--build", a.build, "--workdir", os.path.join(work, "guest"),
           "--out", out, "--seconds", str(seconds)]
    print(f"b_multilink_uml: booting UML ({seconds:g} s per case, up to {timeout:.0f} s)", flush=True)
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    rc = subprocess.run(cmd, stdin=subprocess.DEVNULL, env=env).returncode
    try:
        with open(out) as f:
            g = json.load(f)
    except (OSError, ValueError) as e:
        print(f"b_multilink_uml: no result from the guest ({e}); uml-run exited {rc}; "
              f"logs in {work}", file=sys.stderr)
        return 1
    rep = build_report(g, seconds, rc)
    with open(a.json, "w") as f:
        json.dump(rep, f, indent=1)
    print(summary(rep), flush=True)
    return 0 if rep["tables"][0]["rows"] else 1


if __name__ == "__main__":
    sys.exit(main())
