#!/usr/bin/env python3
"""SIMCom SIM7100 simulator on ptys: an AT port and a PPP data port that both
answer AT, boot URCs, SIM/PIN, registration, dialing, and a data phase that
can be bridged to a real pppd acting as the carrier. See docs/simulator.md.

stdout carries "READY" once the port symlinks exist, then one "EVENT ..."
line per thing a test may want to await (connect, cgdcont, hangup, ...).
"""
import argparse
import os
import re
import select
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import simloop  # noqa: E402
from simport import Call, Port  # noqa: E402

CME_TEXT = {3: "operation not allowed", 4: "operation not supported", 10: "SIM not inserted",
            11: "SIM PIN required", 12: "SIM PUK required", 13: "SIM failure", 14: "SIM busy",
            16: "incorrect password", 30: "no network service", 50: "incorrect parameters",
            100: "unknown"}
REG_NAMES = {"none": 0, "home": 1, "searching": 2, "denied": 3, "unknown": 4, "roaming": 5}
DIAL_RESULTS = ["CONNECT", "NO CARRIER", "BUSY", "ERROR", "NO ANSWER", "NONE"]
ACT = {  # COPS/CREG AcT, CNSMOD mode, CPSI system mode
    "LTE": (7, 8, "LTE"), "WCDMA": (2, 4, "WCDMA"), "GSM": (0, 1, "GSM"), "CDMA": (0, 10, "CDMA"),
}
DATA_NUMBER = re.compile(r"^(\*99(\*\*\*\d{1,2})?#|\*98\*\d{1,2}#|#777)$")
SIM_CMDS = {"+CPIN", "+CIMI", "+CICCID", "+CRSM", "+SPIC", "+CNUM"}


def say(text):
    """One line on stdout, never blocking: a caller that does not read our
    stdout pipe loses events instead of freezing the modem. A pipe that polls
    writable has room for PIPE_BUF bytes, so a short line goes in whole."""
    data = (text[:500] + "\n").encode()
    p = select.poll()
    p.register(1, select.POLLOUT)
    if not any(ev & select.POLLOUT for _, ev in p.poll(0)):
        return
    try:
        os.write(1, data)
    except OSError:
        pass


def args_split(s):
    """Comma-separated AT arguments; quotes removed, commas inside quotes kept."""
    out, cur, inq = [], "", False
    for c in s:
        if c == '"':
            inq = not inq
        elif c == "," and not inq:
            out.append(cur.strip())
            cur = ""
        else:
            cur += c
    out.append(cur.strip())
    return out


def split_commands(body):
    """'E0V1+CMEE=1;+CREG=2' -> ['E0', 'V1', '+CMEE=1', '+CREG=2']; None if malformed."""
    cmds, i = [], 0
    while i < len(body):
        c = body[i].upper()
        if c in "+^$":
            j, inq = i, False
            while j < len(body) and (inq or body[j] != ";"):
                inq ^= body[j] == '"'
                j += 1
            cmds.append(body[i:j].strip())
            i = j + 1
        elif c == "D":
            cmds.append(body[i:])
            break
        elif c == "&":
            m = re.match(r"&[A-Z]\d*", body[i:], re.I)
            if not m:
                return None
            cmds.append(m.group(0))
            i += m.end()
        elif c == "S":
            m = re.match(r"S\d+(=\d*|\?)?", body[i:], re.I)
            if not m:
                return None
            cmds.append(m.group(0))
            i += m.end()
        elif c.isalpha():
            m = re.match(r"[A-Z]\d*", body[i:], re.I)
            cmds.append(m.group(0))
            i += m.end()
        elif c in " ;":
            i += 1
        else:
            return None
    return cmds


def iccid_bcd(iccid):
    """EF_ICCID as AT+CRSM shows it: digits nibble-swapped, F-padded."""
    d = iccid + ("F" if len(iccid) % 2 else "")
    return "".join(d[i + 1] + d[i] for i in range(0, len(d), 2))


