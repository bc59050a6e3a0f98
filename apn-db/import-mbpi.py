#!/usr/bin/env python3
"""Import the GNOME mobile-broadband-provider-info carrier list into modemd's
APN database format (libconfig, see docs/apn-db.md).

For every <provider> with a <gsm> section, each <network-id mcc= mnc=> becomes
one carrier entry using the provider's first APN whose usage is "internet"
(mms/wap APNs are skipped). CDMA-only providers carry no PLMN and are skipped.
When several providers list the same PLMN (MVNOs riding on a host network), a
provider marked primary="true" wins, else the first one in file order; the
others are reported. Output is sorted by PLMN, one carrier per line, so the
same input always gives the same file and line numbers name one carrier.

Python standard library only (xml.etree).
"""

import argparse
import os
import re
import sys
import tempfile
import xml.etree.ElementTree as ET

DEFAULT_XML = "/usr/share/mobile-broadband-provider-info/serviceproviders.xml"
DEBIAN_PACKAGE = "mobile-broadband-provider-info"

# Same limits and character sets as modemd/apn.c enforces (struct apn_profile
# field sizes minus the NUL); anything else would be refused at load time.
MAX_PROVIDER = 63
MAX_APN = 63
MAX_SECRET = 63
MAX_NOTE = 127
APN_RE = re.compile(r"[A-Za-z0-9._-]+")
# Printable ASCII without quotes/backslash: these end up in pppd secrets files.
SECRET_RE = re.compile(r'[ !#-\[\]-~]*')
DIGITS_RE = re.compile(r"[0-9]+")


def warn(msg):
    print("import-mbpi: " + msg, file=sys.stderr)


def text(elem, tag):
    child = elem.find(tag)
    if child is None or child.text is None:
        return None
    return child.text.strip()


def usage_of(apn):
    u = apn.find("usage")
    return u.get("type") if u is not None else None


def truncate_utf8(s, limit):
    """Cut s to at most limit bytes of UTF-8 without splitting a character."""
    b = s.encode("utf-8")
    if len(b) <= limit:
        return s
    return b[:limit].decode("utf-8", errors="ignore").rstrip()


