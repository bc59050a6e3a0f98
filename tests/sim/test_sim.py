#!/usr/bin/env python3
"""Self-tests of the SIM7100 simulator: what a client on its ports sees."""
import os
import time
import unittest

from simtest import SimCase

OK = "\r\nOK\r\n"


class Boot(SimCase):
    def test_boot_urcs_and_echo(self):
        # boot delay long enough to open the port first: a closed port drops output
        sim = self.start("--boot-delay", "1", "--sim-delay", "0.3")
        at = self.open(sim.at)
        ppp = self.open(sim.ppp)
        for port in (at, ppp):
            got = port.read_until("PB DONE\r\n", 10)
            self.assertEqual(got, "\r\nRDY\r\n\r\n+CPIN: READY\r\n\r\nSMS DONE\r\n\r\nPB DONE\r\n")
        # echo is on until ATE0, per port
        self.assertEqual(at.cmd("AT"), "AT\r" + OK)
        self.assertEqual(at.cmd("ATE0"), "ATE0\r" + OK)
        self.assertEqual(at.cmd("AT"), OK)
        self.assertEqual(ppp.cmd("AT"), "AT\r" + OK)
        # ATZ restores the profile: echo on again
        self.assertEqual(at.cmd("ATZ"), OK)
        self.assertEqual(at.cmd("AT"), "AT\r" + OK)

    def test_identity_and_signal(self):
        sim = self.start("--boot-delay", "0", "--sim-delay", "0.1", "--reg-delay", "0",
                         "--imsi", "460030912121001", "--iccid", "8986031234567890123",
                         "--operator", "China Telecom", "--act", "CDMA", "--csq", "17")
        at = self.open(sim.at)
        sim.await_event("reg stat=1")
        at.cmd("ATE0")
        self.assertEqual(at.cmd("AT+CGMI"), "\r\nSIMCOM INCORPORATED\r\n" + OK)
        self.assertIn("+CGMR: ", at.cmd("AT+CGMR"))
        self.assertEqual(at.cmd("AT+CGSN"), "\r\n861234567890123\r\n" + OK)
        self.assertEqual(at.cmd("AT+CIMI"), "\r\n460030912121001\r\n" + OK)
        self.assertEqual(at.cmd("AT+CICCID"), "\r\n+ICCID: 8986031234567890123\r\n" + OK)
        self.assertEqual(at.cmd("AT+CRSM=176,12258,0,0,10"),
                         '\r\n+CRSM: 144,0,"986830214365870921F3"\r\n' + OK)
        self.assertEqual(at.cmd("AT+CSQ"), "\r\n+CSQ: 17,99\r\n" + OK)
        self.assertEqual(at.cmd("AT+COPS=3,2;+COPS?"), '\r\n+COPS: 0,2,"46003",0\r\n' + OK)
        self.assertEqual(at.cmd("AT+COPS=3,0;+COPS?"),
                         '\r\n+COPS: 0,0,"China Telecom",0\r\n' + OK)
        self.assertIn("+CPSI: CDMA,Online,460-03,", at.cmd("AT+CPSI?"))
        self.assertEqual(sim.control("csq 5"), "OK")
        self.assertEqual(at.cmd("AT+CSQ"), "\r\n+CSQ: 5,99\r\n" + OK)
        self.assertEqual(at.cmd("AT+FOO"), "\r\nERROR\r\n")
        self.assertEqual(at.cmd("ATV0", "0\r"), "0\r")
        self.assertEqual(at.cmd("AT+FOO", "4\r"), "4\r")

    def test_cgdcont_stored(self):
        sim = self.start("--boot-delay", "0", "--sim-delay", "0.1")
        at = self.open(sim.at)
        sim.await_event("booted")
        at.cmd("ATE0")
        self.assertEqual(at.cmd('AT+CGDCONT=1,"IP","3gnet"'), OK)
        self.assertEqual(sim.await_event("cgdcont"), "EVENT cgdcont cid=1 type=IP apn=3gnet")
        self.assertEqual(at.cmd("AT+CGDCONT?"),
                         '\r\n+CGDCONT: 1,"IP","3gnet","0.0.0.0",0,0\r\n' + OK)

    def test_sim_busy_before_pb_done(self):
        sim = self.start("--boot-delay", "0.5", "--sim-delay", "3", "--cmd-delay", "0")
        at = self.open(sim.at)
        at.read_until("+CPIN: READY\r\n", 5)
        self.assertEqual(at.cmd("ATE0;+CMEE=1"), "ATE0;+CMEE=1\r" + OK)
        self.assertEqual(at.cmd("AT+CIMI"), "\r\n+CME ERROR: 14\r\n")
        at.read_until("PB DONE\r\n", 5)
        self.assertEqual(at.cmd("AT+CIMI"), "\r\n460011234567890\r\n" + OK)


