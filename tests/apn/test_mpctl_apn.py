#!/usr/bin/env python3
"""mpctl apn as a user runs it: the shipped databases, a config with
overrides, JSON output, hidden secrets and exit codes (0 found, 1 not found,
64 usage)."""
import json
import os
import subprocess
import sys
import tempfile

MPCTL, CURATED, MBPI = (os.path.abspath(a) for a in sys.argv[1:4])
DBS = ["--db", CURATED, "--db", MBPI]
failures = 0


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print("FAIL: " + what)


def mpctl(*args):
    return subprocess.run([MPCTL, "apn"] + list(args), capture_output=True, text=True,
                          timeout=30)


r = mpctl("460011234567890", *DBS)
check(r.returncode == 0, "IMSI found: %d %s" % (r.returncode, r.stderr))
check("apn       3GNET\n" in r.stdout and "source    curated.conf:" in r.stdout,
      "text output: " + r.stdout)

r = mpctl("46003", "--json", *DBS)
j = json.loads(r.stdout)
check(r.returncode == 0 and j["found"] and j["number"] == "#777", "cdma: " + r.stdout)
check(j["password"] == "<hidden>", "password hidden by default")
r = mpctl("46003", "--json", "--show-secrets", *DBS)
check(json.loads(r.stdout)["password"] == "vnet.mobi", "--show-secrets")

r = mpctl("310260123456789", "--json", *DBS)
j = json.loads(r.stdout)
check(j["plmn"] == "310260" and j["source"].startswith("mbpi.conf:"), "imported: " + r.stdout)

r = mpctl("00101", *DBS)
check(r.returncode == 1, "not found exits 1")
check("no APN for PLMN 00101" in r.stderr, "reason: " + r.stderr)
r = mpctl("00101", "--json", *DBS)
check(json.loads(r.stdout) == {"found": False, "plmn": "00101",
                               "reason": "no APN for PLMN 00101"}, "json miss: " + r.stdout)

for bad in (["12ab"], [], ["46001", "46002"], ["46001", "--bogus"]):
    r = mpctl(*(bad + DBS))
    check(r.returncode == 64, "usage %s: %d" % (bad, r.returncode))

r = mpctl("46001", "--db", "/nonexistent.conf")
check(r.returncode == 1 and "/nonexistent.conf: No such file" in r.stderr, r.stderr)

with tempfile.TemporaryDirectory() as d:
    conf = os.path.join(d, "modemd.conf")
    with open(conf, "w") as f:
        f.write('apn_db = ["%s", "%s"];\n' % (CURATED, MBPI))
        f.write('sims = ( { iccid = "89860112345678901234"; apn = "corp"; } );\n')
        f.write('plmns = ( { plmn = "46001"; apn = "uninet"; } );\n')
    r = mpctl("460011234567890", "-c", conf, "--json")
    j = json.loads(r.stdout)
    check(j["apn"] == "uninet" and j["source"].startswith("config: plmn 46001"),
          "config plmn override: " + r.stdout + r.stderr)
    r = mpctl("460011234567890", "-c", conf, "--iccid", "89860112345678901234", "--json")
    j = json.loads(r.stdout)
    check(j["apn"] == "corp" and j["source"].startswith("config: sim 89860112345678901234"),
          "config sim override: " + r.stdout + r.stderr)
    with open(conf, "a") as f:
        f.write("oops = ;\n")
    r = mpctl("46001", "-c", conf)
    check(r.returncode == 1 and "modemd.conf:4" in r.stderr, "bad config: " + r.stderr)

print("mpctl apn: %s" % ("ok" if not failures else "%d failures" % failures))
sys.exit(1 if failures else 0)