class Modem:
    def __init__(self, args):
        self.args = args
        self.loop = simloop.Loop()
        self.ports = [Port(self, "at", args.at), Port(self, "ppp", args.ppp)]
        self.timers = []
        self.call = None
        self.old_calls = []
        self.cgdcont = {}
        self.pin = args.pin
        self.pin_left, self.puk_left = 3, 10
        self.sim_initial = args.sim
        self.sim = "off"
        self.dial_result = args.dial_result
        self.reg_target = REG_NAMES[args.reg]
        self.csq = args.csq
        self.present = False
        self.booted = False
        self.sim_busy = True
        self.reg = 0
        self.cfun = 1
        self.cops_format = 0

    # --- reporting --------------------------------------------------------
    def event(self, name, **kv):
        text = " ".join(["EVENT", name] + ["%s=%s" % (k, v) for k, v in kv.items()])
        say(text)

    def trace(self, port, direction, data):
        if self.args.verbose:
            sys.stderr.write("sim %s %s %r\n" % (port, direction, data))

    # --- power --------------------------------------------------------------
    def later(self, delay, cb):
        t = self.loop.call_later(delay, cb)
        self.timers.append(t)
        self.timers = [x for x in self.timers if not x.cancelled]
        return t

    def plug(self):
        if self.present:
            return False
        for p in self.ports:
            p.reset_settings()
            p.plug()
        self.present = True
        self.booted = False
        self.sim_busy = True
        self.sim = "off"
        self.reg = 0
        self.cfun = 1
        self.event("plug", at=self.ports[0].path, ppp=self.ports[1].path)
        self.later(self.args.boot_delay, self._boot_rdy)
        return True

    def unplug(self):
        if not self.present:
            return False
        self.end_call("unplug")
        for t in self.timers:
            t.cancel()
        self.timers = []
        for p in self.ports:
            p.unplug()
        self.present = False
        self.booted = False
        self.event("unplug")
        return True

    def reset(self):
        """AT+CRESET / AT+CFUN=1,1: the USB device goes away and comes back."""
        self.event("reset")
        self.later(0.1, self.unplug)
        self.loop.call_later(0.1 + self.args.reset_time, self.plug)

    def _boot_rdy(self):
        self.booted = True
        self.urc_all("RDY")
        if self.sim_initial == "missing":
            self.sim = "missing"
            self.event("booted", sim="missing")
            return
        if self.sim_initial == "puk" or (self.sim_initial == "pin" and self.puk_left and
                                         self.pin_left == 0):
            self.sim = "puk"
            self.urc_all("+CPIN: SIM PUK")
            self.event("booted", sim="puk")
            return
        if self.sim_initial == "pin":
            self.sim = "pin"
            self.urc_all("+CPIN: SIM PIN")
            self.event("booted", sim="pin")
            return
        self._sim_unlocked()

    def _sim_unlocked(self):
        """SIM ready: the card is read (busy) until PB DONE, then registration."""
        self.sim = "ready"
        self.sim_busy = True
        step = self.args.sim_delay / 3
        self.later(step * 0, lambda: self.urc_all("+CPIN: READY"))
        self.later(step * 1, lambda: self.urc_all("SMS DONE"))
        self.later(step * 2, self._pb_done)

    def _pb_done(self):
        self.sim_busy = False
        self.urc_all("PB DONE")
        self.event("booted", sim="ready")
        self._start_registration()

    def _start_registration(self):
        if self.cfun != 1 or self.sim != "ready" or self.sim_busy:
            return
        if self.args.reg_delay > 0:
            self.set_reg(2)
            self.later(self.args.reg_delay, lambda: self.set_reg(self.reg_target))
        else:
            self.set_reg(self.reg_target)

    # --- network ----------------------------------------------------------
    def registered(self):
        return self.reg in (1, 5)

    def set_reg(self, stat):
        if stat == self.reg:
            return
        self.reg = stat
        self.event("reg", stat=stat)
        for p in self.ports:
            for name, n in p.urc_mode.items():
                if n == 1 or (n == 2 and not self.registered()):
                    p.urc("+%s: %d" % (name, stat))
                elif n == 2:
                    p.urc("+%s: %d,%s" % (name, stat, self.loc(name)))

    def loc(self, name):
        act = ACT[self.args.act][0]
        if name == "CEREG":
            return '"1A2B","01C2D3E4",%d' % act
        return '"1A2B","01C2D3E4"'

    def urc_all(self, text):
        for p in self.ports:
            if p.present:
                p.urc(text)

    # --- calls ------------------------------------------------------------
    def end_call(self, why):
        call, self.call = self.call, None
        if call is None:
            return
        port = call.port
        was_data = port.mode == "data"
        port.mode = "cmd"
        call.stop()
        if call.proc is not None and call.proc.returncode is None:
            self.old_calls.append(call)  # reaped (and forgotten) when it exits
        self.event("hangup", port=port.name, reason=why)
        if why in ("hangup", "carrier-exit") and port.present:
            port.result("NO CARRIER")
            if was_data:
                port.hangup_line()

    def dial(self, port, number):
        number = number.strip()
        if number[:1] in ("T", "t", "P", "p"):
            number = number[1:]  # ATDT / ATDP: tone or pulse, meaningless here
        if number.endswith(";"):
            return port.done([], "ERROR")  # no voice calls on this SIM7100
        if not number:
            return port.done([], "ERROR")
        self.event("dial", port=port.name, number=number)
        if self.call is not None:
            return port.done([], "ERROR")
        result = self.dial_result
        if not DATA_NUMBER.match(number) or not self.registered() or self.cfun != 1:
            result = "NO CARRIER"
        if result == "NONE":
            port.dialing = True  # the SIM7600 +CMER trap: never answers
            return
        if result != "CONNECT":
            self.event("dial-failed", port=port.name, result=result.replace(" ", "_"))
            return port.done([], result, delay=self.args.dial_delay)

        def connected():
            port.dialing = None
            if not port.present:
                return
            self.call = Call(self, port, number)
            port.busy = False
            port.result("CONNECT 150000000")
            port.enter_data()
            self.event("connect", port=port.name, number=number)
            self.call.start(self.args.carrier_cmd)
        port.dialing = self.loop.call_later(self.args.dial_delay, connected)

    # --- AT commands ------------------------------------------------------
    def cme(self, port, code):
        if port.cmee == 1:
            return "+CME ERROR: %d" % code
        if port.cmee == 2:
            return "+CME ERROR: %s" % CME_TEXT.get(code, "unknown")
        return "ERROR"

    def execute(self, port, line):
        self.trace(port.name, "cmd", line)
        body = line[2:]
        cmds = split_commands(body)
        if cmds is None:
            return port.done([], "ERROR")
        info = []
        for cmd in cmds:
            if cmd[0] in "dD":
                if info:
                    for ln in info:
                        port.line(ln)
                return self.dial(port, cmd[1:])
            res = self.one(port, cmd, info)
            if res == "reset":
                port.done(info, "OK")
                self.reset()
                return None
            if res == "ath":
                self.end_call("ath")
                res = "OK"
            elif res == "ato":
                if self.call is not None and self.call.port is port:
                    port.done(info, "CONNECT 150000000")
                    port.enter_data()
                    return None
                res = "NO CARRIER"
            if res != "OK":
                return port.done(info, res if isinstance(res, str) else self.cme(port, res))
        return port.done(info, "OK")

    def one(self, port, cmd, info):
        """Run one command; append information lines to info; return 'OK',
        'ERROR', another final result, or an int CME error code."""
        up = cmd.upper()
        if not up.startswith(("+", "^", "$")):
            return self.basic(port, up, info)
        m = re.match(r"([+^$][A-Z0-9]+)(=\?|\?|=)?(.*)$", cmd, re.I)
        if not m:
            return "ERROR"
        name, op, rest = m.group(1).upper(), m.group(2) or "", m.group(3)
        if name in SIM_CMDS:
            if self.sim == "missing":
                return 10
            if self.sim_busy and self.sim == "ready":
                return 14
        fn = getattr(self, "at_" + name[1:].lower(), None)
        if fn is None:
            return "ERROR"
        if op == "=?":
            return "OK"
        return fn(port, op, args_split(rest) if op == "=" else [], info)

    def basic(self, port, cmd, info):
        letter, num = cmd[0], cmd[1:]
        val = int(num) if num.isdigit() else 0
        if letter == "E" and val in (0, 1):
            port.echo = val == 1
        elif letter == "V" and val in (0, 1):
            port.verbose = val == 1
        elif letter == "Z":
            port.reset_settings()
        elif cmd == "&F":
            port.reset_settings()
        elif letter == "&" and cmd[1:2] == "C" and val in (0, 1):
            port.dcd = val
        elif letter == "I":
            info.extend(["Manufacturer: SIMCOM INCORPORATED", "Model: " + self.args.model,
                         "Revision: " + self.args.revision, "IMEI: " + self.args.imei, "+GCAP: +CGSM"])
        elif letter == "H":
            return "ath"
        elif letter == "O":
            return "ato"
        elif letter in "QXLM" or cmd[:2] in ("&D", "&K", "&W", "&V") or letter == "S":
            pass  # accepted and ignored
        else:
            return "ERROR"
        return "OK"

    def at_cmee(self, port, op, a, info):
        if op == "?":
            info.append("+CMEE: %d" % port.cmee)
        elif op == "=" and a[0] in ("0", "1", "2"):
            port.cmee = int(a[0])
        else:
            return "ERROR"
        return "OK"

    def at_cgmi(self, port, op, a, info):
        info.append("SIMCOM INCORPORATED")
        return "OK"

    def at_cgmm(self, port, op, a, info):
        info.append(self.args.model)
        return "OK"

    def at_cgmr(self, port, op, a, info):
        info.append("+CGMR: " + self.args.revision)
        return "OK"

    def at_cgsn(self, port, op, a, info):
        info.append(self.args.imei)
        return "OK"

    at_gsn = at_cgsn

    def at_cimi(self, port, op, a, info):
        if self.sim != "ready":
            return 11 if self.sim == "pin" else 12
        info.append(self.args.imsi)
        return "OK"

    def at_ciccid(self, port, op, a, info):
        info.append("+ICCID: " + self.args.iccid)
        return "OK"

    def at_crsm(self, port, op, a, info):
        if op != "=" or len(a) < 2 or a[0] != "176" or a[1] != "12258":
            return 4  # only EF_ICCID is simulated
        info.append('+CRSM: 144,0,"%s"' % iccid_bcd(self.args.iccid))
        return "OK"

    def at_spic(self, port, op, a, info):
        info.append("+SPIC: %d,%d,3,10" % (self.pin_left, self.puk_left))
        return "OK"

    def at_cpin(self, port, op, a, info):
        if op == "?":
            state = {"ready": "READY", "pin": "SIM PIN", "puk": "SIM PUK"}[self.sim]
            info.append("+CPIN: " + state)
            return "OK"
        if op != "=" or not a[0]:
            return "ERROR"
        if self.sim == "pin":
            if a[0] == self.pin:
                self.pin_left = 3
                self.event("pin", result="ok")
                self._sim_unlocked()
                return "OK"
            self.pin_left -= 1
            self.event("pin", result="wrong", left=self.pin_left)
            if self.pin_left == 0:
                self.sim = "puk"
                self.loop.call_later(0.05, lambda: self.urc_all("+CPIN: SIM PUK"))
            return 16
        if self.sim == "puk":
            if len(a) < 2:
                return 12
            if a[0] == self.args.puk:
                self.pin, self.pin_left, self.puk_left = a[1], 3, 10
                self.event("puk", result="ok")
                self._sim_unlocked()
                return "OK"
            self.puk_left = max(0, self.puk_left - 1)
            return 16
        return 3

    def at_csq(self, port, op, a, info):
        info.append("+CSQ: %d,99" % (self.csq if self.registered() else 99))
        return "OK"

    def at_cpsi(self, port, op, a, info):
        if not self.registered():
            info.append("+CPSI: NO SERVICE,Online")
            return "OK"
        plmn = self.args.plmn
        mccmnc = "%s-%s" % (plmn[:3], plmn[3:])
        mode = ACT[self.args.act][2]
        rssi = -113 + 2 * min(self.csq, 31)
        if mode == "LTE":
            rsrp = (rssi - 20) * 10
            info.append("+CPSI: LTE,Online,%s,0x1A2B,30073092,256,EUTRAN-BAND3,1650,5,5,-94,%d,%d,15"
                        % (mccmnc, rsrp, rssi * 10))
        elif mode == "WCDMA":
            info.append("+CPSI: WCDMA,Online,%s,0x1A2B,30073092,WCDMA IMT 2000,10713,297,0,"
                        "6.5,%d,24,21" % (mccmnc, rssi))
        else:
            info.append("+CPSI: %s,Online,%s,0x1A2B,12345,34 EGSM 900,%d,0,40-40"
                        % (mode, mccmnc, rssi))
        return "OK"

    def at_cnsmod(self, port, op, a, info):
        info.append("+CNSMOD: 0,%d" % (ACT[self.args.act][1] if self.registered() else 0))
        return "OK"

    def at_cnmp(self, port, op, a, info):
        if op == "?":
            info.append("+CNMP: 2")
        return "OK"

    def at_cmer(self, port, op, a, info):
        return "OK"

    def at_cops(self, port, op, a, info):
        if op == "=":
            if a[0] == "3" and len(a) > 1 and a[1] in ("0", "1", "2"):
                self.cops_format = int(a[1])
                return "OK"
            return "OK" if a[0] in ("0", "2") else 4
        if not self.registered():
            info.append("+COPS: 0")
            return "OK"
        name = self.args.plmn if self.cops_format == 2 else self.args.operator
        info.append('+COPS: 0,%d,"%s",%d' % (self.cops_format, name, ACT[self.args.act][0]))
        return "OK"

    def _reg_cmd(self, name, port, op, a, info):
        if op == "=":
            if a[0] not in ("0", "1", "2"):
                return "ERROR"
            port.urc_mode[name] = int(a[0])
            return "OK"
        n = port.urc_mode[name]
        if n == 2 and self.registered():
            info.append("+%s: %d,%d,%s" % (name, n, self.reg, self.loc(name)))
        else:
            info.append("+%s: %d,%d" % (name, n, self.reg))
        return "OK"

    def at_creg(self, port, op, a, info):
        return self._reg_cmd("CREG", port, op, a, info)

    def at_cgreg(self, port, op, a, info):
        return self._reg_cmd("CGREG", port, op, a, info)

    def at_cereg(self, port, op, a, info):
        return self._reg_cmd("CEREG", port, op, a, info)

    def at_cgdcont(self, port, op, a, info):
        if op == "?":
            for cid in sorted(self.cgdcont):
                pdp, apn = self.cgdcont[cid]
                info.append('+CGDCONT: %d,"%s","%s","0.0.0.0",0,0' % (cid, pdp, apn))
            return "OK"
        if op != "=" or not a[0].isdigit() or not 1 <= int(a[0]) <= 24:
            return "ERROR"
        cid = int(a[0])
        if len(a) == 1:
            self.cgdcont.pop(cid, None)
            return "OK"
        pdp = a[1].upper()
        apn = a[2] if len(a) > 2 else ""
        if pdp not in ("IP", "IPV6", "IPV4V6", "PPP") or len(apn) > 99:
            return "ERROR"
        self.cgdcont[cid] = (pdp, apn)
        self.event("cgdcont", cid=cid, type=pdp, apn=apn or '""')
        return "OK"

    def at_cgatt(self, port, op, a, info):
        if op == "?":
            info.append("+CGATT: %d" % (1 if self.registered() else 0))
        return "OK"

    def at_cfun(self, port, op, a, info):
        if op == "?":
            info.append("+CFUN: %d" % self.cfun)
            return "OK"
        if op != "=" or a[0] not in ("0", "1", "4"):
            return "ERROR"
        if len(a) > 1 and a[1] == "1":
            return "reset"
        self.cfun = int(a[0])
        if self.cfun == 1:
            self._start_registration()
        else:
            self.end_call("cfun")
            self.set_reg(0)
        return "OK"

    def at_creset(self, port, op, a, info):
        return "reset"

    def at_ipr(self, port, op, a, info):
        if op == "?":
            info.append("+IPR: 115200")
        return "OK"

    at_ifc = at_cmer


