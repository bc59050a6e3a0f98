#!/usr/bin/env python3
"""The guest side of scripts/demo.sh (runs inside UML): three simulated
SIM7100 modems on the seed carriers (China Unicom, China Mobile, China
Telecom CDMA), a real pppd per carrier in its own netns, and modemd dialing
them with real chat + pppd. Prints `mpctl status` once all are connected,
then shuts everything down. Exit 0 only if all three connected."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2elib import SEED, Carrier, Modemd, Sim, common_args, log, modemd_pppds  # noqa: E402


def main():
    a = common_args(__doc__)
    carriers, sims, d = [], [], None
    ok = False
    try:
        for i, c in enumerate(SEED):
            car = Carrier(i, a.workdir, auth=c["auth"])
            carriers.append(car)
            sims.append(Sim(f"m{i}", a.workdir, "--act", c["act"], carrier=car,
                            imsi=c["imsi"], operator=c["operator"]))
        log("demo: 3 simulated modems up: " + ", ".join(f"{c['operator']} ({c['plmn']})" for c in SEED))
        d = Modemd(a.build, a.workdir, sims, debug=False)
        d.start()
        log("demo: modemd running; waiting for all modems to connect")
        for i in range(len(SEED)):
            d.wait_state(f"m{i}", "connected", 90, lambda m: bool(m["local_address"]))
        log("demo: all connected\n")
        log("$ mpctl status")
        log(d.mpctl("status").stdout.rstrip())
        ok = True
    except Exception as e:
        log(f"demo: FAILED: {e}")
        if d:
            log(d.tail(40))
    finally:
        code = d.stop() if d else None
        if d:
            left = modemd_pppds()
            log(f"\ndemo: modemd stopped (exit {code}); pppd left: {len(left)}")
            ok = ok and code == 0 and not left
        for s in sims:
            s.stop()
        for c in carriers:
            c.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
