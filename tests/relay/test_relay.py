#!/usr/bin/env python3
"""hdlc-relay on the host: what a pppd on the pty and a UDP peer see.

A test writer plays pppd on the relay's pty (async HDLC, encoded here by an
implementation independent of the relay's C codec) and a UDP socket plays the
one-frame-per-datagram engine. Checked: one datagram per good HDLC frame with
the exact frame bytes; bad frames dropped and counted; datagrams come out as
HDLC with every control character escaped; two relays back to back carry
frames intact both ways; --accm-after-lcp; the pcap decodes with tshark.
Set HDLC_RELAY to the binary (ctest does)."""

import os
import random
import re
import selectors
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import termios
import tty
import unittest

RELAY = os.environ.get("HDLC_RELAY", "")
MAX_FRAME = 4104
WAIT = 10  # seconds: only a guard against a hung relay, never a pass condition


def fcs16(data):
    fcs = 0xFFFF
    for c in data:
        fcs ^= c
        for _ in range(8):
            fcs = (fcs >> 1) ^ 0x8408 if fcs & 1 else fcs >> 1
    return fcs


def hdlc_encode(frame, accm=0xFFFFFFFF, open_flag=True):
    fcs = fcs16(frame) ^ 0xFFFF
    out = bytearray(b"\x7e" if open_flag else b"")
    for c in bytes(frame) + bytes([fcs & 0xFF, fcs >> 8]):
        if c in (0x7D, 0x7E) or (c < 0x20 and (accm >> c) & 1):
            out += bytes([0x7D, c ^ 0x20])
        else:
            out.append(c)
    out.append(0x7E)
    return bytes(out)


class HdlcReader:
    """Decodes what the relay writes to the pty; keeps the raw bytes too."""

    def __init__(self, fd):
        self.fd, self.raw, self.cur, self.esc, self.frames = fd, bytearray(), bytearray(), False, []

    def read_frame(self):
        sel = selectors.DefaultSelector()
        sel.register(self.fd, selectors.EVENT_READ)
        while not self.frames:
            if not sel.select(WAIT):
                raise TimeoutError("no frame from the relay's pty")
            data = os.read(self.fd, 65536)
            self.raw += data
            for c in data:
                if c == 0x7E:
                    if len(self.cur) >= 4:
                        assert fcs16(self.cur) == 0xF0B8, "relay sent a bad FCS"
                        self.frames.append(bytes(self.cur[:-2]))
                    self.cur, self.esc = bytearray(), False
                elif c == 0x7D:
                    self.esc = True
                else:
                    self.cur.append(c ^ 0x20 if self.esc else c)
                    self.esc = False
        sel.close()
        return self.frames.pop(0)


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def udp_peer(test):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    test.addCleanup(s.close)
    s.bind(("127.0.0.1", 0))
    s.settimeout(WAIT)
    return s


