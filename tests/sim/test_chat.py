#!/usr/bin/env python3
"""The real chat(8) runs every shipped chat script against the simulator,
exactly as pppd runs it: chat -v -s -S -T <number> -U <apn> -f <script>,
with the data port as stdin and stdout."""
import os
import re
import subprocess
import tempfile
import unittest

from simtest import CHAT, SRCDIR, SimCase

SCRIPTS = os.path.join(SRCDIR, "chat-scripts")
# (script, dial string, APN or None) as the seed carriers use them
CASES = [
    ("3gpp.chat", "*99#", "3GNET"),
    ("3gpp.chat", "*99***1#", "CMNET"),
    ("3gpp.chat", "*98*1#", "CMNET"),
    ("cdma.chat", "#777", None),
]
# chat exits 4+n for the n-th ABORT string; the scripts list them in this order
ABORT_EXIT = {"BUSY": 4, "NO CARRIER": 5, "ERROR": 6, "NO ANSWER": 8}


class ChatScripts(SimCase):
    def chat(self, sim, script, number, apn, timeout=30, keep=False):
        """Returns chat's exit code and log; with keep, also the port's fd,
        still open as pppd would hold it (closing it drops DTR)."""
        cmd = [CHAT, "-v", "-s", "-S", "-T", number]
        if apn is not None:
            cmd += ["-U", apn]
        cmd += ["-f", script]
        fd = os.open(sim.ppp, os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC)
        try:
            r = subprocess.run(cmd, stdin=fd, stdout=fd, stderr=subprocess.PIPE,
                               timeout=timeout)
        except BaseException:
            os.close(fd)
            raise
        if keep:
            return r.returncode, r.stderr.decode("latin-1"), fd
        os.close(fd)
        return r.returncode, r.stderr.decode("latin-1")

    def booted_sim(self, *opts):
        sim = self.start("--boot-delay", "0", "--sim-delay", "0.1", "--reg-delay", "0", *opts)
        sim.await_event("booted")
        sim.await_event("reg stat=1")
        return sim

    def test_connect(self):
        for script, number, apn in CASES:
            with self.subTest(script=script, number=number):
                sim = self.booted_sim()
                code, log, fd = self.chat(sim, os.path.join(SCRIPTS, script), number, apn,
                                          keep=True)
                self.addCleanup(os.close, fd)
                self.assertEqual(code, 0, log)
                # REPORT CONNECT: chat logs the whole CONNECT line
                self.assertRegex(log, r"chat:.*CONNECT 150000000")
                if apn is not None:
                    ev = sim.await_event("cgdcont")
                    self.assertEqual(ev, "EVENT cgdcont cid=1 type=IP apn=%s" % apn)
                ev = sim.await_event("connect")
                self.assertEqual(ev, "EVENT connect port=ppp number=%s" % number)
                self.assertRegex(sim.control("status"), r"call=ppp:data")
                # pppd closing the port drops DTR: the call ends (AT&D2)
                os.dup2(os.open(os.devnull, os.O_RDWR), fd)
                sim.await_event("hangup port=ppp reason=dtr")
                sim.close()

    def test_dial_failures(self):
        for result, code in ABORT_EXIT.items():
            for script, number, apn in (CASES[0], CASES[3]):
                with self.subTest(result=result, script=script):
                    sim = self.booted_sim("--dial-result", result)
                    got, log = self.chat(sim, os.path.join(SCRIPTS, script), number, apn)
                    self.assertEqual(got, code, log)
                    self.assertIn("Failed (%s)" % result, log)
                    self.assertRegex(sim.control("status"), r"call=none")
                    sim.close()

    def test_not_registered_is_no_carrier(self):
        sim = self.start("--boot-delay", "0", "--reg", "denied", "--reg-delay", "0")
        sim.await_event("reg stat=3")
        code, log = self.chat(sim, os.path.join(SCRIPTS, "3gpp.chat"), "*99#", "3GNET")
        self.assertEqual(code, ABORT_EXIT["NO CARRIER"], log)

    def test_timeout(self):
        """A modem that never answers the dial (the SIM7600 +CMER trap):
        chat gives up with exit 3 once the script's TIMEOUT runs out."""
        for script, number, apn in (CASES[0], CASES[3]):
            with self.subTest(script=script):
                with open(os.path.join(SCRIPTS, script)) as f:
                    text = f.read()
                self.assertRegex(text, r"(?m)^TIMEOUT \d+$")
                short = re.sub(r"(?m)^TIMEOUT \d+$", "TIMEOUT 2", text)
                with tempfile.NamedTemporaryFile("w", suffix=".chat") as tmp:
                    tmp.write(short)
                    tmp.flush()
                    sim = self.booted_sim("--dial-result", "NONE")
                    code, log = self.chat(sim, tmp.name, number, apn)
                    self.assertEqual(code, 3, log)
                    self.assertIn("alarm", log)
                    sim.await_event("dial")
                    sim.close()

    def test_redial_after_hangup(self):
        """After the carrier drops the call, the same port dials again."""
        sim = self.booted_sim()
        script = os.path.join(SCRIPTS, "3gpp.chat")
        code, log, fd = self.chat(sim, script, "*99#", "3GNET", keep=True)
        self.addCleanup(os.close, fd)
        self.assertEqual(code, 0, log)
        sim.await_event("connect")
        self.assertEqual(sim.control("hangup"), "OK")
        sim.await_event("hangup port=ppp reason=hangup")
        # AT&C1: DCD drops, and the tty is hung up as pppd's would be
        sim.await_event("dcd-drop port=ppp")
        with self.assertRaises(OSError):
            os.write(fd, b"AT\r")
        code, log = self.chat(sim, script, "*99#", "3GNET")
        self.assertEqual(code, 0, log)
        sim.await_event("connect")


if __name__ == "__main__":
    unittest.main()
