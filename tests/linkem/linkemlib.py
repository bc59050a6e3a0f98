"""Python side of linkem, the user-space link emulator (docs/linkem.md).

    from linkemlib import Linkem, mean_mbit
    em = Linkem(build, "lkem", conf_text, workdir)   # ns = PREFIXem of topology.sh --emulated
                          # optional: name="linkem", interval=SECS (-i), rt_prio=N (-R)
    em.start()            # waits until the control socket answers
    em.stats()            # {"elapsed_s":.., "links":[{"name","up":{..},"down":{..}}, ..]}
    em.reset()            # trace clocks, outage schedule, counters back to t=0
    em.outage("l1", 2.0)  # link l1 dead both ways for 2 s from now
    final = em.stop()     # SIGTERM; the report JSON linkem wrote on exit

Trace arithmetic, independent of linkem's C code (used by tests and bench to
state what a trace should deliver): mean_mbit(path), trace_bytes(path, t0, t1).

Also a command-line pinger that keeps sending on schedule while replies are
missing (for outages), run inside a namespace:
    python3 linkemlib.py ping ADDR [-c N] [-i SECS] [-W SECS] [-I IFACE] [-s BYTES]
prints one JSON list of {"t": monotonic send time, "rtt_ms": float|null}.
"""
import bisect
import json
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import time

_SOCK_SEQ = [0]
_TRACE_CACHE = {}


def binary(build):
    return os.path.join(build, "tests", "linkem", "linkem")


def link_stats(stats, name):
    """The entry of link `name` in a stats reply."""
    for l in stats["links"]:
        if l["name"] == name:
            return l
    raise KeyError(f"no link {name} in linkem stats")


class Linkem:
    def __init__(self, build, ns, conf_text, workdir, name="linkem", interval=None, rt_prio=None):
        self.exe = binary(build)
        self.ns = ns
        self.conf_text = conf_text
        self.workdir = os.path.abspath(workdir)
        self.name = name
        self.interval = interval
        self.rt_prio = rt_prio
        os.makedirs(self.workdir, exist_ok=True)
        self.conf = os.path.join(self.workdir, f"{name}.conf")
        self.report = os.path.join(self.workdir, f"{name}.report.json")
        self.logpath = os.path.join(self.workdir, f"{name}.log")
        _SOCK_SEQ[0] += 1
        # sun_path is 108 bytes: build trees can be deeper than that.
        self.sock = f"/tmp/linkem-{os.getpid()}-{_SOCK_SEQ[0]}-{name}.sock"
        self.proc = None
        self.final = None

    def start(self, timeout=5.0):
        if not os.access(self.exe, os.X_OK):
            raise RuntimeError(f"{self.exe} not built")
        with open(self.conf, "w") as f:
            f.write(self.conf_text)
        for p in (self.report, self.sock):
            if os.path.exists(p):
                os.unlink(p)
        argv = ["ip", "netns", "exec", self.ns, self.exe, "-c", self.conf, "-s", self.sock,
                "-r", self.report]
        if self.interval:
            argv += ["-i", str(self.interval)]
        if self.rt_prio:
            argv += ["-R", str(self.rt_prio)]
        self.log = open(self.logpath, "w")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"linkem exited {self.proc.returncode}: {self.tail()}")
            try:
                self.stats()
                return self
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"linkem control socket not answering: {self.tail()}")
            time.sleep(0.02)

    def tail(self):
        try:
            with open(self.logpath) as f:
                return f.read()[-2000:]
        except OSError:
            return ""

    def command(self, line, timeout=5.0):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            s.connect(self.sock)
            s.sendall(line.encode() + b"\n")
            buf = b""
            while not buf.endswith(b"\n"):
                chunk = s.recv(65536)
                if not chunk:
                    raise OSError("linkem closed the control connection")
                buf += chunk
        finally:
            s.close()
        reply = json.loads(buf)
        if "error" in reply:
            raise RuntimeError(f"linkem {line!r}: {reply['error']}")
        return reply

    def stats(self):
        return self.command("stats")

    def reset(self):
        return self.command("reset")

    def outage(self, name, secs):
        return self.command(f"outage {name} {secs}")

    def stop(self, timeout=5.0):
        """Stop linkem; returns its final stats (the report JSON)."""
        if self.proc is None:
            return self.final
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        self.log.close()
        try:
            with open(self.report) as f:
                self.final = json.load(f)
        except (OSError, ValueError):
            self.final = None
        return self.final

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


# ---- Mahimahi trace arithmetic (one line = one 1500-byte opportunity at a
# millisecond; the file repeats with its last timestamp as the period) ----

