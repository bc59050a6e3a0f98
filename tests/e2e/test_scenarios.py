#!/usr/bin/env python3
"""End-to-end simulator scenarios, one modem each, all under one modemd in
one UML boot (each scenario reports its own PASS/FAIL line):

  sim-missing   no SIM: sim-locked, reason "SIM not inserted"
  pin-right     SIM PIN required, right PIN configured: connected
  pin-wrong     wrong PIN configured: sim-locked, and the simulator shows the
                PIN tried once only (attempts not exhausted, no PUK lock)
  slow-reg      registration after 8 s: registering, then connected
  reg-denied    registration denied: the status shows denied
  no-carrier    ATD answers NO CARRIER: backoff, reason names NO CARRIER
  reset         the same modem, after 4 failed dials: modemd resets the module
                (AT+CRESET), its ports vanish and return, and it dials again
  unplug        connected, unplugged: gone and its pppd gone; replugged:
                connected again
  no-apn        PLMN in no database: no-apn, "no APN for PLMN ..."
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2elib import Carrier, Modemd, Runner, Sim, common_args, log, modemd_pppds, ping, wait_for  # noqa: E402

UNICOM = dict(imsi="460011234500011", operator="China Unicom")
REG_DELAY = 8.0
PIN = "2468"


class World:
    def __init__(self, a):
        w = a.workdir
        self.carriers = {n: Carrier(i, w) for i, n in enumerate(("pin-right", "slow-reg", "unplug"))}
        self.iccid_pin = "89860112345678900101"
        self.iccid_bad = "89860112345678900102"
        mk = Sim
        self.sims = {
            "sim-missing": mk("nosim", w, "--sim", "missing", **UNICOM),
            "pin-right": mk("pinok", w, "--sim", "pin", "--pin", PIN, iccid=self.iccid_pin,
                            carrier=self.carriers["pin-right"], **UNICOM),
            "pin-wrong": mk("pinbad", w, "--sim", "pin", "--pin", PIN, iccid=self.iccid_bad, **UNICOM),
            "slow-reg": mk("slowreg", w, "--reg-delay", str(REG_DELAY),
                           carrier=self.carriers["slow-reg"], **UNICOM),
            "reg-denied": mk("denied", w, "--reg", "denied", **UNICOM),
            "no-carrier": mk("nocarrier", w, "--dial-result", "NO CARRIER", **UNICOM),
            "unplug": mk("unplug", w, carrier=self.carriers["unplug"], **UNICOM),
            "no-apn": mk("noapn", w, imsi="999771234500019", operator="Nowhere Mobile"),
        }
        # Backoff long enough (>= 2.4 s with jitter) to be seen by polling.
        self.d = Modemd(a.build, w, list(self.sims.values()), backoff=(3000, 8000),
                        sims=[dict(iccid=self.iccid_pin, pin=PIN), dict(iccid=self.iccid_bad, pin="1357")])
        self.d.start()

    def close(self):
        if self.d:
            self.d.stop()
        for s in self.sims.values():
            s.stop()
        for c in self.carriers.values():
            c.close()


def case_sim_missing(w):
    m = w.d.wait_state("nosim", "sim-locked", 40)
    assert "SIM not inserted" in (m["reason"] or ""), m["reason"]
    assert m["sim"] == "not-inserted", m["sim"]
    assert "nosim" not in modemd_pppds().values()


def case_pin_right(w):
    m = w.d.wait_state("pinok", "connected", 60, lambda m: bool(m["local_address"]))
    assert m["sim"] == "ready", m["sim"]
    ev = w.sims["pin-right"].events("pin")
    assert [e.get("result") for e in ev] == ["ok"], f"simulator PIN events: {ev}"
    ping(w.carriers["pin-right"].local, "ppp-pinok")


def case_pin_wrong(w):
    s = w.sims["pin-wrong"]
    m = w.d.wait_state("pinbad", "sim-locked", 40)
    # Stay a while in that state (observed through state_seconds) to show
    # that modemd does not come back with the same wrong PIN.
    m = w.d.wait_state("pinbad", "sim-locked", 30, lambda m: m["state_seconds"] >= 4)
    ev = s.events("pin")
    assert len(ev) == 1 and ev[0].get("result") == "wrong", f"simulator PIN events: {ev}"
    st = s.status()
    assert st["sim"] == "pin", f"simulator SIM state {st['sim']} (PUK lock?)"
    log(f"  pinbad: {m['state']} ({m['reason']}); simulator: sim={st['sim']}, "
        f"PIN attempts left {ev[0].get('left')}")


def case_slow_reg(w):
    m = w.d.wait_state("slowreg", "connected", 60, lambda m: bool(m["local_address"]))
    states = [x.split("(")[0] for x in w.d.went_through("slowreg")]
    assert "registering" in states, f"never seen registering: {states}"
    assert states.index("registering") < states.index("connected"), states
    up = m["timing"]["link_up_ms"]
    assert up is not None and up >= REG_DELAY * 1000, f"link up after {up} ms < {REG_DELAY} s delay"
    log(f"  slowreg: link up {up} ms after appearing (registration delay {REG_DELAY:.0f} s)")


def case_reg_denied(w):
    m = w.d.wait_state("denied", ("registering", "backoff", "resetting"), 40,
                       lambda m: m["registration"] == "denied")
    assert "denied" in (m["reason"] or "") or m["state"] == "registering", m
    log(f"  denied: {m['state']} ({m['reason']}), registration={m['registration']}")
    assert "denied" not in modemd_pppds().values()


def case_no_carrier(w):
    m = w.d.wait_state("nocarrier", "backoff", 60, lambda m: "NO CARRIER" in (m["reason"] or ""))
    assert m["failures"] >= 1, m
    log(f"  nocarrier: {m['state']} ({m['reason']}), failures={m['failures']}")


def case_reset(w):
    s = w.sims["no-carrier"]
    m = w.d.wait_state("nocarrier", "resetting", 90)
    assert "AT+CRESET" in (m["reason"] or "") or "AT+CFUN" in (m["reason"] or ""), m["reason"]
    boots = len(s.events("booted"))
    s.wait_line(lambda l: l.startswith("EVENT reset"), 20, "the module reset")
    wait_for("the module to boot again", lambda: len(s.events("booted")) > boots, 60)
    # Back to work: it probes and dials again (and fails again: NO CARRIER).
    m = w.d.wait_state("nocarrier", ("probing", "registering", "dialing", "backoff"), 60,
                       lambda m: m["failures"] <= 1)
    log(f"  after reset: {m['state']} ({m['reason']}), failures={m['failures']}")


def case_unplug(w):
    s = w.sims["unplug"]
    w.d.wait_state("unplug", "connected", 60, lambda m: bool(m["local_address"]))
    s.control("unplug")
    m = w.d.wait_state("unplug", "gone", 20)
    wait_for("unplug's pppd to exit", lambda: "unplug" not in modemd_pppds().values(), 15)
    log(f"  unplugged: {m['state']} ({m['reason']})")
    s.control("replug")
    m = w.d.wait_state("unplug", "connected", 60, lambda m: bool(m["local_address"]))
    ping(w.carriers["unplug"].local, "ppp-unplug")


def case_no_apn(w):
    m = w.d.wait_state("noapn", "no-apn", 40)
    assert "no APN for PLMN 99977" in (m["reason"] or ""), m["reason"]
    assert m["apn"] is None, m["apn"]


def case_clean_exit(w):
    code = w.d.stop()
    assert code == 0, f"modemd exit code {code}"
    left = modemd_pppds()
    assert not left, f"pppd left after modemd exited: {left}"


CASES = [("sim-missing", case_sim_missing), ("pin-right", case_pin_right),
         ("pin-wrong", case_pin_wrong), ("slow-reg", case_slow_reg), ("reg-denied", case_reg_denied),
         ("no-carrier", case_no_carrier), ("reset", case_reset), ("unplug", case_unplug), ("no-apn", case_no_apn)]


def main():
    a = common_args(__doc__)
    r = Runner(a.workdir)
    cases = [c for c in CASES if not a.cases or c[0] in a.cases]
    w = None
    try:
        w = World(a)
        for name, fn in cases:
            r.run(name, fn, w)
        # The daemon survived all of that and still stops cleanly.
        r.run("clean-exit", case_clean_exit, w)
    except Exception as e:
        log(f"FAIL setup: {e}")
        r.failed += 1
    finally:
        if w:
            w.close()
    if r.failed and w:
        log("---- modemd log (info and up, tail) ----")
        log("\n".join(l for l in w.d.tail(400).splitlines() if ": debug: " not in l)[-6000:])
    return r.finish()


if __name__ == "__main__":
    sys.exit(main())