class Sim(SimCase):
    def booted(self, *opts):
        sim = self.start("--boot-delay", "0", "--sim-delay", "0.1", "--reg-delay", "0", *opts)
        at = self.open(sim.at)
        sim.await_event("booted")
        at.cmd("ATE0")
        return sim, at

    def test_missing(self):
        sim, at = self.booted("--sim", "missing")
        at.cmd("AT+CMEE=1")
        self.assertEqual(at.cmd("AT+CPIN?"),
                         "\r\n+CME ERROR: 10\r\n")
        self.assertEqual(at.cmd("AT+CMEE=2;+CIMI"), "\r\n+CME ERROR: SIM not inserted\r\n")

    def test_pin_ok(self):
        sim, at = self.booted("--sim", "pin", "--pin", "4321")
        at.cmd("AT+CMEE=1")
        self.assertEqual(at.cmd("AT+CPIN?"), "\r\n+CPIN: SIM PIN\r\n" + OK)
        self.assertEqual(at.cmd("AT+CIMI"), "\r\n+CME ERROR: 11\r\n")
        self.assertEqual(at.cmd("AT+CICCID"), "\r\n+ICCID: 89860112345678901234\r\n" + OK)
        self.assertEqual(at.cmd('AT+CPIN="4321"'), OK)
        at.read_until("PB DONE\r\n")
        sim.await_event("reg stat=1")
        self.assertEqual(at.cmd("AT+CPIN?"), "\r\n+CPIN: READY\r\n" + OK)

    def test_wrong_pin_three_times_is_puk(self):
        sim, at = self.booted("--sim", "pin")
        at.cmd("AT+CMEE=1")
        for left in (2, 1, 0):
            self.assertEqual(at.cmd('AT+CPIN="0000"'), "\r\n+CME ERROR: 16\r\n")
            self.assertEqual(sim.await_event("pin"), "EVENT pin result=wrong left=%d" % left)
            self.assertEqual(at.cmd("AT+SPIC"), "\r\n+SPIC: %d,10,3,10\r\n" % left + OK)
        at.read_until("+CPIN: SIM PUK\r\n")
        self.assertEqual(at.cmd("AT+CPIN?"), "\r\n+CPIN: SIM PUK\r\n" + OK)
        # even the right PIN is no use now
        self.assertEqual(at.cmd('AT+CPIN="1234"'), "\r\n+CME ERROR: 12\r\n")
        self.assertEqual(at.cmd('AT+CPIN="12345678","5555"'), OK)
        at.read_until("PB DONE\r\n")
        self.assertEqual(at.cmd("AT+CPIN?"), "\r\n+CPIN: READY\r\n" + OK)

    def test_puk_at_boot(self):
        sim, at = self.booted("--sim", "puk")
        self.assertEqual(at.cmd("AT+CPIN?"), "\r\n+CPIN: SIM PUK\r\n" + OK)


class Registration(SimCase):
    def test_denied(self):
        sim = self.start("--boot-delay", "0", "--sim-delay", "0.1", "--reg", "denied",
                         "--reg-delay", "0.5")
        at = self.open(sim.at)
        sim.await_event("booted")
        at.cmd("ATE0;+CREG=1;+CEREG=2")
        at.read_until("+CREG: 3\r\n", 5)
        at.read_until("+CEREG: 3\r\n", 5)
        self.assertEqual(at.cmd("AT+CREG?;+CGREG?"), "\r\n+CREG: 1,3\r\n\r\n+CGREG: 0,3\r\n" + OK)
        self.assertEqual(at.cmd("AT+COPS?"), "\r\n+COPS: 0\r\n" + OK)
        self.assertEqual(at.cmd("ATD*99#"), "\r\nNO CARRIER\r\n")
        # the network lets us in after all
        self.assertEqual(sim.control("reg home"), "OK")
        at.read_until('+CEREG: 1,"1A2B","01C2D3E4",7\r\n')
        self.assertEqual(at.cmd("AT+CEREG?"), '\r\n+CEREG: 2,1,"1A2B","01C2D3E4",7\r\n' + OK)

    def test_slow_registration(self):
        sim = self.start("--boot-delay", "0", "--sim-delay", "0.1", "--reg-delay", "1",
                         "--reg", "roaming")
        at = self.open(sim.at)
        sim.await_event("reg stat=2")
        at.cmd("ATE0")
        self.assertEqual(at.cmd("AT+CGREG?"), "\r\n+CGREG: 0,2\r\n" + OK)
        sim.await_event("reg stat=5", 5)
        self.assertEqual(at.cmd("AT+CGREG?"), "\r\n+CGREG: 0,5\r\n" + OK)


