#!/usr/bin/env python3
"""apn-db/import-mbpi.py on a small serviceproviders.xml: which APN is chosen,
what is skipped and reported, determinism, and the missing-file message."""
import os
import subprocess
import sys
import tempfile

IMPORTER = sys.argv[1]

XML = """<?xml version="1.0" encoding="utf-8"?>
<serviceproviders format="2.0">
<country code="zz">
  <provider>
    <name>Second &amp; Co</name>
    <gsm>
      <network-id mcc="001" mnc="02"/>
      <network-id mcc="001" mnc="01"/>
      <apn value="mms.example"><usage type="mms"/></apn>
      <apn value="wap.example"><usage type="wap"/></apn>
      <apn value="first.example">
        <usage type="internet"/><name>Contract</name>
        <username>u</username><password>p</password>
        <authentication method="chap"/>
      </apn>
      <apn value="second.example"><usage type="internet"/></apn>
    </gsm>
  </provider>
  <provider>
    <name>Mvno</name>
    <gsm>
      <network-id mcc="001" mnc="01"/>
      <apn value="mvno.example"><usage type="internet"/></apn>
    </gsm>
  </provider>
  <provider primary="true">
    <name>Host</name>
    <gsm>
      <network-id mcc="310" mnc="260"/>
      <apn value="host.example"><usage type="mms-internet-hipri"/></apn>
    </gsm>
  </provider>
  <provider>
    <name>Earlier Mvno</name>
    <gsm>
      <network-id mcc="310" mnc="260"/>
      <apn value="mvno2.example"><usage type="internet"/><username>x</username></apn>
    </gsm>
  </provider>
  <provider>
    <name>Cdma Only</name>
    <cdma><sid value="1"/></cdma>
  </provider>
  <provider>
    <name>Mms Only</name>
    <gsm>
      <network-id mcc="001" mnc="03"/>
      <apn value="mms"><usage type="mms"/></apn>
    </gsm>
  </provider>
</country>
</serviceproviders>
"""

failures = 0


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print("FAIL: " + what)


def run(*args):
    return subprocess.run([sys.executable, IMPORTER] + list(args), capture_output=True,
                          text=True, timeout=60)


with tempfile.TemporaryDirectory() as d:
    xml = os.path.join(d, "sp.xml")
    with open(xml, "w", encoding="utf-8") as f:
        f.write(XML)
    out = os.path.join(d, "out", "mbpi.conf")
    r = run("-i", xml, "-o", out)
    check(r.returncode == 0, "importer exit %d: %s" % (r.returncode, r.stderr))
    text = open(out, encoding="utf-8").read()
    lines = [l for l in text.splitlines() if l.startswith("  { plmn")]
    check(len(lines) == 3, "3 carriers, got %d:\n%s" % (len(lines), text))
    plmns = [l.split('"')[1] for l in lines]
    check(plmns == ["00101", "00102", "310260"], "sorted by PLMN: %s" % plmns)
    first = lines[0]
    check('provider = "Second & Co";' in first, "first provider in file order wins: " + first)
    check('apn = "first.example";' in first, "first internet APN chosen: " + first)
    check('user = "u"; password = "p"; auth = "chap";' in first, "credentials: " + first)
    check('number = "*99#";' in first and 'kind = "3gpp";' in first, "dial: " + first)
    check('country = "zz";' in first and 'note = "Contract";' in first, "labels: " + first)
    host = lines[2]
    check('provider = "Host"' in host and 'apn = "host.example"' in host,
          "primary provider wins, combined usage accepted: " + host)
    check('auth = "none"' in host, "no credentials -> auth none: " + host)
    check("1 CDMA-only" in r.stderr, "CDMA counted: " + r.stderr)
    check("Mms Only: skipped: no usable internet APN" in r.stderr, "mms-only reported")
    check("PLMN 00101: using Second & Co, not Mvno" in r.stderr, "shared PLMN reported")
    check("PLMN 310260: using Host, not Earlier Mvno" in r.stderr, "primary reported")

    # Same input, same bytes.
    r2 = run("-i", xml)
    check(r2.stdout == text, "output is deterministic")

    r3 = run("-i", os.path.join(d, "missing.xml"), "-o", os.path.join(d, "x.conf"))
    check(r3.returncode != 0, "missing XML fails")
    check("mobile-broadband-provider-info" in r3.stderr, "names the Debian package: " + r3.stderr)
    check(not os.path.exists(os.path.join(d, "x.conf")), "no output on failure")

    with open(xml, "w") as f:
        f.write("<serviceproviders><country")
    r4 = run("-i", xml, "-o", os.path.join(d, "y.conf"))
    check(r4.returncode != 0 and "sp.xml" in r4.stderr, "broken XML reported: " + r4.stderr)

print("import-mbpi: %s" % ("ok" if not failures else "%d failures" % failures))
sys.exit(1 if failures else 0)