def conf_string(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def internet_apns(gsm):
    """APNs for internet use, best first: usage "internet", then combined
    usages that include it ("mms-internet-hipri"); mms/wap and APNs without a
    usage are never chosen."""
    apns = gsm.findall("apn")
    plain = [a for a in apns if usage_of(a) == "internet"]
    combined = [a for a in apns if usage_of(a) not in (None, "internet")
                and "internet" in usage_of(a).split("-")]
    return plain + combined


def pick_apn(pname, gsm, stats):
    """First usable internet APN of a provider, or None (reason reported)."""
    for apn in internet_apns(gsm):
        value = (apn.get("value") or "").strip()
        user = text(apn, "username") or ""
        password = text(apn, "password") or ""
        if not APN_RE.fullmatch(value) or len(value) > MAX_APN:
            warn("%s: skipped APN %r: not a valid APN name" % (pname, value))
            stats["bad_apn"] += 1
            continue
        if (not SECRET_RE.fullmatch(user) or not SECRET_RE.fullmatch(password)
                or len(user) > MAX_SECRET or len(password) > MAX_SECRET):
            warn("%s: skipped APN %r: username/password not printable ASCII "
                 "without quotes" % (pname, value))
            stats["bad_apn"] += 1
            continue
        auth_el = apn.find("authentication")
        method = auth_el.get("method") if auth_el is not None else None
        if method in ("pap", "chap"):
            auth = method
        elif user or password:
            auth = "any"
        else:
            auth = "none"
        note = text(apn, "name") or ""
        return {
            "apn": value,
            "user": user,
            "password": password,
            "auth": auth,
            "note": truncate_utf8(note.replace("\n", " "), MAX_NOTE),
        }
    return None


def collect(root, stats):
    """Map PLMN -> (priority, order, carrier dict)."""
    chosen = {}
    order = 0
    for country in root.iter("country"):
        cc = (country.get("code") or "").lower()
        for prov in country.findall("provider"):
            order += 1
            stats["providers"] += 1
            pname = (text(prov, "name") or "").replace("\n", " ")
            label = "%s/%s" % (cc, pname)
            gsm = prov.find("gsm")
            if gsm is None:
                if prov.find("cdma") is not None:
                    stats["cdma"] += 1
                else:
                    warn("%s: skipped: neither gsm nor cdma" % label)
                    stats["no_gsm"] += 1
                continue
            ids = gsm.findall("network-id")
            if not ids:
                warn("%s: skipped: gsm provider without network-id" % label)
                stats["no_plmn"] += 1
                continue
            profile = pick_apn(label, gsm, stats)
            if profile is None:
                warn("%s: skipped: no usable internet APN" % label)
                stats["no_internet"] += 1
                continue
            if not pname:
                warn("%s: skipped: provider without a name" % label)
                stats["no_name"] += 1
                continue
            prio = 0 if prov.get("primary") == "true" else 1
            for nid in ids:
                mcc = (nid.get("mcc") or "").strip()
                mnc = (nid.get("mnc") or "").strip()
                plmn = mcc + mnc
                if (len(mcc) != 3 or len(mnc) not in (2, 3)
                        or not DIGITS_RE.fullmatch(plmn)):
                    warn("%s: skipped network-id mcc=%r mnc=%r" % (label, mcc, mnc))
                    stats["bad_plmn"] += 1
                    continue
                entry = dict(profile)
                entry.update(plmn=plmn, country=cc if re.fullmatch("[a-z]{2}", cc) else "",
                             provider=truncate_utf8(pname, MAX_PROVIDER))
                key = (prio, order)
                old = chosen.get(plmn)
                if old is None:
                    chosen[plmn] = (key, entry)
                    continue
                if old[0] == key:
                    continue  # the provider lists this network-id twice
                stats["shadowed"] += 1
                if key < old[0]:
                    loser, chosen[plmn] = old[1], (key, entry)
                else:
                    loser = entry
                winner = chosen[plmn][1]
                warn("PLMN %s: using %s, not %s (shared network)" %
                     (plmn, winner["provider"], loser["provider"]))
    return chosen


def render(chosen, source):
    out = [
        "# modemd APN database imported from mobile-broadband-provider-info",
        "# (%s) by apn-db/import-mbpi.py. Generated: do not edit;" % source,
        "# put corrections into curated.conf, which is searched first.",
        "carriers = (",
    ]
    plmns = sorted(chosen)
    for i, plmn in enumerate(plmns):
        e = chosen[plmn][1]
        fields = [
            "plmn = [%s];" % conf_string(plmn),
            "provider = %s;" % conf_string(e["provider"]),
            "country = %s;" % conf_string(e["country"]),
            "apn = %s;" % conf_string(e["apn"]),
            'number = "*99#";',
            "user = %s;" % conf_string(e["user"]),
            "password = %s;" % conf_string(e["password"]),
            "auth = %s;" % conf_string(e["auth"]),
            'kind = "3gpp";',
            "note = %s;" % conf_string(e["note"]),
        ]
        out.append("  { " + " ".join(fields) + " }" + ("," if i + 1 < len(plmns) else ""))
    out.append(");")
    return "\n".join(out) + "\n"


def write_atomic(path, data):
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".mbpi.", dir=d)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-i", "--input", default=DEFAULT_XML,
                    help="serviceproviders.xml (default: %(default)s)")
    ap.add_argument("-o", "--output", help="database to write (default: stdout)")
    args = ap.parse_args()

    if not os.path.exists(args.input):
        warn("%s not found: install the Debian package %s "
             "(apt-get install %s)" % (args.input, DEBIAN_PACKAGE, DEBIAN_PACKAGE))
        return 1
    try:
        root = ET.parse(args.input).getroot()
    except (ET.ParseError, OSError) as e:
        warn("%s: %s" % (args.input, e))
        return 1

    stats = dict.fromkeys(("providers", "cdma", "no_gsm", "no_plmn", "no_internet",
                           "no_name", "bad_apn", "bad_plmn", "shadowed"), 0)
    chosen = collect(root, stats)
    data = render(chosen, os.path.basename(args.input))
    if args.output:
        write_atomic(args.output, data)
    else:
        sys.stdout.write(data)
    warn("%d carriers (PLMNs) from %d providers; skipped: %d CDMA-only, "
         "%d without internet APN, %d without network-id, %d bad network-id, "
         "%d bad APNs, %d PLMNs shared (first/primary provider kept)" %
         (len(chosen), stats["providers"], stats["cdma"], stats["no_internet"],
          stats["no_plmn"], stats["bad_plmn"], stats["bad_apn"], stats["shadowed"]))
    if not chosen:
        warn("no carriers imported from %s" % args.input)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
