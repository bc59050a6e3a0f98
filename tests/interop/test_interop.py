#!/usr/bin/env python3
"""Interoperability with Linux pppd + kernel multilink (run inside UML).

Kernel PPP exists only inside user-mode Linux (tests/uml/uml-run). Each pppd
sits on the pty of a tests/relay hdlc-relay that turns its async HDLC into
one PPP frame per UDP datagram, the wire our engine speaks. The namespaces
and veth paths come from tests/netns/topology.sh (via bundlelib.Bed):
gateway ns PREFIXgw, receiver ns PREFIXrx, path K = 10.200.K.2 <-> .1,
receiver address 10.201.0.1 on rx's lo.

  ours-pppd-N[-short]  our modemd gateway (N static links, one per path)
                       -> N pppd in rx forming one kernel bundle
                       (`multilink mrru 1500 endpoint`, CHAP both ways).
  pppd-ours-N[-short]  N pppd in gw forming one kernel bundle -> our modemd
                       receiver.

Each case asserts: the kernel bundle formed (N-1 "Link attached", one ppp
interface), modemd shows N links up in one bundle with the negotiated
sequence format, ping both ways, an iperf3 TCP transfer each way completes,
and the relays' captures decode with tshark as LCP/CHAP/IPCP/MP with nothing
malformed and MP sequence numbers, read in the negotiated format, forming
one contiguous space per direction across the links.

How the gateway's links reach N relays: modemd's bundle has ONE receiver
address and port for all links, and each link socket binds an ephemeral
source port (udp_link_open(..., 0)). The relays are connected UDP sockets,
so each needs to know its peer's port: the gateway namespace's ephemeral
range is pinned to one port (GW_PORT; every link socket is
SO_BINDTODEVICE'd to its own path, so they may all share it), and the N
relays all bind RX_ADDR:6671, each SO_BINDTODEVICE'd to its path
(--bind-dev), connected to 10.200.K.2:GW_PORT.

    test_interop.py --build BUILD --workdir DIR CASE...

Prints "PASS case" / "FAIL case: why" and "N passed, N failed".
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(SRCDIR, "tests", "netns"))
import bundlelib as bl  # noqa: E402
from bundlelib import PORT, RX_TUN_ADDR, Bed, log, ping, sh, wait_for  # noqa: E402

SECRET = "interop-s3cret"
GW_PORT = 40000            # the gateway namespace's only ephemeral port
PPP_RX_LOCAL = "10.90.0.1"  # pppd receiver's address (ours-pppd)
PPP_RX_REMOTE = "10.90.0.2"  # what it gives our gateway
UP_TIMEOUT = 40             # s: LCP + CHAP both ways + IPCP on N links, in UML
IPERF_SECONDS = 2

CASES = ("ours-pppd-2", "ours-pppd-3", "ours-pppd-2-short", "ours-pppd-3-short",
         "pppd-ours-2", "pppd-ours-3", "pppd-ours-2-short", "pppd-ours-3-short")


def parse_case(name):
    m = re.fullmatch(r"(ours-pppd|pppd-ours)-([23])(-short)?", name)
    return m.group(1), int(m.group(2)), bool(m.group(3))


class Args:
    def __init__(self, build, workdir, keep):
        self.build, self.workdir, self.keep = build, workdir, keep


class UmlBed(Bed):
    """bundlelib.Bed with the topology built here: the UML kernel has no
    IPv6, and topology.sh adds IPv6 addresses to every path. Same names and
    IPv4 addresses as topology.sh (PREFIXgw/PREFIXrx, pathK 10.200.K.2 <->
    10.200.K.1, 10.201.0.1 on rx's lo, arp_ignore=1 in rx, the gateway's
    default route via path 1); Bed.close() removes it with topology.sh down."""

    def __init__(self, args, case, npaths):
        self.workdir = os.path.join(args.workdir, case)
        # pppd and modemd append to their logs: start each run empty, so
        # that what the test waits for in them is this run's.
        shutil.rmtree(self.workdir, ignore_errors=True)
        os.makedirs(self.workdir, exist_ok=True)
        self.modemd = os.path.join(args.build, "modemd", "modemd")
        self.mpctl_bin = os.path.join(args.build, "mpctl", "mpctl")
        self.keep = args.keep
        self.prefix = f"i{os.getpid() % 100000}-"
        self.extra_ns, self.daemons, self.procs, self.shapes = [], [], [], {}
        self.gw, self.rx = f"{self.prefix}gw", f"{self.prefix}rx"
        self.rx_addr = "10.201.0.1"
        self.npaths = npaths
        self.info = {}
        sh("ip", "netns", "add", self.gw)
        sh("ip", "netns", "add", self.rx)
        sh("ip", "-n", self.gw, "link", "set", "lo", "up")
        sh("ip", "-n", self.rx, "link", "set", "lo", "up")
        sh("ip", "-n", self.rx, "addr", "add", f"{self.rx_addr}/32", "dev", "lo")
        sh("ip", "netns", "exec", self.rx, "sysctl", "-qw", "net.ipv4.conf.all.arp_ignore=1")
        for k in range(1, npaths + 1):
            dev = f"path{k}"
            sh("ip", "-n", self.gw, "link", "add", dev, "type", "veth", "peer", "name", dev,
               "netns", self.rx)
            sh("ip", "-n", self.gw, "addr", "add", f"10.200.{k}.2/24", "dev", dev)
            sh("ip", "-n", self.rx, "addr", "add", f"10.200.{k}.1/24", "dev", dev)
            sh("ip", "-n", self.gw, "link", "set", dev, "up")
            sh("ip", "-n", self.rx, "link", "set", dev, "up")
        sh("ip", "-n", self.gw, "route", "add", "default", "via", "10.200.1.1", "dev", "path1")


# ---- relays and pppd -----------------------------------------------------------

class PppSide:
    """N hdlc-relays and N pppd in one namespace. The pppds share one mount
    namespace (a private /run, hence one pppd2.tdb: kernel multilink finds
    the bundle there) with /etc/ppp/chap-secrets bind-mounted from the
    work dir; a holder process keeps that mount namespace alive."""

    def __init__(self, bed, ns, tag, secrets):
        self.bed, self.ns, self.tag = bed, ns, tag
        self.dir = os.path.join(bed.workdir, tag)
        os.makedirs(self.dir, exist_ok=True)
        self.relays, self.pppds, self.ptys, self.pcaps, self.logs = [], [], [], [], []
        sec = os.path.join(self.dir, "chap-secrets")
        fd = os.open(sec, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.writelines(f'"{c}" "{s}" "{p}" *\n' for c, s, p in secrets)
        inner = ("mount -t tmpfs tmpfs /run && mkdir -p /run/lock && "
                 f"mount --bind {sec} /etc/ppp/chap-secrets && echo READY && exec sleep 100000")
        self.holder = subprocess.Popen(
            ["ip", "netns", "exec", ns, "unshare", "-m", "--propagation", "private",
             "sh", "-c", inner], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True)
        bed.procs.append(self.holder)
        line = self.holder.stdout.readline()
        if line.strip() != "READY":
            raise AssertionError(f"{tag}: pppd mount namespace not set up: {line.strip()}")

    def relay(self, k, local, remote, bind_dev=None):
        pty = os.path.join(self.dir, f"link{k}.pty")
        pcap = os.path.join(self.dir, f"link{k}.pcap")
        argv = ["ip", "netns", "exec", self.ns, self.bed.relay_bin, "--pty-link", pty,
                "--udp-local", local, "--udp-remote", remote, "--pcap", pcap, "--accm-after-lcp"]
        if bind_dev:
            argv += ["--bind-dev", bind_dev]
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=open(os.path.join(self.dir, f"link{k}.relay.log"), "w"))
        self.relays.append(p)
        if p.stdout.readline() != b"READY\n":
            p.wait(5)
            raise AssertionError(f"{self.tag}: relay {k} did not start: {self.relay_log(k)}")
        self.ptys.append(pty)
        self.pcaps.append(pcap)

    def relay_log(self, k):
        try:
            with open(os.path.join(self.dir, f"link{k}.relay.log")) as f:
                return f.read().strip()
        except OSError:
            return ""

    def pppd(self, k, *opts):
        logp = os.path.join(self.dir, f"pppd{k}.log")
        self.logs.append(logp)
        argv = ["nsenter", "-t", str(self.holder.pid), "-m", "-n", "--",
                "pppd", self.ptys[k - 1], "115200", "nodetach", "local", "nocrtscts", "nolock",
                "nodefaultroute", "noccp", "novj", "lcp-echo-interval", "1",
                "lcp-echo-failure", "10", "logfile", logp, "debug", *opts]
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=open(logp + ".stderr", "w"))
        self.pppds.append(p)
        return p

    def log_text(self):
        txt = ""
        for lp in self.logs:
            try:
                with open(lp, errors="replace") as f:
                    txt += f.read()
            except OSError:
                pass
        return txt

    def check_alive(self):
        for i, p in enumerate(self.pppds, 1):
            if p.poll() is not None:
                raise AssertionError(f"{self.tag}: pppd {i} exited {p.returncode}; log tail:\n"
                                     + tail(self.logs[i - 1]))

    def wait_bundle(self, n, addr):
        """Kernel multilink: n-1 later links 'Link attached to pppX', and one
        ppp interface holding addr."""
        def formed():
            self.check_alive()
            if self.log_text().count("Link attached to") < n - 1:
                return None
            ifs = ifaces_with(self.ns, addr)
            return ifs or None
        try:
            ifs = wait_for(f"{self.tag}: pppd bundle of {n} links with {addr}", formed, UP_TIMEOUT)
        except AssertionError as e:
            raise AssertionError(f"{e}\n{self.tails()}") from None
        if len(ifs) != 1:
            raise AssertionError(f"{self.tag}: expected one ppp interface with {addr}, got {ifs}")
        ppp_ifs = [i for i in all_ifaces(self.ns) if i.startswith("ppp")]
        if len(ppp_ifs) != 1:
            raise AssertionError(f"{self.tag}: expected one ppp interface, got {ppp_ifs}")
        return ifs[0]

    def tails(self, n=12):
        return "\n".join(f"--- {lp}\n{tail(lp, n)}" for lp in self.logs)

    def stop(self):
        for group in (self.pppds, self.relays):
            for p in group:
                if p.poll() is None:
                    p.terminate()
            for p in group:
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()


def tail(path, n=12):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return "(no log)"


def all_ifaces(ns):
    return [i["ifname"] for i in json.loads(sh("ip", "-n", ns, "-j", "link", "show").stdout)]


def ifaces_with(ns, addr):
    out = sh("ip", "-n", ns, "-j", "addr", "show").stdout
    return [i["ifname"] for i in json.loads(out)
            for a in i.get("addr_info", []) if a.get("local") == addr]


def pppd_mp_opts(n_ep, short):
    opts = ["multilink", "mrru", "1500", "endpoint", f"magic:{n_ep:08x}"]
    if short:
        opts.append("mpshortseq")
    return opts


# ---- transfers -----------------------------------------------------------------

def iperf_both_ways(bed, srv_ns, srv_addr, cli_ns):
    """iperf3 server in srv_ns on srv_addr, client in cli_ns: one transfer
    each way (client sends, then -R). Returns (sent Mbit/s, reverse Mbit/s)."""
    res = []
    for i, reverse in enumerate((False, True)):
        port = 5201 + i
        logp = os.path.join(bed.workdir, f"iperf3-server-{port}.log")
        srv = subprocess.Popen(["ip", "netns", "exec", srv_ns, "iperf3", "-s", "-1", "-B",
                                srv_addr, "-p", str(port)], stdin=subprocess.DEVNULL,
                               stdout=open(logp, "w"), stderr=subprocess.STDOUT)
        bed.procs.append(srv)
        wait_for(f"iperf3 server on {srv_addr}:{port}",
                 lambda: sh("ss", "-N", srv_ns, "-Htln", f"src {srv_addr}:{port}").stdout.strip(),
                 10)
        argv = ["ip", "netns", "exec", cli_ns, "iperf3", "-c", srv_addr, "-p", str(port),
                "-t", str(IPERF_SECONDS), "-J", "--connect-timeout", "5000"]
        if reverse:
            argv.append("-R")
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        bed.procs.append(p)
        j = Bed.iperf_result(p, IPERF_SECONDS + 40)
        rcv = j["end"]["sum_received"]
        if rcv["bytes"] <= 0:
            raise AssertionError(f"iperf3{' -R' if reverse else ''}: nothing received: {rcv}")
        log(f"  iperf3{' -R' if reverse else ''}: {rcv['bytes']} bytes, "
            f"{rcv['bits_per_second'] / 1e6:.1f} Mbit/s, "
            f"retransmits {j['end'].get('sum_sent', {}).get('retransmits')}")
        res.append(rcv["bits_per_second"] / 1e6)
    return res


# ---- wire check ----------------------------------------------------------------

def tshark(pcap, short, *args):
    # TCP analysis of a capture holding only this link's share of the
    # stream flags "retransmissions" that are not: off.
    # TCP analysis and reassembly are off: a genuine TCP retransmission cut
    # differently overlaps old data and tshark calls that "malformed"; what
    # is checked here is the PPP layers.
    argv = ["tshark", "-n", "-r", pcap, "-o", "tcp.analyze_sequence_numbers:FALSE",
            "-o", "tcp.desegment_tcp_streams:FALSE"]
    if short:
        argv += ["-o", "mp.short_seqno:TRUE"]
    env = dict(os.environ, HOME=os.path.dirname(pcap))
    r = subprocess.run(argv + list(args), stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, env=env, timeout=60)
    if r.returncode != 0:
        raise AssertionError(f"tshark {' '.join(args)} on {pcap}: {r.stderr.strip()}")
    return r.stdout


def check_wire(side, short):
    """Captures decode as LCP/CHAP/IPCP/MP with nothing malformed; the MP
    sequence numbers of each direction, read in the negotiated format,
    form one contiguous space across all links (no value from nowhere)."""
    if not shutil.which("tshark"):
        raise AssertionError("tshark not installed (Debian: tshark)")
    modulo = 1 << (12 if short else 24)
    seqs = {0: [], 1: []}  # frame.p2p_dir: 0 = pppd sent, 1 = from UDP
    per_link = []
    for pcap in side.pcaps:
        protos = set(tshark(pcap, short, "-T", "fields", "-e", "_ws.col.Protocol").split())
        missing = [p for p in ("LCP", "CHAP", "IPCP", "MP") if p not in protos]
        # IPCP travels MP-encapsulated on one link; it must be on some link.
        if [m for m in missing if m != "IPCP"]:
            raise AssertionError(f"{pcap}: no {missing} (protocols: {sorted(protos)})")
        # The outer MP header's number (first occurrence): tshark may also
        # decode a (mis)reassembled payload that holds another header.
        rows = tshark(pcap, short, "-Y", "mp", "-T", "fields", "-E", "occurrence=f",
                      "-e", "frame.time_epoch",
                      "-e", "frame.p2p_dir", "-e", "mp.sseq" if short else "mp.seq")
        n = {0: 0, 1: 0}
        for line in rows.splitlines():
            f = line.split("\t")
            if len(f) < 3 or not f[2]:
                continue
            d = int(f[1])
            seqs[d].append((float(f[0]), int(f[2], 0)))
            n[d] += 1
        per_link.append(protos)
        log(f"  {os.path.basename(pcap)}: MP frames pppd->udp {n[0]}, udp->pppd {n[1]}")
    if not any("IPCP" in p for p in per_link):
        raise AssertionError("no IPCP in any capture")
    # Malformed: checked on the links' captures merged in time order, i.e.
    # what the bundle carried. tshark reassembles MP by sequence number; in
    # one link's capture it only ever has that link's share of the
    # fragments, and once the numbers wrap (12 bits: every ~4096 frames) it
    # glues a fresh B+E frame to stale fragments and reports the result
    # malformed. With every link's frames it reassembles what was sent.
    merged = os.path.join(os.path.dirname(side.pcaps[0]), "merged.pcap")
    r = subprocess.run(["mergecap", "-w", merged, *side.pcaps], capture_output=True, text=True)
    if r.returncode != 0:
        raise AssertionError(f"mergecap: {r.stderr.strip()}")
    # Even merged, the links' frames are not in sending order, and around a
    # 12-bit wrap tshark may still glue a whole (B+E) frame to stale
    # fragments. A whole frame needs no context: the flagged whole frames
    # are decoded again on their own (one file, so a fixed number of tshark
    # runs however many are flagged: each costs seconds in user-mode Linux),
    # and only what is malformed there, or is a flagged fragment, is wrong.
    flagged = {}
    for line in tshark(merged, short, "-Y", "_ws.malformed", "-T", "fields", "-E", "occurrence=f",
                       "-e", "frame.number", "-e", "mp.first", "-e", "mp.last").splitlines():
        f = line.split("\t")
        flagged[f[0]] = f[1:3] == ["1", "1"]
    really_bad = [n for n, whole in flagged.items() if not whole]
    wholes = [n for n, whole in flagged.items() if whole]
    if wholes:
        alone = os.path.join(os.path.dirname(merged), "flagged-whole.pcap")
        tshark(merged, short, "-Y", "frame.number in {%s}" % ",".join(wholes), "-w", alone)
        # Frame numbers restart at 1 in the extract, in the same order.
        again = tshark(alone, short, "-Y", "_ws.malformed", "-T", "fields", "-e", "frame.number")
        really_bad += [wholes[int(n) - 1] for n in again.split()]
    log(f"  merged capture: {len(flagged)} frames flagged in context, "
        f"{len(wholes)} of them whole frames, {len(really_bad)} malformed by themselves")
    if really_bad:
        bad = tshark(merged, short, "-Y", "frame.number in {%s}" % ",".join(really_bad[:20]))
        raise AssertionError(f"{merged}: malformed frames:\n{bad[:3000]}")
    for d, name in ((0, "from pppd"), (1, "to pppd")):
        s = sorted(seqs[d])
        if len(s) < 50:
            raise AssertionError(f"only {len(s)} MP frames {name}")
        # Unwrap (12- or 24-bit) in time order across links: each number is
        # taken nearest to the previous one.
        prev, vals = None, []
        for _, v in s:
            if prev is None:
                u = v
            else:
                base = prev - prev % modulo
                u = min((base + v - modulo, base + v, base + v + modulo), key=lambda x: abs(x - prev))
            vals.append(u)
            prev = u
        uniq = set(vals)
        span = max(uniq) - min(uniq) + 1
        cover = len(uniq) / span
        log(f"  MP {name}: {len(vals)} frames, {len(uniq)} numbers over a span of {span} "
            f"({'12' if short else '24'}-bit), coverage {cover:.3f}")
        if cover < 0.95:
            raise AssertionError(f"MP sequence numbers {name} are not one contiguous "
                                 f"{'short' if short else 'long'} space: {len(uniq)} of {span}")
    log("  captures decode: LCP, CHAP, IPCP, MP on every link; nothing malformed")


# ---- cases ---------------------------------------------------------------------

def links_summary(links):
    return ", ".join(f"{l.get('name')}:{l.get('phase')}/{l.get('liveness')} "
                     f"tx={l.get('tx_bytes')} rx={l.get('rx_bytes')}" for l in links)


def check_stats(stats, n, short, who):
    if not stats:
        raise AssertionError(f"{who}: no bundle stats")
    want = {"members": n, "multilink": True, "short_seq_rx": short, "short_seq_tx": short}
    got = {k: stats.get(k) for k in want}
    if got != want:
        raise AssertionError(f"{who}: bundle stats {got}, expected {want}")


def case_ours_pppd(bed, n, short):
    """Our gateway -> pppd receiver (kernel multilink) in rx."""
    gw_ns, rx_ns = bed.gw, bed.rx
    sh("ip", "netns", "exec", gw_ns, "sysctl", "-qw",
       f"net.ipv4.ip_local_port_range={GW_PORT} {GW_PORT}")
    side = PppSide(bed, rx_ns, "pppd-rx", [("gw1", "rx", SECRET), ("rx", "gw1", SECRET)])
    try:
        for k in range(1, n + 1):
            side.relay(k, f"{bed.rx_addr}:{PORT}", f"10.200.{k}.2:{GW_PORT}", bind_dev=f"path{k}")
        for k in range(1, n + 1):
            side.pppd(k, "auth", "require-chap", "name", "rx", "remotename", "gw1",
                      f"{PPP_RX_LOCAL}:{PPP_RX_REMOTE}", *pppd_mp_opts(0x22220000, short))
        extra = (f'require_auth = "chap"; mrru = 1500; mtu = 1400; '
                 f'short_seq = {"true" if short else "false"}; endpoint = "magic:11110000";')
        gw = bed.gateway(gw_ns, "gw1", bed.main_links()[:n], secret=SECRET, extra=extra)
        ifname = side.wait_bundle(n, PPP_RX_LOCAL)
        try:
            links = gw.wait_links_up(n, UP_TIMEOUT)
        except AssertionError as e:
            raise AssertionError(f"{e}\n{gw.tail()}\n{side.tails()}") from None
        b = bl.bundle_of(gw.status())
        check_stats(b.get("stats"), n, short, "gateway")
        addr = gw.tun_address(UP_TIMEOUT)
        if addr != PPP_RX_REMOTE:
            raise AssertionError(f"gateway got {addr}, pppd offered {PPP_RX_REMOTE}")
        log(f"  pppd bundle {ifname} in {rx_ns}; gateway {b.get('tun')} {addr}; "
            f"links {links_summary(links)}")
        ping(gw_ns, PPP_RX_LOCAL, count=5)
        ping(rx_ns, PPP_RX_REMOTE, count=5)
        # Server on our side: the gateway namespace has a single ephemeral
        # port (the link sockets'), so the client runs in rx.
        up, down = iperf_both_ways(bed, gw_ns, PPP_RX_REMOTE, rx_ns)
        links = gw.links()
        log(f"  iperf3 pppd->ours {up:.1f} Mbit/s, ours->pppd {down:.1f} Mbit/s; "
            f"links {links_summary(links)}")
        used = [l["name"] for l in links if (l.get("tx_bytes") or 0) > 100_000]
        if len(used) < 2:
            raise AssertionError(f"our gateway sent the transfer on {used} only")
        b = bl.bundle_of(gw.status())
        log(f"  gateway bundle: {json.dumps(b.get('stats'))}; dropped blocked "
            f"{b.get('dropped_blocked')} down {b.get('dropped_down')} other {b.get('dropped_other')}")
        check_stats(b.get("stats"), n, short, "gateway")
        gw.alive()
        side.check_alive()
    finally:
        side.stop()
        for k in range(1, n + 1):
            log(f"  relay {k}: {side.relay_log(k)}")
    check_wire(side, short)


def case_pppd_ours(bed, n, short):
    """pppd gateway (kernel multilink) in gw -> our receiver in rx."""
    gw_ns, rx_ns = bed.gw, bed.rx
    # The relays bind 10.200.K.2: per-path source routing gets their
    # datagrams to the receiver's address over path K (only path 1 carries
    # the default route).
    for k in range(1, n + 1):
        sh("ip", "-n", gw_ns, "route", "add", "default", "via", f"10.200.{k}.1",
           "dev", f"path{k}", "table", str(100 + k))
        sh("ip", "-n", gw_ns, "rule", "add", "from", f"10.200.{k}.2", "lookup", str(100 + k),
           "priority", str(100 + k))
    rx = bed.receiver([("gwp", SECRET)], extra=(
        f'mrru = 1500; mtu = 1400; short_seq = {"true" if short else "false"}; '
        f'endpoint = "magic:33330000";'))
    side = PppSide(bed, gw_ns, "pppd-gw", [("gwp", "receiver", SECRET),
                                           ("receiver", "gwp", SECRET)])
    try:
        for k in range(1, n + 1):
            side.relay(k, f"10.200.{k}.2:{7000 + k}", f"{bed.rx_addr}:{PORT}")
        for k in range(1, n + 1):
            side.pppd(k, "auth", "require-chap", "name", "gwp", "remotename", "receiver",
                      "noipdefault", *pppd_mp_opts(0x44440000, short))

        def rx_links():
            g = [g for g in bl.gateways_of(rx.status()) if g.get("name") == "gwp"]
            return g[0] if g and sum(bl.link_up(l) for l in bl.links_of(g[0])) >= n else None
        try:
            g = wait_for(f"receiver: gwp with {n} links up", rx_links, UP_TIMEOUT, interval=0.2)
        except AssertionError as e:
            raise AssertionError(f"{e}; receiver: {rx.brief()}\n{rx.tail()}\n{side.tails()}") from None
        if len(bl.gateways_of(rx.status())) != 1:
            raise AssertionError(f"receiver: expected one bundle: {rx.brief()}")
        check_stats(g.get("stats"), n, short, "receiver")
        addr = g.get("address")
        ifname = side.wait_bundle(n, addr)
        log(f"  receiver bundle {g.get('bundle')} gwp {addr}; pppd bundle {ifname} in {gw_ns}; "
            f"links {links_summary(bl.links_of(g))}")
        ping(gw_ns, RX_TUN_ADDR, count=5)
        ping(rx_ns, addr, count=5)
        up, down = iperf_both_ways(bed, rx_ns, RX_TUN_ADDR, gw_ns)
        g = [g for g in bl.gateways_of(rx.status()) if g.get("name") == "gwp"][0]
        links = bl.links_of(g)
        log(f"  iperf3 pppd->ours {up:.1f} Mbit/s, ours->pppd {down:.1f} Mbit/s; "
            f"links {links_summary(links)}")
        used = [l["name"] for l in links if (l.get("tx_bytes") or 0) > 100_000]
        if len(used) < 2:
            raise AssertionError(f"our receiver sent the transfer on {used} only")
        log(f"  receiver bundle: {json.dumps(g.get('stats'))}")
        check_stats(g.get("stats"), n, short, "receiver")
        rx.alive()
        side.check_alive()
    finally:
        side.stop()
        for k in range(1, n + 1):
            log(f"  relay {k}: {side.relay_log(k)}")
    check_wire(side, short)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("cases", nargs="+", choices=CASES)
    a = ap.parse_args()
    a.build, a.workdir = os.path.abspath(a.build), os.path.abspath(a.workdir)
    relay = os.path.join(a.build, "tests", "hdlc-relay")
    for exe in ("modemd/modemd", "mpctl/mpctl", "tests/hdlc-relay"):
        if not os.access(os.path.join(a.build, exe), os.X_OK):
            sys.exit(f"FAIL: {a.build}/{exe} not built")
    if not os.path.exists("/dev/ppp"):
        sys.exit("FAIL: no /dev/ppp: run inside tests/uml/uml-run")
    passed = failed = 0
    for name in a.cases:
        kind, n, short = parse_case(name)
        t0 = time.monotonic()
        bed = None
        try:
            bed = UmlBed(Args(a.build, a.workdir, a.keep), name, n)
            bed.relay_bin = relay
            (case_ours_pppd if kind == "ours-pppd" else case_pppd_ours)(bed, n, short)
            log(f"PASS {name} ({time.monotonic() - t0:.1f} s)")
            passed += 1
        except Exception as e:  # report every case, keep going
            log(f"FAIL {name}: {e} (logs in {os.path.join(a.workdir, name)})")
            failed += 1
        finally:
            if bed:
                bed.close()
    log(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