def load_trace(path):
    if path not in _TRACE_CACHE:
        with open(path) as f:
            ts = [int(l) for l in f if l.strip()]
        if not ts or ts[-1] <= 0:
            raise ValueError(f"{path}: not a Mahimahi trace")
        _TRACE_CACHE[path] = ts
    return _TRACE_CACHE[path]


def trace_count(path, t_s):
    """Opportunities at times <= t_s seconds after the trace starts."""
    ts = load_trace(path)
    period = ts[-1]
    t_ms = t_s * 1000.0
    per = int(t_ms // period)
    within = t_ms - per * period
    return per * len(ts) + bisect.bisect_right(ts, within)


def trace_bytes(path, t0_s, t1_s, scale=1.0):
    """Bytes the trace offers in (t0_s, t1_s]."""
    return (trace_count(path, t1_s) - trace_count(path, t0_s)) * 1500 * scale


def mean_mbit(path, t0_s=None, t1_s=None):
    """Mean rate of a trace in Mbit/s: over one period, or over (t0_s, t1_s]."""
    ts = load_trace(path)
    if t0_s is None:
        return len(ts) * 1500 * 8 / (ts[-1] / 1000.0) / 1e6
    return trace_bytes(path, t0_s, t1_s) * 8 / (t1_s - t0_s) / 1e6


# ---- pinger that keeps its schedule across outages ----

def _cksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def ping_series(addr, count, interval, timeout=1.0, iface=None, size=56):
    """Send count echoes every interval s; [{"t", "rtt_ms" or None}]."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    if iface:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, iface.encode())
    ident = (os.getpid() ^ 0x4C4B) & 0xFFFF
    sent = {}
    out = []
    t_start = time.monotonic()
    seq = 0
    end = t_start + (count - 1) * interval + timeout
    while True:
        now = time.monotonic()
        if seq < count and now >= t_start + seq * interval:
            seq += 1
            payload = bytes(max(size, 0))
            hdr = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
            pkt = struct.pack("!BBHHH", 8, 0, _cksum(hdr + payload), ident, seq) + payload
            sent[seq] = time.monotonic()
            out.append({"t": sent[seq], "rtt_ms": None})
            try:
                sock.sendto(pkt, (addr, 0))
            except OSError:
                pass
            continue
        if now >= end and seq >= count:
            break
        wake = min(t_start + seq * interval if seq < count else end, end)
        r, _, _ = select.select([sock], [], [], max(0.0, wake - now))
        if not r:
            continue
        data, src = sock.recvfrom(65536)
        t_rx = time.monotonic()
        ihl = (data[0] & 0x0F) * 4
        typ, _, _, rid, rseq = struct.unpack("!BBHHH", data[ihl:ihl + 8])
        if typ == 0 and rid == ident and src[0] == addr and rseq in sent:
            if t_rx - sent[rseq] <= timeout and out[rseq - 1]["rtt_ms"] is None:
                out[rseq - 1]["rtt_ms"] = (t_rx - sent[rseq]) * 1000.0
    sock.close()
    return out


def ping_in_ns(ns, addr, count, interval, timeout=1.0, iface=None, size=56):
    """ping_series run inside namespace ns (monotonic clock is shared)."""
    argv = ["ip", "netns", "exec", ns, sys.executable, os.path.abspath(__file__), "ping", addr,
            "-c", str(count), "-i", str(interval), "-W", str(timeout), "-s", str(size)]
    if iface:
        argv += ["-I", iface]
    r = subprocess.run(argv, capture_output=True, text=True,
                       timeout=count * interval + timeout + 30)
    if r.returncode != 0:
        raise RuntimeError(f"pinger in {ns}: {r.stderr.strip()}")
    return json.loads(r.stdout)


def _main():
    import argparse
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("ping")
    p.add_argument("addr")
    p.add_argument("-c", type=int, default=10, dest="count")
    p.add_argument("-i", type=float, default=0.1, dest="interval")
    p.add_argument("-W", type=float, default=1.0, dest="timeout")
    p.add_argument("-I", dest="iface")
    p.add_argument("-s", type=int, default=56, dest="size")
    t = sub.add_parser("mean", help="mean Mbit/s of a trace file")
    t.add_argument("trace")
    a = ap.parse_args()
    if a.cmd == "ping":
        print(json.dumps(ping_series(a.addr, a.count, a.interval, a.timeout, a.iface, a.size)))
    else:
        print(f"{mean_mbit(a.trace):.3f}")


if __name__ == "__main__":
    _main()
