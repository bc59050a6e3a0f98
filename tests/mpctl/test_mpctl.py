#!/usr/bin/env python3
"""mpctl as a user runs it: the real mpctl binary against no daemon, a stale
socket, a socket it may not use, a daemon that never answers, and the real
modemd managing a simulated SIM7100 (tests/sim/sim7100.py).

Usage: test_mpctl.py MPCTL MODEMD   (ctest passes the built binaries)"""
import json
import os
import pty
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(SRCDIR, "tests", "sim"))
from simtest import Sim  # noqa: E402

MPCTL = MODEMD = None


def mpctl(*args, sock=None, env=None, user=None, timeout=20):
    cmd = [MPCTL] + (["-s", sock] if sock else []) + list(args)
    if user:
        pw = pwd.getpwnam(user)
        cmd = ["setpriv", "--reuid", str(pw.pw_uid), "--regid", str(pw.pw_gid),
               "--clear-groups"] + cmd
    e = dict(os.environ)
    e.pop("MODEMD_SOCKET", None)
    e.update(env or {})
    return subprocess.run(cmd, capture_output=True, text=True, env=e, timeout=timeout)


class NoDaemon(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="mpctl-")
        self.sock = os.path.join(self.dir, "control.sock")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def test_no_socket(self):
        for args in (["status"], ["status", "--json"], ["up", "m1"], ["down"], ["version"]):
            r = mpctl(*args, sock=self.sock)
            self.assertEqual(r.returncode, 3, r)
            self.assertIn("mpctl: modemd is not running (no socket at %s)" % self.sock, r.stderr)

    def test_env_socket(self):
        r = mpctl("status", env={"MODEMD_SOCKET": self.sock})
        self.assertEqual(r.returncode, 3)
        self.assertIn("no socket at %s" % self.sock, r.stderr)
        # -s wins over the environment
        other = os.path.join(self.dir, "other.sock")
        r = mpctl("status", sock=other, env={"MODEMD_SOCKET": self.sock})
        self.assertIn("no socket at %s" % other, r.stderr)

    def test_stale_socket(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(self.sock)
        s.close()  # the file stays, nobody listens: a crashed daemon's leftover
        r = mpctl("status", sock=self.sock)
        self.assertEqual(r.returncode, 3)
        self.assertIn("mpctl: modemd is not running (nothing listening on %s)" % self.sock, r.stderr)

    def test_permission_denied(self):
        if os.geteuid() != 0 or not shutil.which("setpriv"):
            self.fail("needs root and setpriv (util-linux) to run mpctl as another user")
        user = "nobody"
        try:
            pwd.getpwnam(user)
        except KeyError:
            self.fail("no user nobody")
        os.chmod(self.dir, 0o755)
        # The daemon's socket is root:root 0660 when no control_group is set.
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(self.sock)
        os.chmod(self.sock, 0o660)
        s.listen(4)
        try:
            r = mpctl("status", sock=self.sock, user=user)
            self.assertEqual(r.returncode, 4, r)
            self.assertIn("mpctl: permission denied on %s (need root or group modemd)" % self.sock,
                          r.stderr)
            # The same through a directory nobody may search.
            os.chmod(self.dir, 0o700)
            r = mpctl("down", "m0", sock=self.sock, user=user)
            self.assertEqual(r.returncode, 4, r)
        finally:
            s.close()

    def test_usage(self):
        for args in ([], ["bogus"], ["status", "extra"], ["status", "--frob"], ["up", "a", "b"],
                     ["version", "x"]):
            r = mpctl(*args, sock=self.sock)
            self.assertEqual(r.returncode, 64, (args, r))
            self.assertTrue(r.stderr)
        r = mpctl("help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("exit codes", r.stdout)
        self.assertIn("status [--json]", r.stdout)

    def test_daemon_never_answers(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(self.sock)
        s.listen(4)
        try:
            t0 = time.monotonic()
            r = mpctl("status", sock=self.sock)
            took = time.monotonic() - t0
            self.assertEqual(r.returncode, 5, r)
            self.assertIn("no reply from modemd on %s within 5 s" % self.sock, r.stderr)
            self.assertGreater(took, 4.5)
            self.assertLess(took, 10)
        finally:
            s.close()


class WithDaemon(unittest.TestCase):
    """The real modemd with one static modem on the simulator, whose SIM is
    missing: the modem stops in a stable state with its identity known."""

    def setUp(self):
        self.sim = Sim("--sim", "missing", "--boot-delay", "0.1")
        self.dir = tempfile.mkdtemp(prefix="mpctl-d-")
        self.sock = os.path.join(self.dir, "control.sock")
        conf = os.path.join(self.dir, "modemd.conf")
        with open(conf, "w") as f:
            f.write('log_level = "debug";\n'
                    'control_socket = "%s";\ncontrol_group = "";\n'
                    'run_dir = "%s/run";\nstate_dir = "%s/state";\nudev = false;\n'
                    'apn_db = [ "%s/apn-db/curated.conf" ];\n'
                    'modems = ( { name = "sim0"; at_port = "%s"; ppp_port = "%s"; } );\n'
                    % (self.sock, self.dir, self.dir, SRCDIR, self.sim.at, self.sim.ppp))
        self.log = open(os.path.join(self.dir, "modemd.log"), "w+")
        self.daemon = subprocess.Popen([MODEMD, "-c", conf], stdout=self.log, stderr=self.log)
        self.await_state("sim0", "sim-locked")

    def tearDown(self):
        self.daemon.terminate()
        try:
            self.daemon.wait(10)
        except subprocess.TimeoutExpired:
            self.daemon.kill()
            self.daemon.wait()
        self.sim.close()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def status(self):
        r = mpctl("status", "--json", sock=self.sock)
        if r.returncode == 3:
            return None  # not listening yet
        self.assertEqual(r.returncode, 0, r)
        return json.loads(r.stdout)

    def modem(self, name):
        st = self.status()
        for m in (st or {}).get("modems", []):
            if m["name"] == name:
                return m
        return None

    def await_state(self, name, state, timeout=15):
        """Poll the daemon (the only observable) until the modem gets there."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            self.assertIsNone(self.daemon.poll(), "modemd exited")
            last = self.modem(name)
            if last and last["state"] == state:
                return last
            time.sleep(0.05)
        self.log.seek(0)
        self.fail("%s never reached %s (last: %s)\nmodemd log:\n%s"
                  % (name, state, last, self.log.read()[-4000:]))

    def test_status_json(self):
        st = self.status()
        self.assertEqual(st["version"], 1)
        self.assertTrue(st["ok"])
        m = st["modems"][0]
        for key in ("name", "id", "usb_path", "at_port", "ppp_port", "manufacturer", "model",
                    "revision", "imei", "iccid", "imsi", "plmn", "operator", "access_tech",
                    "sim", "registration", "signal", "apn", "state", "reason", "admin", "ifname",
                    "local_address", "remote_address", "state_seconds", "uptime_seconds",
                    "redials", "failures", "timing"):
            self.assertIn(key, m)
        self.assertEqual(m["name"], "sim0")
        self.assertEqual(m["model"], "SIMCOM_SIM7100C")
        self.assertEqual(m["imei"], "861234567890123")
        self.assertEqual(m["sim"], "not-inserted")
        self.assertEqual(m["admin"], "up")
        self.assertIsNone(m["uptime_seconds"])
        self.assertIn("not inserted", m["reason"])
        for key in ("csq", "rssi_dbm", "rsrp_dbm", "rsrq_db", "sinr_db"):
            self.assertIn(key, m["signal"])
        self.assertIn("pppd_started_ms", m["timing"])

    def test_status_table_not_a_tty(self):
        r = mpctl("status", sock=self.sock)
        self.assertEqual(r.returncode, 0, r)
        lines = r.stdout.splitlines()
        self.assertEqual(lines[0].split(), ["NAME", "MODEL", "IMEI", "CARRIER", "APN", "SIGNAL",
                                            "REG", "STATE", "IFACE", "ADDRESS", "UPTIME",
                                            "REDIALS"])
        self.assertEqual(len(lines), 2)
        row = lines[1]
        self.assertTrue(row.startswith("sim0  SIMCOM_SIM7100C  …0123  "), row)
        self.assertIn("sim-locked (", row)
        self.assertNotIn("\033", r.stdout)  # no colour into a pipe
        # Columns line up: every header starts where its cell starts.
        self.assertEqual(lines[0].index("MODEL"), row.index("SIMCOM"))

    def test_status_table_on_a_tty(self):
        pid, fd = pty.fork()
        if pid == 0:
            os.execv(MPCTL, [MPCTL, "-s", self.sock, "status"])
        out = b""
        while True:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        _, status = os.waitpid(pid, 0)
        os.close(fd)
        self.assertEqual(os.waitstatus_to_exitcode(status), 0)
        text = out.decode()
        self.assertIn("\033[31msim-locked", text)  # red: needs a person

    def test_up_down(self):
        r = mpctl("down", "sim0", sock=self.sock)
        self.assertEqual(r.returncode, 0, r)
        self.assertEqual(r.stdout, "sim0: down\n")
        m = self.await_state("sim0", "down")
        self.assertEqual(m["admin"], "down")

        r = mpctl("up", "m7", sock=self.sock)
        self.assertEqual(r.returncode, 2, r)
        self.assertEqual(r.stderr, "mpctl: unknown modem m7\n")
        r = mpctl("down", "m7", sock=self.sock)
        self.assertEqual(r.returncode, 2, r)

        r = mpctl("up", sock=self.sock)  # default: all
        self.assertEqual(r.returncode, 0, r)
        self.assertEqual(r.stdout, "sim0: up\n")
        m = self.await_state("sim0", "sim-locked")
        self.assertEqual(m["admin"], "up")

    def test_version(self):
        r = mpctl("version", sock=self.sock)
        self.assertEqual(r.returncode, 0, r)
        self.assertRegex(r.stdout, r"^mpctl \S+\nmodemd \S+ \(protocol 1\)\n$")


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    MPCTL, MODEMD = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    unittest.main(argv=sys.argv[:1] + sys.argv[3:], verbosity=2)
