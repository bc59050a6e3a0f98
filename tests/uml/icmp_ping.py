#!/usr/bin/env python3
"""Minimal ICMP echo (ping) for the test guests, which have no ping binary.

    icmp_ping.py [-c COUNT] [-W SECS] [-I IFACE] ADDRESS

Needs root (raw socket). Exits 0 if every echo got its reply; prints one line
per reply with the round-trip time. Usable as a module: ping(addr, ...).
"""
import argparse
import os
import select
import socket
import struct
import sys
import time


def _checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def ping(addr, count=3, timeout=3.0, iface=None, interval=0.2, verbose=False):
    """Send COUNT echo requests; return the list of round-trip times (s).

    Raises TimeoutError if any request gets no reply within timeout."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    try:
        if iface:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, iface.encode())
        ident = os.getpid() & 0xFFFF
        rtts = []
        for seq in range(1, count + 1):
            payload = struct.pack("!d", time.monotonic()) + b"modemd-test" * 4
            hdr = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
            pkt = struct.pack("!BBHHH", 8, 0, _checksum(hdr + payload), ident, seq) + payload
            t0 = time.monotonic()
            sock.sendto(pkt, (addr, 0))
            deadline = t0 + timeout
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no echo reply from {addr} (seq {seq}) within {timeout} s")
                r, _, _ = select.select([sock], [], [], left)
                if not r:
                    continue
                data, src = sock.recvfrom(2048)
                ihl = (data[0] & 0x0F) * 4
                typ, _, _, rid, rseq = struct.unpack("!BBHHH", data[ihl:ihl + 8])
                if typ == 0 and rid == ident and rseq == seq and src[0] == addr:
                    rtt = time.monotonic() - t0
                    rtts.append(rtt)
                    if verbose:
                        print(f"reply from {addr}: seq={seq} time={rtt * 1000:.1f} ms", flush=True)
                    break
            if seq < count:
                time.sleep(interval)
        return rtts
    finally:
        sock.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-c", type=int, default=3, dest="count")
    ap.add_argument("-W", type=float, default=3.0, dest="timeout")
    ap.add_argument("-I", dest="iface")
    ap.add_argument("address")
    a = ap.parse_args()
    try:
        ping(a.address, a.count, a.timeout, a.iface, verbose=True)
    except (TimeoutError, OSError) as e:
        print(f"icmp_ping: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
