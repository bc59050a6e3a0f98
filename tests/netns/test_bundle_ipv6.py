#!/usr/bin/env python3
"""The bundle's NCPs in the daemon, end to end in network namespaces (host, root).

    test_bundle_ipv6.py --build BUILD --workdir DIR

Receiver + gateway over 2 veth paths (tests/netns/topology.sh), the receiver
configured with DNS servers and the gateway's LAN prefixes (IPv4 and IPv6):
  - IPV6CP: both TUNs get fe80::IID/64 with the identifiers the other side
    shows; an ICMPv6 echo to the peer's link-local address crosses the
    bundle both ways (counted in the bundle stats);
  - routes: the receiver routes the gateway's LAN prefixes to its TUN while
    the bundle is up; an IPv4 ping and an IPv6 UDP datagram from the
    receiver namespace reach addresses on a LAN interface (veth) of the
    gateway; the routes are gone once the gateway leaves;
  - DNS: `mpctl status --json` on the gateway shows the receiver's servers.
One PASS/FAIL line. Fails (never skips) without root.

    test_bundle_ipv6.py ping6 ADDR IFACE   (inside a namespace: one ICMPv6 echo)
    test_bundle_ipv6.py udprecv ADDR PORT SECS
"""
import json
import os
import select
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

SELF = os.path.abspath(__file__)
DNS = ["192.0.2.53", "198.51.100.53"]
LAN4, LAN4_ADDR = "10.55.0.0/24", "10.55.0.1"
LAN6, LAN6_ADDR = "fd00:55::/64", "fd00:55::1"
UDP_PORT = 9753
UP_TIMEOUT = 20


# ---- helpers run inside a namespace -----------------------------------------

def ping6(addr, iface, count=3, timeout=2.0):
    """ICMPv6 echo to a (link-local) address through iface; the kernel fills
    in the checksum of raw ICMPv6 sockets."""
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    scope = socket.if_nametoindex(iface)
    ident = os.getpid() & 0xFFFF
    try:
        for seq in range(1, count + 1):
            payload = b"modemd-ipv6cp" * 4
            s.sendto(struct.pack("!BBHHH", 128, 0, 0, ident, seq) + payload, (addr, 0, 0, scope))
            deadline = time.monotonic() + timeout
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    print(f"ping6: no echo reply from {addr}%{iface} (seq {seq})", file=sys.stderr)
                    return 1
                if not select.select([s], [], [], left)[0]:
                    continue
                data, src = s.recvfrom(2048)
                typ, _, _, rid, rseq = struct.unpack("!BBHHH", data[:8])
                if typ == 129 and rid == ident and rseq == seq and data[8:] == payload:
                    print(f"reply from {src[0]}: seq={seq}", flush=True)
                    break
            time.sleep(0.1)
        return 0
    finally:
        s.close()


def udprecv(addr, port, secs):
    s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, port))
    print("ready", flush=True)
    if not select.select([s], [], [], secs)[0]:
        print("udprecv: nothing arrived", file=sys.stderr)
        return 1
    data, src = s.recvfrom(2048)
    print(f"{data.decode(errors='replace')} from {src[0]}", flush=True)
    return 0


if __name__ == "__main__" and len(sys.argv) > 1 and sys.argv[1] in ("ping6", "udprecv"):
    if sys.argv[1] == "ping6":
        sys.exit(ping6(sys.argv[2], sys.argv[3]))
    sys.exit(udprecv(sys.argv[2], int(sys.argv[3]), float(sys.argv[4])))

import bundlelib as bl  # noqa: E402
from bundlelib import (POOL, PORT, RX_TUN_ADDR, SECRET, Bed, Daemon, log, ping, sh,  # noqa: E402
                       wait_for)


def nsx(ns, *argv, check=True, timeout=30):
    return sh("ip", "netns", "exec", ns, *argv, check=check, timeout=timeout)


def receiver(bed):
    body = f"""receiver = {{
  listen = "0.0.0.0";
  port = {PORT};
  name = "receiver";
  tun = "mp0";
  local_address = "{RX_TUN_ADDR}";
  pool = "{POOL}";
  dns = [ "{DNS[0]}", "{DNS[1]}" ];
  require_auth = "chap";
  users = (
    {{ name = "gw1"; secret = "{SECRET}"; routes = [ "{LAN4}", "{LAN6}" ]; }}
  );
}};"""
    return Daemon(bed, bed.rx, "receiver", "rx", body).start()


def rx_gateway(rx, name):
    for g in bl.gateways_of(rx.status()):
        if g.get("name") == name:
            return g
    return None


def gw_bundle(gw):
    return bl.bundle_of(gw.status()) or {}


def ping6_from(ns, addr, iface="mp0"):
    r = nsx(ns, sys.executable, SELF, "ping6", addr, iface, check=False, timeout=20)
    if r.returncode != 0:
        raise AssertionError(f"ICMPv6 echo {addr}%{iface} from {ns}: "
                             f"{(r.stderr or r.stdout).strip()}")


def rx_routes(bed, family):
    r = sh("ip", "-n", bed.rx, family, "-j", "route", "show", "dev", "mp0")
    return {x["dst"] for x in json.loads(r.stdout or "[]")}


