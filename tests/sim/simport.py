"""One simulated modem serial port (a pty whose slave is symlinked to a path)
and the data call that can run on it, optionally bridged to a carrier process.
"""
import os
import re
import select
import signal
import subprocess
import sys
import termios
import time

import simloop

MAX_LINE = 560  # a real module rejects longer command lines
MAX_QUEUE = 16  # command lines waiting while one is being answered
MAX_OUT = 64 * 1024  # bytes buffered towards a client that does not read
HUP_POLL = 0.05  # how often a closed port checks whether someone opened it

NUMERIC = {"OK": 0, "CONNECT": 1, "RING": 2, "NO CARRIER": 3, "ERROR": 4,
           "NO DIALTONE": 6, "BUSY": 7, "NO ANSWER": 8}


class Port:
    """Command mode, data mode (bridged) and online command mode (after +++)."""

    def __init__(self, modem, name, link):
        self.modem = modem
        self.loop = modem.loop
        self.name = name
        self.link = link
        self.master = None
        self.path = None
        self.reset_settings()

    def reset_settings(self):
        """ATZ / power on: per-port settings back to the profile."""
        self.echo = True
        self.verbose = True
        self.cmee = 0
        self.dcd = 1  # AT&C1: DCD follows the carrier
        self.urc_mode = {"CREG": 0, "CGREG": 0, "CEREG": 0}

    # --- life cycle -------------------------------------------------------
    def plug(self):
        self.master, slave, self.path = simloop.raw_pty()
        os.close(slave)  # so we can tell when a client opens and closes it
        self.inbuf = b""
        self.queue = []
        self.busy = False
        self.pending_urcs = []
        self.outbuf = b""
        self.mode = "cmd"
        self.client = False
        self.watch = None
        self.last_rx = 0.0
        self.plus = 0
        self.escape_timer = None
        self.dialing = None
        simloop.symlink_atomic(self.path, self.link)
        self._watch_closed()

    def unplug(self):
        if self.master is None:
            return
        if self.watch:
            self.watch.cancel()
        if self.escape_timer:
            self.escape_timer.cancel()
        self.loop.remove(self.master)
        simloop.unlink_if_ours(self.link, self.path)
        os.close(self.master)  # clients holding the slave now see a hangup
        self.master = None

    @property
    def present(self):
        return self.master is not None

    def _watch_closed(self):
        """Client closed the port (or never opened it): stop polling the
        master (it would report POLLHUP forever) and check now and then."""
        self.loop.remove(self.master)
        self.client = False
        self.watch = self.loop.call_later(HUP_POLL, self._check_open)

    def _check_open(self):
        self.watch = None
        if self.master is None:
            return
        if simloop.slave_closed(self.master):
            self.watch = self.loop.call_later(HUP_POLL, self._check_open)
            return
        self.client = True
        self.modem.event("open", port=self.name)
        self.loop.add(self.master, select.POLLIN | (select.POLLOUT if self.outbuf else 0),
                      self._on_io)

    def _client_closed(self):
        # what a USB serial port does with bytes nobody reads: they are gone
        try:
            termios.tcflush(self.master, termios.TCIOFLUSH)
        except OSError:
            pass
        self.outbuf = b""
        self.inbuf = b""
        self.queue = []
        if self.dialing is not None:  # DTR drop aborts a dial in progress
            if self.dialing is not True:
                self.dialing.cancel()
            self.dialing = None
            self.busy = False
        simloop.make_raw(self.path)
        self.modem.event("close", port=self.name)
        if self.mode != "cmd":
            self.modem.end_call("dtr")  # AT&D2: DTR drop hangs up
        self._watch_closed()

    def _on_io(self, ev):
        if ev & (select.POLLIN | select.POLLHUP | select.POLLERR):
            try:
                data = os.read(self.master, 4096)
            except BlockingIOError:
                data = None
            except OSError:
                data = b""  # EIO: the last client closed the slave
            if data:
                self._on_data(data)
            elif data is not None:
                if self.master is not None and self.client:
                    self._client_closed()
                return
        if self.master is not None and self.client and ev & select.POLLOUT:
            self._flush()

    # --- output -----------------------------------------------------------
    def write(self, data):
        if self.master is None or not self.client:
            return  # nobody listening: a real port drops it too
        if len(self.outbuf) + len(data) > MAX_OUT:
            return
        self.outbuf += data
        self._flush()

    def _flush(self):
        try:
            n = os.write(self.master, self.outbuf)
            self.outbuf = self.outbuf[n:]
        except BlockingIOError:
            pass
        except OSError:
            self.outbuf = b""
        self.loop.modify(self.master, select.POLLIN | (select.POLLOUT if self.outbuf else 0))

    def line(self, text):
        """An information or URC line in the current ATV format."""
        if self.verbose:
            self.write(b"\r\n" + text.encode() + b"\r\n")
        else:
            self.write(text.encode() + b"\r\n")

    def result(self, text):
        """A final result code; numeric with ATV0."""
        if self.verbose:
            self.write(b"\r\n" + text.encode() + b"\r\n")
        else:
            code = NUMERIC.get(text.split(" ")[0] if text.startswith("CONNECT") else text)
            if code is None:
                self.write(text.encode() + b"\r\n")
            else:
                self.write(b"%d\r" % code)

    def urc(self, text):
        if self.mode == "data":
            return  # not while the line carries PPP
        if self.busy:
            self.pending_urcs.append(text)
        else:
            self.line(text)

    # --- input ------------------------------------------------------------
    def _on_data(self, data):
        self.modem.trace(self.name, "<-", data)
        if self.mode == "data":
            self._data_in(data)
            return
        if not self.modem.booted:
            return  # still booting: the firmware is not listening yet
        if self.echo:
            self.write(data)
        self.inbuf += data
        while True:
            m = re.search(rb"[\r]", self.inbuf)
            if not m:
                break
            raw, self.inbuf = self.inbuf[:m.start()], self.inbuf[m.end():]
            self._got_line(raw)
        if len(self.inbuf) > MAX_LINE:
            self.inbuf = b""

    def _got_line(self, raw):
        raw = raw.replace(b"\n", b"")
        # backspace editing, as a terminal user would expect
        chars = []
        for c in raw:
            if c == 8:
                if chars:
                    chars.pop()
            else:
                chars.append(c)
        text = bytes(chars).decode("latin-1").strip()
        idx = text.upper().find("AT")
        if idx < 0:
            return  # not a command: a modem ignores it
        if len(self.queue) >= MAX_QUEUE:
            return
        self.queue.append(text[idx:])
        self._next()

    def _next(self):
        if self.busy or not self.queue or self.master is None:
            return
        cmd = self.queue.pop(0)
        self.busy = True
        self.modem.execute(self, cmd)

    def done(self, lines, final, delay=None):
        """Answer the current command after the module's thinking time."""
        def emit():
            if self.master is None:
                return
            for ln in lines:
                self.line(ln)
            if final is not None:
                self.result(final)
            self.busy = False
            urcs, self.pending_urcs = self.pending_urcs, []
            for u in urcs:
                self.urc(u)
            self._next()
        self.loop.call_later(self.modem.args.cmd_delay if delay is None else delay, emit)

    # --- data phase -------------------------------------------------------
    def enter_data(self):
        self.mode = "data"
        self.plus = 0
        self.last_rx = time.monotonic()

    def _data_in(self, data):
        now = time.monotonic()
        guard = self.modem.args.guard
        if data.strip(b"+") == b"" and (self.plus or now - self.last_rx >= guard):
            self.plus += len(data)
        else:
            self.plus = 0
        if self.escape_timer:
            self.escape_timer.cancel()
            self.escape_timer = None
        if self.plus == 3:
            self.escape_timer = self.loop.call_later(guard, self._escape)
        self.last_rx = now
        call = self.modem.call
        if call is not None:
            call.to_carrier(data)

    def _escape(self):
        self.escape_timer = None
        if self.mode != "data":
            return
        self.mode = "online"
        self.modem.event("escape", port=self.name)
        self.result("OK")

    def hangup_line(self):
        """Carrier lost with AT&C1: DCD drops and the tty is hung up."""
        def drop():
            if self.dcd == 1 and self.client and self.master is not None and self.mode == "cmd":
                if simloop.hangup_tty(self.path):
                    self.modem.event("dcd-drop", port=self.name)
        # after the NO CARRIER text has had time to be read
        self.loop.call_later(0.2, drop)


