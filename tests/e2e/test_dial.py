#!/usr/bin/env python3
"""End-to-end: three simulated modems on the seed carriers, real chat + pppd,
one modemd. Run inside UML (see tests/e2e/tests.cmake):

  connect   all three reach "connected" with addresses; ping each carrier
            through its ppp-mN interface
  hangup    a carrier hangs up: that modem backs off and reconnects by itself
            (redials == 1); the others keep their link (same pppd, no redial)
  down-up   `mpctl down m1`: state down, its pppd gone; `mpctl up m1`:
            connected again
  sigterm   SIGTERM: modemd exits 0 and no pppd is left
"""
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2elib import (SEED, Carrier, Modemd, Runner, Sim, all_pppds, common_args, log,  # noqa: E402
                    modemd_pppds, ping, wait_for)

CONNECT_TIMEOUT = 60


def connected_with_address(m):
    return bool(m.get("local_address")) and bool(m.get("ifname"))


class World:
    def __init__(self, a):
        self.a = a
        self.carriers, self.sims = [], []
        for i, c in enumerate(SEED):
            car = Carrier(i, a.workdir, auth=c["auth"])
            self.carriers.append(car)
            self.sims.append(Sim(f"m{i}", a.workdir, "--act", c["act"], carrier=car,
                                 imsi=c["imsi"], operator=c["operator"]))
        # Backoff long enough (>= 2.4 s with jitter) to be seen by polling.
        self.d = Modemd(a.build, a.workdir, self.sims, backoff=(3000, 8000))
        self.d.start()

    def close(self):
        if self.d:
            self.d.stop()
        for s in self.sims:
            s.stop()
        for c in self.carriers:
            c.close()


def case_connect(w):
    for i, c in enumerate(SEED):
        m = w.d.wait_state(f"m{i}", "connected", CONNECT_TIMEOUT, connected_with_address)
        assert m["plmn"] == c["plmn"], f"m{i}: plmn {m['plmn']} != {c['plmn']}"
        assert m["ifname"] == f"ppp-m{i}", f"m{i}: ifname {m['ifname']}"
        car = w.carriers[i]
        assert m["local_address"] == car.peer, f"m{i}: local {m['local_address']} != {car.peer}"
        assert m["apn"] and m["apn"]["number"], f"m{i}: no APN profile: {m['apn']}"
        log(f"  m{i}: {m['operator']}/{m['plmn']} apn={m['apn']['apn']!r} number={m['apn']['number']} "
            f"{m['ifname']} {m['local_address']} -> {m.get('remote_address')} "
            f"pppd_started={m['timing']['pppd_started_ms']} ms link_up={m['timing']['link_up_ms']} ms")
    # CDMA: #777 and the subscriber's user name went to the carrier.
    m2 = w.d.modem("m2")
    assert m2["apn"]["number"] == "#777" and m2["apn"]["kind"] == "cdma", m2["apn"]
    assert m2["apn"]["user"] == SEED[2]["auth"][0], m2["apn"]
    for i in range(3):
        ping(w.carriers[i].local, f"ppp-m{i}")
    names = sorted(modemd_pppds().values())
    assert names == ["m0", "m1", "m2"], f"modemd's pppds: {names}"


def case_hangup(w):
    before = w.d.status()
    pids_before = {v: k for k, v in modemd_pppds().items()}
    w.d.forget("m0")
    w.sims[0].control("hangup")
    # The modem notices (pppd exits), backs off and dials again on its own.
    m = w.d.wait_state("m0", "connected", CONNECT_TIMEOUT,
                       lambda m: connected_with_address(m) and m["redials"] == 1)
    seen = w.d.went_through("m0")
    assert any(x.startswith("backoff") for x in seen), f"no backoff seen: {seen}"
    log(f"  m0 after hangup: {' -> '.join(seen)}")
    assert m["redials"] == 1, m
    ping(w.carriers[0].local, "ppp-m0")
    after = w.d.status()
    pids_after = {v: k for k, v in modemd_pppds().items()}
    for n in ("m1", "m2"):
        assert after[n]["state"] == "connected", f"{n}: {after[n]['state']}"
        assert after[n]["redials"] == before[n]["redials"], f"{n} redialled"
        assert pids_after[n] == pids_before[n], f"{n}'s pppd changed"
    assert pids_after["m0"] != pids_before["m0"], "m0 has the same pppd as before the hangup"


def case_down_up(w):
    w.d.mpctl("down", "m1")
    m = w.d.wait_state("m1", "down", 20)
    assert m["admin"] == "down", m
    wait_for("m1's pppd to exit", lambda: "m1" not in modemd_pppds().values(), 15)
    others = w.d.status()
    assert others["m0"]["state"] == "connected" and others["m2"]["state"] == "connected", \
        {n: x["state"] for n, x in others.items()}
    w.d.mpctl("up", "m1")
    m = w.d.wait_state("m1", "connected", CONNECT_TIMEOUT, connected_with_address)
    assert m["admin"] == "up", m
    ping(w.carriers[1].local, "ppp-m1")


def case_sigterm(w):
    assert modemd_pppds(), "no pppd running before SIGTERM"
    w.d.proc.send_signal(signal.SIGTERM)
    try:
        code = w.d.proc.wait(20)
    except Exception:
        raise AssertionError("modemd did not exit within 20 s of SIGTERM")
    assert code == 0, f"modemd exited {code}: {w.d.tail()}"
    left = modemd_pppds()
    assert not left, f"pppd left after modemd exited: {left}"
    # The carriers' pppds end with the link; none of ours may linger.
    t0 = time.monotonic()
    wait_for("every pppd to be gone", lambda: not all_pppds() or None, 15)
    log(f"  modemd exited 0; all pppd gone ({time.monotonic() - t0:.1f} s after)")


def main():
    a = common_args(__doc__)
    r = Runner(a.workdir)
    cases = [("connect", case_connect), ("hangup", case_hangup), ("down-up", case_down_up),
             ("sigterm", case_sigterm)]
    if a.cases:
        cases = [c for c in cases if c[0] in a.cases]
    w = None
    try:
        w = World(a)
        for name, fn in cases:
            r.run(name, fn, w)
    except Exception as e:
        log(f"FAIL setup: {e}")
        r.failed += 1
    finally:
        if w:
            w.close()
    if r.failed:
        log("---- modemd log (tail) ----")
        log(w.d.tail(60) if w and w.d else "")
    return r.finish()


if __name__ == "__main__":
    sys.exit(main())