class Power(SimCase):
    def vanish_and_return(self, sim, at, command):
        old = os.readlink(sim.at)
        self.assertEqual(at.cmd(command), command + "\r" + OK)
        sim.await_event("unplug")
        self.assertFalse(os.path.lexists(sim.at))
        self.assertFalse(os.path.lexists(sim.ppp))
        with self.assertRaises(AssertionError):  # our open port hangs up
            at.read_until("never", 2)
        sim.await_event("plug", 5)
        self.assertTrue(os.path.exists(sim.at) and os.path.exists(sim.ppp))
        at2 = self.open(sim.at)
        self.assertEqual(at2.read_until("PB DONE\r\n", 5)[:9], "\r\nRDY\r\n\r\n")
        self.assertEqual(at2.cmd("AT"), "AT\r" + OK)  # echo on again after boot
        return old

    def test_creset(self):
        sim = self.start("--boot-delay", "0.5", "--sim-delay", "0.1", "--reset-time", "0.5")
        at = self.open(sim.at)
        at.read_until("PB DONE\r\n")
        self.vanish_and_return(sim, at, "AT+CRESET")

    def test_cfun_reset(self):
        sim = self.start("--boot-delay", "0.5", "--sim-delay", "0.1", "--reset-time", "0.5")
        at = self.open(sim.at)
        at.read_until("PB DONE\r\n")
        self.vanish_and_return(sim, at, "AT+CFUN=1,1")

    def test_unplug_replug(self):
        sim = self.start("--boot-delay", "0", "--sim-delay", "0.1")
        sim.await_event("booted")
        self.assertEqual(sim.control("unplug"), "OK")
        self.assertFalse(os.path.lexists(sim.at))
        self.assertEqual(sim.control("unplug"), "ERR not plugged")
        self.assertEqual(sim.control("replug"), "OK")
        self.assertTrue(os.path.exists(sim.at))
        self.assertIn("present=1", sim.control("status"))


class DataPhase(SimCase):
    def connected(self, *opts, carrier=None):
        sim = self.start("--boot-delay", "0", "--sim-delay", "0.1", "--reg-delay", "0",
                         "--guard", "0.3", *opts, carrier_cmd=carrier)
        ppp = self.open(sim.ppp)
        sim.await_event("reg stat=1")
        ppp.cmd("ATE0")
        self.assertEqual(ppp.cmd("ATD*99***1#", "CONNECT 150000000\r\n"),
                         "\r\nCONNECT 150000000\r\n")
        sim.await_event("connect")
        return sim, ppp

    def test_escape_and_ath(self):
        sim, ppp = self.connected()
        time.sleep(0.35)  # +++ is only an escape after the guard time of silence
        ppp.send("+++")
        self.assertEqual(ppp.read_until(OK, 3), OK)
        sim.await_event("escape")
        self.assertEqual(ppp.cmd("ATO", "CONNECT 150000000\r\n"), "\r\nCONNECT 150000000\r\n")
        time.sleep(0.35)
        ppp.send("+++")
        ppp.read_until(OK, 3)
        self.assertEqual(ppp.cmd("ATH"), OK)
        self.assertEqual(sim.await_event("hangup"), "EVENT hangup port=ppp reason=ath")

    def test_at_port_answers_during_call(self):
        sim, ppp = self.connected()
        at = self.open(sim.at)
        self.assertEqual(at.cmd("AT+CSQ"), "AT+CSQ\r\r\n+CSQ: 20,99\r\n" + OK)
        self.assertEqual(at.cmd("ATD*99#"), "ATD*99#\r\r\nERROR\r\n")

    def test_carrier_bridge(self):
        """Bytes go both ways between the data port and the carrier's tty;
        the carrier exiting ends the call with NO CARRIER."""
        carrier = ('printf hello-from-carrier >"$CARRIER_TTY"; '
                   'head -c 5 <"$CARRIER_TTY" >/dev/null')
        sim, ppp = self.connected(carrier=carrier)
        sim.await_event("carrier-start")
        ppp.read_until("hello-from-carrier")
        ppp.send("12345")
        self.assertEqual(sim.await_event("carrier-exit"), "EVENT carrier-exit code=0")
        self.assertEqual(ppp.read_until("NO CARRIER\r\n"), "\r\nNO CARRIER\r\n")
        sim.await_event("hangup port=ppp reason=carrier-exit")

    def test_hangup_kills_carrier(self):
        sim, ppp = self.connected("--reg-delay", "0", carrier="exec sleep 60")
        sim.await_event("carrier-start")
        self.assertEqual(sim.control("hangup"), "OK")
        self.assertEqual(ppp.read_until("NO CARRIER\r\n"), "\r\nNO CARRIER\r\n")
        self.assertEqual(sim.await_event("carrier-exit"), "EVENT carrier-exit code=-15")
        self.assertEqual(sim.control("hangup"), "ERR no call")


if __name__ == "__main__":
    unittest.main()