class Call:
    """One data call: bytes of the port's data phase go to a carrier process
    on its own pty (or nowhere without --carrier-cmd)."""

    def __init__(self, modem, port, number):
        self.modem = modem
        self.loop = modem.loop
        self.port = port
        self.number = number
        self.bridged = True
        self.proc = None
        self.master = self.slave = None
        self.pidfd = None
        self.kill_timer = None
        self.buf = b""

    def start(self, cmd):
        if not cmd:
            return
        self.master, self.slave, path = simloop.raw_pty()
        env = dict(os.environ, CARRIER_TTY=path)
        # our fd on the slave stays open until the carrier exits, or reads
        # on the master fail with EIO before the carrier has opened it
        self.proc = subprocess.Popen(["sh", "-c", cmd], env=env, stdin=subprocess.DEVNULL,
                                     stdout=sys.stderr.fileno(), start_new_session=True)
        self.modem.event("carrier-start", pid=self.proc.pid, tty=path)
        self.loop.add(self.master, select.POLLIN, self._on_carrier)
        try:
            self.pidfd = os.pidfd_open(self.proc.pid)
            self.loop.add(self.pidfd, select.POLLIN, lambda ev: self._reap())
        except (AttributeError, OSError):
            self._poll_exit()

    def _poll_exit(self):
        if self.proc.poll() is None:
            self.loop.call_later(0.1, self._poll_exit)
        else:
            self._reap()

    def _on_carrier(self, ev):
        try:
            data = os.read(self.master, 4096)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.loop.remove(self.master)
            return
        if self.bridged and self.port.mode == "data":
            self.port.write(data)

    def to_carrier(self, data):
        if not self.bridged or self.master is None:
            return
        self.buf += data
        if len(self.buf) > MAX_OUT:
            self.buf = self.buf[-MAX_OUT:]
        try:
            n = os.write(self.master, self.buf)
            self.buf = self.buf[n:]
        except BlockingIOError:
            pass
        except OSError:
            self.buf = b""

    def stop(self):
        """End the bridge now; the carrier gets SIGTERM, then SIGKILL."""
        self.bridged = False
        if self.proc is None or self.proc.returncode is not None:
            return
        self._signal(signal.SIGTERM)
        self.kill_timer = self.loop.call_later(5.0, lambda: self._signal(signal.SIGKILL))

    def _signal(self, sig):
        try:
            os.killpg(self.proc.pid, sig)
        except OSError:
            pass

    def _reap(self):
        code = self.proc.wait()
        if self.pidfd is not None:
            self.loop.remove(self.pidfd)
            os.close(self.pidfd)
            self.pidfd = None
        if self.kill_timer:
            self.kill_timer.cancel()
        # whatever the carrier said last (LCP Terminate) still goes through
        try:
            while self.bridged and self.port.mode == "data":
                data = os.read(self.master, 4096)
                if not data:
                    break
                self.port.write(data)
        except OSError:
            pass
        self.loop.remove(self.master)
        os.close(self.master)
        os.close(self.slave)
        self.master = self.slave = None
        self.modem.event("carrier-exit", code=code)
        if self in self.modem.old_calls:
            self.modem.old_calls.remove(self)
        if self.bridged:
            self.modem.end_call("carrier-exit")