class Relay:
    def __init__(self, tmp, name, local_port, remote_port, *extra):
        self.link = os.path.join(tmp, name)
        self.local = ("127.0.0.1", local_port)
        self.proc = subprocess.Popen(
            [RELAY, "--pty-link", self.link, "--udp-local", "127.0.0.1:%d" % local_port,
             "--udp-remote", "127.0.0.1:%d" % remote_port, *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        ready = sel.select(WAIT)
        sel.close()
        line = self.proc.stdout.readline() if ready else b""
        if line != b"READY\n":
            self.proc.kill()
            raise AssertionError("relay not ready: %r %r" % (line, self.proc.stderr.read()))
        assert os.path.islink(self.link)
        # Like pppd: open the slave; it must already be raw (no echo).
        self.fd = os.open(self.link, os.O_RDWR | os.O_NOCTTY)
        self.reader = HdlcReader(self.fd)
        self.stats = None

    def write(self, data):
        while data:
            data = data[os.write(self.fd, data):]

    def stop(self):
        os.close(self.fd)
        self.proc.send_signal(signal.SIGTERM)
        _, err = self.proc.communicate(timeout=WAIT)
        assert self.proc.returncode == 0, err
        assert not os.path.lexists(self.link), "symlink left behind"
        m = re.search(rb"tty->udp (.*); udp->tty (.*); tx_accm=(\w+)", err)
        assert m, err
        self.stats = {
            "tty": {k.decode(): int(v) for k, v in re.findall(rb"(\w+)=(\d+)", m.group(1))},
            "udp": {k.decode(): int(v) for k, v in re.findall(rb"(\w+)=(\d+)", m.group(2))},
            "tx_accm": int(m.group(3), 16),
        }
        return self.stats


# A pppd-like LCP Configure-Request: MRU 1500, ACCM 0, magic, PFC, ACFC,
# MRRU 1500, short sequence numbers, endpoint discriminator class 1.
LCP_OPTS = bytes.fromhex("010405dc" "020600000000" "050612345678" "0702" "0802"
                         "110405dc" "1202" "13070174657374")
LCP_REQ = bytes.fromhex("ff03c021") + bytes([1, 1]) + struct.pack(">H", 4 + len(LCP_OPTS)) + LCP_OPTS


def lcp(code, ident, opts=b""):
    return bytes.fromhex("ff03c021") + bytes([code, ident]) + struct.pack(">H", 4 + len(opts)) + opts


class RelayTest(unittest.TestCase):
    def setUp(self):
        if not RELAY or not os.access(RELAY, os.X_OK):
            self.fail("HDLC_RELAY not set")
        self.tmp = tempfile.mkdtemp(prefix="hdlc-relay-")
        self.relays = []

    def tearDown(self):
        for r in self.relays:
            if r.proc.poll() is None:
                r.proc.kill()
                r.proc.communicate()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def relay(self, name, local_port, remote_port, *extra):
        r = Relay(self.tmp, name, local_port, remote_port, *extra)
        self.relays.append(r)
        return r

    def test_pty_is_raw_before_pppd_opens_it(self):
        peer = udp_peer(self)
        r = self.relay("tty", free_udp_port(), peer.getsockname()[1])
        attrs = termios.tcgetattr(r.fd)
        self.assertFalse(attrs[tty.LFLAG] & (termios.ECHO | termios.ICANON | termios.ISIG))
        self.assertFalse(attrs[tty.IFLAG] & (termios.ICRNL | termios.IXON))
        self.assertFalse(attrs[tty.OFLAG] & termios.OPOST)
        r.stop()

    def test_tty_to_udp_one_datagram_per_frame(self):
        peer = udp_peer(self)
        r = self.relay("tty", free_udp_port(), peer.getsockname()[1])
        mp = bytes.fromhex("ff03003dc00000014500001c") + bytes(range(32))
        frames = [LCP_REQ, mp, bytes([0xC0, 0x21, 9, 1, 0, 8, 0x7E, 0x7D, 0x7E, 0x7D])]
        # Garbage before the first flag, three frames in one write with
        # shared flags, then one frame a byte at a time.
        r.write(b"AT\r\nNO CARRIER\r\n" + hdlc_encode(frames[0]) +
                hdlc_encode(frames[1], open_flag=False) + hdlc_encode(frames[2], open_flag=False))
        for c in hdlc_encode(mp, accm=0):
            r.write(bytes([c]))
        # A bad FCS, an aborted frame and idle flags: nothing must come out.
        bad = bytearray(hdlc_encode(LCP_REQ))
        bad[5] ^= 0x40
        r.write(bytes(bad) + hdlc_encode(mp)[:10] + b"\x7d\x7e" + b"\x7e" * 8)
        marker = lcp(9, 77, b"\0\0\0\0mark")
        r.write(hdlc_encode(marker))
        got = [peer.recv(65536) for _ in range(5)]
        self.assertEqual(got, frames + [mp, marker])
        st = r.stop()["tty"]
        self.assertEqual(st["frames"], 5)
        self.assertEqual(st["bad_fcs"], 2)  # the garbage and the flipped bit
        self.assertEqual(st["aborts"], 1)

    def test_udp_to_tty_escapes_all_control_chars(self):
        peer = udp_peer(self)
        r = self.relay("tty", free_udp_port(), peer.getsockname()[1])
        dest = r.local
        every_byte = bytes.fromhex("ff030021") + bytes(range(256))
        for f in (LCP_REQ, every_byte):
            peer.sendto(f, dest)
            self.assertEqual(r.reader.read_frame(), f)
        # Empty and oversized datagrams are dropped; a max-size one is not.
        peer.sendto(b"", dest)
        peer.sendto(b"\x00" * (MAX_FRAME + 1), dest)
        big = bytes(random.Random(1).randrange(256) for _ in range(MAX_FRAME))
        peer.sendto(big, dest)
        self.assertEqual(r.reader.read_frame(), big)
        # On the wire: no raw control character (default ACCM: all 32).
        self.assertFalse([c for c in r.reader.raw if c < 0x20])
        st = r.stop()["udp"]
        self.assertEqual((st["datagrams"], st["bad"], st["frames"], st["drops"]), (5, 2, 3, 0))

    def test_two_relays_back_to_back(self):
        pa, pb = free_udp_port(), free_udp_port()
        a = self.relay("a", pa, pb)
        b = self.relay("b", pb, pa)
        rnd = random.Random(3)
        # RFC 1662: frames under 2 bytes (4 with FCS) are not frames at all.
        sizes = [2, 3, 4, 20, 1500, 1502, MAX_FRAME] + [rnd.randrange(2, 2000) for _ in range(40)]
        sent = 0
        for n in sizes:
            f = bytes(rnd.randrange(256) for _ in range(n))
            a.write(hdlc_encode(f, accm=rnd.choice([0, 0xFFFFFFFF])))
            self.assertEqual(b.reader.read_frame(), f)
            g = bytes(rnd.randrange(256) for _ in range(n))
            b.write(hdlc_encode(g))
            self.assertEqual(a.reader.read_frame(), g)
            sent += 1
        # A burst of small frames in one write arrives complete and in order.
        burst = [lcp(9, i, b"\0\0\0\0" + bytes([i]) * i) for i in range(30)]
        a.write(b"".join(hdlc_encode(f) for f in burst))
        self.assertEqual([b.reader.read_frame() for _ in burst], burst)
        sa, sb = a.stop(), b.stop()
        # One datagram per frame: what a sent is what b received and wrote.
        self.assertEqual(sa["tty"]["frames"], sent + len(burst))
        self.assertEqual(sb["udp"]["datagrams"], sent + len(burst))
        self.assertEqual(sb["udp"]["frames"], sent + len(burst))
        self.assertEqual(sa["udp"]["datagrams"], sent)
        for s in (sa, sb):
            self.assertEqual((s["tty"]["bad_fcs"], s["udp"]["drops"], s["udp"]["bad"]), (0, 0, 0))

    def test_accm_after_lcp(self):
        peer = udp_peer(self)
        r = self.relay("tty", free_udp_port(), peer.getsockname()[1], "--accm-after-lcp")
        dest = r.local
        peer_req = lcp(1, 1, bytes.fromhex("050611223344"))
        ctl = bytes.fromhex("8021") + bytes([1, 1, 0, 10, 3, 6, 0, 0, 0, 0])  # IPCP, with 0x00-0x0a
        r.write(hdlc_encode(LCP_REQ))  # pppd asks for ACCM 0
        self.assertEqual(peer.recv(65536), LCP_REQ)
        peer.sendto(peer_req, dest)
        self.assertEqual(r.reader.read_frame(), peer_req)
        peer.sendto(lcp(2, 1, LCP_OPTS), dest)  # peer acks pppd's request
        self.assertEqual(r.reader.read_frame(), lcp(2, 1, LCP_OPTS))
        r.write(hdlc_encode(lcp(2, 1, bytes.fromhex("050611223344"))))
        peer.recv(65536)
        # pppd has not yet shown it is past lcp_up: still fully escaped.
        mark = len(r.reader.raw)
        peer.sendto(ctl, dest)
        self.assertEqual(r.reader.read_frame(), ctl)
        self.assertFalse([c for c in r.reader.raw[mark:] if c < 0x20])
        # pppd's first NCP frame, then control characters go raw.
        r.write(hdlc_encode(ctl))
        self.assertEqual(peer.recv(65536), ctl)
        mark = len(r.reader.raw)
        peer.sendto(ctl, dest)
        self.assertEqual(r.reader.read_frame(), ctl)
        self.assertIn(b"\x0a\x03\x06\x00", bytes(r.reader.raw[mark:]))
        # The peer renegotiates: everything escaped again.
        peer.sendto(peer_req, dest)
        r.reader.read_frame()
        mark = len(r.reader.raw)
        peer.sendto(ctl, dest)
        self.assertEqual(r.reader.read_frame(), ctl)
        self.assertFalse([c for c in r.reader.raw[mark:] if c < 0x20])
        self.assertEqual(r.stop()["tx_accm"], 0xFFFFFFFF)

    def test_pcap_decodes_with_tshark(self):
        tshark = shutil.which("tshark")
        if not tshark:
            self.fail("tshark not installed (scripts/install-deps.sh installs it)")
        peer = udp_peer(self)
        pcap = os.path.join(self.tmp, "relay.pcap")
        r = self.relay("tty", free_udp_port(), peer.getsockname()[1], "--pcap", pcap)
        chal = bytes.fromhex("c223") + bytes([1, 7, 0, 25, 16]) + bytes(range(16)) + b"recv"
        # MP long header, B+E, seq 1, inner protocol IP (0x0021, uncompressed).
        ip = bytes.fromhex("4500001c00004000400100007f0000017f000002") + bytes(8)
        mp = bytes.fromhex("ff03003d" "c0000001" "0021") + ip
        r.write(hdlc_encode(LCP_REQ))
        self.assertEqual(peer.recv(65536), LCP_REQ)
        for f in (lcp(2, 1, LCP_OPTS), chal, mp):
            peer.sendto(f, r.local)
            self.assertEqual(r.reader.read_frame(), f)
        r.stop()
        env = dict(os.environ, HOME=self.tmp)
        out = subprocess.run(
            [tshark, "-n", "-r", pcap, "-T", "fields", "-E", "separator=|",
             "-e", "frame.p2p_dir", "-e", "ppp.protocol", "-e", "lcp.opt.mru",
             "-e", "lcp.opt.mrru", "-e", "lcp.opt.magic_number", "-e", "chap.code",
             "-e", "mp.first", "-e", "mp.last", "-e", "mp.seq", "-e", "ip.dst"],
            capture_output=True, text=True, env=env, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        rows = [l.split("|") for l in out.stdout.strip().splitlines()]
        self.assertEqual(len(rows), 4, out.stdout)
        # frame.p2p_dir: 0 = sent (by pppd's side), 1 = received (from UDP).
        self.assertEqual([x[0] for x in rows], ["0", "1", "1", "1"])
        self.assertEqual(rows[0][1:5], ["0xc021", "1500", "1500", "0x12345678"])
        self.assertEqual(rows[1][3], "1500")  # the Ack carries the same options
        self.assertEqual(rows[2][5], "1")  # CHAP Challenge
        self.assertEqual(rows[3][6:10], ["1", "1", "1", "127.0.0.2"])
        bad = subprocess.run([tshark, "-n", "-r", pcap, "-Y", "_ws.malformed || _ws.expert.severity >= error"],
                             capture_output=True, text=True, env=env, timeout=60)
        self.assertEqual(bad.returncode, 0, bad.stderr)
        self.assertEqual(bad.stdout.strip(), "")

    def test_bad_usage(self):
        for args in ([], ["--pty-link", "x"], ["--pty-link", "x", "--tty", "y", "--udp-local", "127.0.0.1:1",
                                                "--udp-remote", "127.0.0.1:2"],
                     ["--tty", "/dev/null", "--udp-local", "127.0.0.1:1", "--udp-remote", "[::1]:2"]):
            p = subprocess.run([RELAY, *args], capture_output=True, timeout=WAIT)
            self.assertNotEqual(p.returncode, 0, args)
            self.assertNotIn(b"READY", p.stdout)


if __name__ == "__main__":
    unittest.main()
