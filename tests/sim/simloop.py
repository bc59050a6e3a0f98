"""Small single-threaded event loop and pty helpers for the SIM7100 simulator.

stdlib only: poll() for fds, a heap of timers. Callbacks may add or remove
fds and timers, including their own.
"""
import fcntl
import heapq
import itertools
import os
import pty
import select
import termios
import time
import tty

TIOCVHANGUP = 0x5437


class Timer:
    def __init__(self, when, cb):
        self.when = when
        self.cb = cb
        self.cancelled = False

    def cancel(self):
        self.cancelled = True


class Loop:
    def __init__(self):
        self.poller = select.poll()
        self.handlers = {}
        self.timers = []
        self.seq = itertools.count()

    def add(self, fd, events, cb):
        self.handlers[fd] = cb
        self.poller.register(fd, events)

    def modify(self, fd, events):
        if fd in self.handlers:
            self.poller.modify(fd, events)

    def remove(self, fd):
        if self.handlers.pop(fd, None) is not None:
            self.poller.unregister(fd)

    def call_later(self, delay, cb):
        t = Timer(time.monotonic() + max(0.0, delay), cb)
        heapq.heappush(self.timers, (t.when, next(self.seq), t))
        return t

    def run_once(self):
        now = time.monotonic()
        while self.timers and self.timers[0][0] <= now:
            t = heapq.heappop(self.timers)[2]
            if not t.cancelled:
                t.cb()
            now = time.monotonic()
        while self.timers and self.timers[0][2].cancelled:
            heapq.heappop(self.timers)
        timeout = None
        if self.timers:
            timeout = max(0, int((self.timers[0][0] - now) * 1000) + 1)
        for fd, ev in self.poller.poll(timeout):
            cb = self.handlers.get(fd)
            if cb is not None:  # may have been removed by an earlier callback
                cb(ev)

    def run(self):
        while True:
            self.run_once()


def raw_pty():
    """A pty pair with a raw, non-blocking master; returns (master, slave, path)."""
    m, s = pty.openpty()
    tty.setraw(s)
    # raw: no echo and no output processing, as a USB serial port delivers bytes
    attrs = termios.tcgetattr(s)
    attrs[3] &= ~(termios.ECHO | termios.ECHONL | termios.ICANON | termios.ISIG)
    termios.tcsetattr(s, termios.TCSANOW, attrs)
    os.set_blocking(m, False)
    return m, s, os.ttyname(s)


def make_raw(path):
    """Raw again after a hangup, which resets a pty's termios to the defaults."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    except OSError:
        return
    try:
        tty.setraw(fd)
        attrs = termios.tcgetattr(fd)
        attrs[3] &= ~(termios.ECHO | termios.ECHONL | termios.ICANON | termios.ISIG)
        termios.tcsetattr(fd, termios.TCSANOW, attrs)
    except termios.error:
        pass
    finally:
        os.close(fd)


def slave_closed(master):
    """True while no process holds the slave side of this pty open."""
    p = select.poll()
    p.register(master, select.POLLIN)
    return any(ev & select.POLLHUP for _, ev in p.poll(0))


def hangup_tty(path):
    """Hang up every open file of a pty slave (what a DCD drop does to a
    modem tty with CLOCAL off); the device itself stays usable."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    except OSError:
        return False
    try:
        fcntl.ioctl(fd, TIOCVHANGUP)
        return True
    except OSError:
        return False  # needs CAP_SYS_ADMIN
    finally:
        os.close(fd)


def symlink_atomic(target, link):
    tmp = "%s.tmp%d" % (link, os.getpid())
    try:
        os.unlink(tmp)
    except FileNotFoundError:
        pass
    os.symlink(target, tmp)
    os.replace(tmp, link)


def unlink_if_ours(link, target):
    try:
        if os.readlink(link) == target:
            os.unlink(link)
    except OSError:
        pass