class Control:
    """Unix stream socket; one line per request, one line per reply."""

    def __init__(self, modem, path):
        self.modem = modem
        self.path = path
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_NONBLOCK)
        self.sock.bind(path)
        self.sock.listen(4)
        modem.loop.add(self.sock.fileno(), select.POLLIN, self._accept)
        self.clients = {}

    def _accept(self, ev):
        try:
            c, _ = self.sock.accept()
        except OSError:
            return
        if len(self.clients) >= 16:
            c.close()
            return
        c.setblocking(False)
        self.clients[c.fileno()] = (c, [b""])
        self.modem.loop.add(c.fileno(), select.POLLIN, lambda ev, c=c: self._read(c))

    def _drop(self, c):
        self.modem.loop.remove(c.fileno())
        self.clients.pop(c.fileno(), None)
        c.close()

    def _read(self, c):
        try:
            data = c.recv(1024)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            return self._drop(c)
        buf = self.clients[c.fileno()][1]
        buf[0] += data
        while b"\n" in buf[0]:
            line, buf[0] = buf[0].split(b"\n", 1)
            reply = self.command(line.decode("utf-8", "replace").strip())
            try:
                c.sendall(reply.encode() + b"\n")
            except OSError:
                return self._drop(c)
        if len(buf[0]) > 1024:
            self._drop(c)

    def command(self, line):
        m = self.modem
        words = line.split(None, 1)
        if not words:
            return "ERR empty"
        verb, arg = words[0], (words[1] if len(words) > 1 else "")
        if verb == "hangup":
            if m.call is None:
                return "ERR no call"
            m.end_call("hangup")
        elif verb == "unplug":
            if not m.unplug():
                return "ERR not plugged"
        elif verb == "replug":
            m.unplug()
            m.plug()
        elif verb == "reg":
            stat = REG_NAMES.get(arg, int(arg) if arg.isdigit() and int(arg) <= 5 else None)
            if stat is None:
                return "ERR reg wants home|roaming|denied|searching|unknown|none or 0-5"
            m.reg_target = stat
            if m.sim == "ready" and not m.sim_busy:
                m.set_reg(stat)
        elif verb == "csq":
            if not arg.isdigit() or not (int(arg) <= 31 or int(arg) == 99):
                return "ERR csq wants 0-31 or 99"
            m.csq = int(arg)
        elif verb == "dial-result":
            res = arg.upper().replace("-", " ").replace("_", " ")
            if res not in DIAL_RESULTS:
                return "ERR dial-result wants one of " + "|".join(DIAL_RESULTS)
            m.dial_result = res
        elif verb == "status":
            call = "none" if m.call is None else "%s:%s" % (m.call.port.name, m.call.port.mode)
            return "OK present=%d booted=%d sim=%s sim_busy=%d reg=%d csq=%d call=%s apn=%s" % (
                m.present, m.booted, m.sim, m.sim_busy, m.reg, m.csq, call,
                m.cgdcont.get(1, ("", '""'))[1] or '""')
        else:
            return "ERR unknown command " + verb
        return "OK"

    def close(self):
        self.sock.close()
        try:
            os.unlink(self.path)
        except OSError:
            pass


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--at", required=True, help="symlink to create for the AT port")
    p.add_argument("--ppp", required=True, help="symlink to create for the PPP data port")
    p.add_argument("--control", help="unix socket for hangup/unplug/replug/reg/csq/status")
    p.add_argument("--ready-file", help="also create this file once the ports exist")
    p.add_argument("--imsi", default="460011234567890")
    p.add_argument("--iccid", default="89860112345678901234")
    p.add_argument("--imei", default="861234567890123")
    p.add_argument("--operator", default="China Unicom")
    p.add_argument("--plmn", default=None, help="MCC+MNC; default: from the IMSI (MNC 2 digits)")
    p.add_argument("--model", default="SIMCOM_SIM7100C")
    p.add_argument("--revision", default="4534B03SIM7100C")
    p.add_argument("--sim", choices=["ready", "missing", "pin", "puk"], default="ready")
    p.add_argument("--pin", default="1234")
    p.add_argument("--puk", default="12345678")
    p.add_argument("--reg", choices=list(REG_NAMES), default="home")
    p.add_argument("--reg-delay", type=float, default=0.5, help="seconds searching before --reg")
    p.add_argument("--dial-result", default="CONNECT", type=lambda s: s.upper().replace("_", " "),
                   choices=DIAL_RESULTS)
    p.add_argument("--dial-delay", type=float, default=0.3)
    p.add_argument("--boot-delay", type=float, default=1.0, help="seconds until RDY")
    p.add_argument("--sim-delay", type=float, default=0.6, help="seconds from RDY to PB DONE")
    p.add_argument("--reset-time", type=float, default=2.0, help="seconds the ports are gone")
    p.add_argument("--cmd-delay", type=float, default=0.02, help="seconds to answer a command")
    p.add_argument("--guard", type=float, default=1.0, help="+++ escape guard time")
    p.add_argument("--act", choices=list(ACT), default="LTE")
    p.add_argument("--csq", type=int, default=20)
    p.add_argument("--carrier-cmd", help="sh command run per call; gets $CARRIER_TTY")
    p.add_argument("-v", "--verbose", action="store_true", help="trace AT traffic on stderr")
    a = p.parse_args(argv)
    if a.plmn is None:
        a.plmn = a.imsi[:5]
    return a


def main(argv):
    args = parse_args(argv)
    modem = Modem(args)
    control = None

    def stop(sig, frame):
        raise SystemExit(0)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        if args.control:
            control = Control(modem, args.control)
        modem.plug()
        say("READY")
        if args.ready_file:
            with open(args.ready_file, "w") as f:
                f.write("%s %s\n" % (modem.ports[0].path, modem.ports[1].path))
        modem.loop.run()
    finally:
        modem.unplug()
        if control:
            control.close()
        # give carriers a moment to go, then make sure they are gone
        deadline = time.monotonic() + 2
        for c in [x for x in [modem.call] if x] + modem.old_calls:
            if c.proc and c.proc.poll() is None and time.monotonic() < deadline:
                try:
                    c.proc.wait(max(0, deadline - time.monotonic()))
                except Exception:
                    c._signal(signal.SIGKILL)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
