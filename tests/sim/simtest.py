"""Test helpers: run the simulator, await its events, talk to its ports.
Everything waits for something with a deadline; nothing sleeps blindly."""
import os
import re
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SIM = os.path.join(HERE, "sim7100.py")
SRCDIR = os.environ.get("MODEMD_SRCDIR", os.path.normpath(os.path.join(HERE, "..", "..")))
# a final result code in ATV1 form
FINAL = re.compile(rb"(\r\n|^)(OK|ERROR|\+CME ERROR: [^\r]*|NO CARRIER|BUSY|NO ANSWER|"
                   rb"NO DIALTONE|CONNECT[^\r]*)\r\n")
CHAT = shutil.which("chat", path="/usr/sbin:/sbin:" + os.environ.get("PATH", ""))


class Sim:
    """A running sim7100.py with its AT/PPP symlinks in a temp dir."""

    def __init__(self, *opts, carrier_cmd=None):
        self.dir = tempfile.mkdtemp(prefix="sim7100-")
        self.at = os.path.join(self.dir, "ttyUSB2")
        self.ppp = os.path.join(self.dir, "ttyUSB3")
        self.ctl = os.path.join(self.dir, "control")
        cmd = [sys.executable, SIM, "--at", self.at, "--ppp", self.ppp, "--control", self.ctl]
        cmd += list(opts)
        if carrier_cmd:
            cmd += ["--carrier-cmd", carrier_cmd]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=None)
        os.set_blocking(self.proc.stdout.fileno(), False)
        self.buf = b""
        self.events = []
        self.await_line("READY", 10)

    def _lines(self, timeout):
        r, _, _ = select.select([self.proc.stdout], [], [], max(0, timeout))
        if not r:
            return
        data = self.proc.stdout.read()
        if not data:
            raise AssertionError("simulator exited (%s)" % self.proc.poll())
        self.buf += data
        while b"\n" in self.buf:
            line, self.buf = self.buf.split(b"\n", 1)
            self.events.append(line.decode())

    def await_line(self, prefix, timeout=5):
        """Wait for the next stdout line starting with prefix (consumes earlier lines)."""
        deadline = time.monotonic() + timeout
        while True:
            while self.events:
                line = self.events.pop(0)
                if line.startswith(prefix):
                    return line
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("simulator never said %r" % prefix)
            self._lines(left)

    def await_event(self, name, timeout=5):
        return self.await_line("EVENT " + name, timeout)

    def control(self, line):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(5)
            s.connect(self.ctl)
            s.sendall(line.encode() + b"\n")
            data = b""
            while not data.endswith(b"\n"):
                chunk = s.recv(1024)
                if not chunk:
                    break
                data += chunk
        return data.decode().strip()

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class Tty:
    """A client on one of the simulator's ports."""

    def __init__(self, path):
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK | os.O_CLOEXEC)
        self.buf = b""

    def send(self, text):
        os.write(self.fd, text.encode() if isinstance(text, str) else text)

    def read_until(self, needle, timeout=5):
        """Return everything read up to and including needle; raises on timeout."""
        if isinstance(needle, str):
            needle = needle.encode()
        if isinstance(needle, bytes):
            needle = re.compile(re.escape(needle))
        deadline = time.monotonic() + timeout
        while not needle.search(self.buf):
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("never saw %r, got %r" % (needle.pattern, self.buf))
            r, _, _ = select.select([self.fd], [], [], left)
            if r:
                try:
                    data = os.read(self.fd, 4096)
                except OSError as e:
                    raise AssertionError("port went away (%s) waiting for %r" % (e, needle.pattern))
                if not data:
                    raise AssertionError("port hung up waiting for %r" % needle.pattern)
                self.buf += data
        i = needle.search(self.buf).end()
        out, self.buf = self.buf[:i], self.buf[i:]
        return out.decode("latin-1")

    def cmd(self, text, final=None, timeout=5):
        """Send a command line; return what came back up to its final result
        (or up to final, when given)."""
        self.send(text + "\r")
        if final is not None:
            return self.read_until(final, timeout)
        return self.read_until(FINAL, timeout)

    def close(self):
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class SimCase(unittest.TestCase):
    """Starts and stops one simulator per test."""
    sims = ()

    def start(self, *opts, **kw):
        sim = Sim(*opts, **kw)
        self.addCleanup(sim.close)
        return sim

    def open(self, path):
        t = Tty(path)
        self.addCleanup(t.close)
        return t