def run(args):
    bed = Bed(args, "ipv6", 2)
    rx = gw = None
    try:
        # The gateway's LAN: a veth pair inside its namespace (the host has
        # no dummy module), one address per family on lan0.
        sh("ip", "-n", bed.gw, "link", "add", "lan0", "type", "veth", "peer", "name", "lan1")
        sh("ip", "-n", bed.gw, "link", "set", "lan1", "up")
        sh("ip", "-n", bed.gw, "addr", "add", f"{LAN4_ADDR}/24", "dev", "lan0")
        sh("ip", "-n", bed.gw, "addr", "add", f"{LAN6_ADDR}/64", "dev", "lan0", "nodad")
        sh("ip", "-n", bed.gw, "link", "set", "lan0", "up")

        rx = receiver(bed)
        gw = bed.gateway(bed.gw, "gw1", bed.main_links())
        gw.wait_links_up(2, UP_TIMEOUT)
        gw.tun_address(UP_TIMEOUT)

        # IPV6CP on both sides: each shows the identifier the other uses.
        b = wait_for("gateway: IPV6CP up",
                     lambda: (lambda x: x if x.get("ipv6") == "up" else None)(gw_bundle(gw)),
                     UP_TIMEOUT, interval=0.2)
        g = wait_for("receiver: IPV6CP up for gw1",
                     lambda: (lambda x: x if x and x.get("ipv6") == "up" else None)(
                         rx_gateway(rx, "gw1")), UP_TIMEOUT, interval=0.2)
        ours, theirs = b["local_address6"], b["peer_address6"]
        rxinfo = rx.status().get("receiver") or {}
        assert ours.startswith("fe80::") and theirs.startswith("fe80::") and ours != theirs, b
        assert g["address6"] == ours, f"receiver shows gw1 as {g['address6']}, gateway has {ours}"
        assert rxinfo.get("local_address6") == theirs, (rxinfo.get("local_address6"), theirs)
        for ns, addr in ((bed.gw, ours), (bed.rx, theirs)):
            r = sh("ip", "-n", ns, "-6", "-j", "addr", "show", "dev", "mp0")
            have = {a["local"] for i in json.loads(r.stdout) for a in i["addr_info"]}
            assert have == {addr}, f"{ns} mp0 has {have}, expected only {addr} (IPV6CP's)"

        # Link-local echo through the bundle, both ways.
        before = gw_bundle(gw)["stats"]["rx_packets"]
        ping6_from(bed.gw, theirs)
        ping6_from(bed.rx, ours)
        after = gw_bundle(gw)["stats"]["rx_packets"]
        assert after - before >= 6, f"bundle delivered {after - before} packets for 6 echoes"
        log("ok: ICMPv6 echo over the bundle both ways "
            f"(gateway {ours}, receiver {theirs})")

        # DNS from IPCP in the gateway's status.
        assert gw_bundle(gw).get("dns") == DNS, f"gateway status dns: {gw_bundle(gw).get('dns')}"
        log(f"ok: mpctl status shows DNS {DNS}")

        # The gateway's LAN prefixes are routed to the receiver's TUN.
        g = rx_gateway(rx, "gw1")
        assert sorted(g.get("routes") or []) == sorted([LAN4, LAN6]), g.get("routes")
        assert LAN4 in rx_routes(bed, "-4"), rx_routes(bed, "-4")
        assert LAN6 in rx_routes(bed, "-6"), rx_routes(bed, "-6")
        ping(bed.rx, LAN4_ADDR, count=2)
        lst = subprocess.Popen(["ip", "netns", "exec", bed.gw, sys.executable, SELF, "udprecv",
                                LAN6_ADDR, str(UDP_PORT), "10"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
        bed.procs.append(lst)
        assert lst.stdout.readline().strip() == "ready", lst.stderr.read()
        rx_before = gw_bundle(gw)["stats"]["rx_packets"]
        nsx(bed.rx, sys.executable, "-c",
            "import socket,sys; s=socket.socket(socket.AF_INET6,socket.SOCK_DGRAM);"
            f"s.sendto(b'to-the-lan',('{LAN6_ADDR}',{UDP_PORT}))")
        out, err = lst.communicate(timeout=15)
        assert lst.returncode == 0 and "to-the-lan" in out, f"UDP to {LAN6_ADDR}: {err.strip()}"
        assert gw_bundle(gw)["stats"]["rx_packets"] > rx_before, "the datagram bypassed the bundle"
        log(f"ok: receiver reaches the gateway LAN ({LAN4_ADDR} ping, [{LAN6_ADDR}] UDP) "
            "through the bundle")

        # The gateway leaves: its routes go.
        gw.stop()
        wait_for("receiver: gw1's routes removed",
                 lambda: LAN4 not in rx_routes(bed, "-4") and LAN6 not in rx_routes(bed, "-6"),
                 15, interval=0.2)
        log("ok: routes removed when the gateway left")
    except Exception:
        for d in (gw, rx):
            if d:
                log(f"--- {d.name} log tail ---\n{d.tail(40)}")
        raise
    finally:
        bed.close()


def main():
    args = bl.common_args(__doc__.splitlines()[0], ["ipv6"])
    try:
        run(args)
    except (AssertionError, subprocess.SubprocessError, OSError) as e:
        print(f"FAIL ipv6: {e}", flush=True)
        return 1
    print("PASS ipv6", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
