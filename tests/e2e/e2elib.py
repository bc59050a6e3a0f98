"""End-to-end test helpers: run inside user-mode Linux (tests/uml/uml-run).

Real parts only: tests/sim/sim7100.py simulates each modem on ptys, a real
pppd per carrier answers the data phase in its own network namespace, the
real modemd dials with real chat + pppd, and every assertion is on what
`mpctl status --json` (or /proc, or the kernel) shows. Waiting is always for
an observable state with a deadline, never a blind sleep.
"""
import json
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.path.normpath(os.path.join(HERE, "..", ".."))
SIM = os.path.join(SRCDIR, "tests", "sim", "sim7100.py")
PING = os.path.join(SRCDIR, "tests", "uml", "icmp_ping.py")
SIM_DIR = "/run/sim"

# The seed carriers (docs: apn-db/curated.conf).
SEED = [
    dict(plmn="46001", operator="China Unicom", imsi="460011234500001", act="WCDMA", auth=None),
    dict(plmn="46000", operator="China Mobile", imsi="460001234500002", act="LTE", auth=None),
    dict(plmn="46003", operator="China Telecom", imsi="460031234500003", act="CDMA",
         auth=("ctnet@mycdma.cn", "vnet.mobi")),
]


def log(msg):
    print(msg, flush=True)


def in_uml():
    return os.path.exists("/dev/ppp") and os.path.isdir("/run/netns")


def sh(*argv, check=True, timeout=30):
    return subprocess.run(argv, check=check, stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=timeout)


def wait_for(what, pred, timeout, interval=0.1):
    """Poll pred() until it returns a true value or the deadline passes."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            v = pred()
        except Exception as e:  # the thing polled may not exist yet
            v, last = None, e
        if v:
            return v
        if time.monotonic() > deadline:
            extra = f" (last error: {last})" if last else ""
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}{extra}")
        time.sleep(interval)


class Carrier:
    """A carrier network: its own netns; per call, a real pppd on the
    simulator's carrier pty (given as $CARRIER_TTY) with a private /run."""

    def __init__(self, index, workdir, auth=None):
        self.ns = f"car{index}"
        self.local = f"10.64.{index}.1"
        self.peer = f"10.64.{index}.2"
        self.log = os.path.join(workdir, f"carrier{index}.log")
        sh("ip", "netns", "add", self.ns)
        sh("ip", "-n", self.ns, "link", "set", "lo", "up")
        setup = "mount -t tmpfs tmpfs /run && mkdir -p /run/lock"
        opts = (f"nodetach local nocrtscts nodefaultroute noccp novj lcp-echo-interval 0 "
                f"{self.local}:{self.peer} logfile {shlex.quote(self.log)} debug")
        if auth:
            # CDMA carriers authenticate the subscriber: PAP against a
            # pap-secrets visible only in this carrier's mount namespace.
            secrets = os.path.join(workdir, f"carrier{index}-pap-secrets")
            with open(secrets, "w") as f:
                f.write(f'"{auth[0]}" * "{auth[1]}" *\n')
            os.chmod(secrets, 0o600)
            setup += f" && mount --bind {shlex.quote(secrets)} /etc/ppp/pap-secrets"
            opts += " auth require-pap"
        else:
            opts += " noauth"
        inner = f'{setup} && exec pppd "$CARRIER_TTY" 115200 {opts}'
        self.cmd = (f"exec ip netns exec {self.ns} unshare -m --propagation private "
                    f"sh -c {shlex.quote(inner)}")

    def close(self):
        sh("ip", "netns", "del", self.ns, check=False)


class Sim:
    """One tests/sim/sim7100.py; its stdout events are collected in a thread."""

    def __init__(self, name, workdir, *opts, carrier=None, imsi=None, operator=None,
                 iccid=None, imei=None):
        os.makedirs(SIM_DIR, exist_ok=True)
        self.name = name
        self.at = os.path.join(SIM_DIR, f"{name}-at")
        self.ppp = os.path.join(SIM_DIR, f"{name}-ppp")
        self.ctl = os.path.join(SIM_DIR, f"{name}.ctl")
        self.errlog = os.path.join(workdir, f"sim-{name}.log")
        n = sum(map(ord, name)) % 10000
        cmd = [sys.executable, SIM, "--at", self.at, "--ppp", self.ppp, "--control", self.ctl,
               "--iccid", iccid or f"8986011234567890{n:04d}", "--imei", imei or f"86123456789{n:04d}"]
        if imsi:
            cmd += ["--imsi", imsi]
        if operator:
            cmd += ["--operator", operator]
        cmd += list(opts)
        if carrier:
            cmd += ["--carrier-cmd", carrier.cmd]
        self.lines = []
        self.cond = threading.Condition()
        self.err = open(self.errlog, "w")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=self.err, text=True)
        threading.Thread(target=self._reader, daemon=True).start()
        self.wait_line(lambda l: l == "READY", 20, "READY")

    def _reader(self):
        for line in self.proc.stdout:
            with self.cond:
                self.lines.append(line.rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.lines.append(None)  # EOF
            self.cond.notify_all()

    def events(self, name):
        """EVENT lines of that name so far, as dicts."""
        out = []
        with self.cond:
            for l in self.lines:
                if l and l.startswith(f"EVENT {name}"):
                    out.append(dict(kv.split("=", 1) for kv in l.split()[2:] if "=" in kv))
        return out

    def wait_line(self, pred, timeout, what):
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for l in self.lines:
                    if l is not None and pred(l):
                        return l
                if None in self.lines:
                    raise AssertionError(f"simulator {self.name} exited waiting for {what}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"simulator {self.name}: no {what} within {timeout} s")
                self.cond.wait(left)

    def control(self, line):
        import socket
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(5)
            s.connect(self.ctl)
            s.sendall(line.encode() + b"\n")
            buf = b""
            while not buf.endswith(b"\n"):
                d = s.recv(1024)
                if not d:
                    break
                buf += d
        reply = buf.decode().strip()
        if not reply.startswith("OK"):
            raise AssertionError(f"simulator {self.name}: '{line}' -> {reply}")
        return reply

    def status(self):
        """The simulator's own view: dict from 'OK present=1 sim=ready ...'."""
        return dict(kv.split("=", 1) for kv in self.control("status").split()[1:] if "=" in kv)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.err.close()


class Modemd:
    """The daemon under test, with a generated configuration."""

    def __init__(self, build, workdir, modems, sims=(), plmns=(), extra_dial="", debug=True,
                 apn_db=None, backoff=(1000, 4000)):
        self.build = build
        self.workdir = workdir
        self.modemd = os.path.join(build, "modemd", "modemd")
        self.mpctl_bin = os.path.join(build, "mpctl", "mpctl")
        self.sock = "/run/modemd/control.sock"
        self.run_dir = "/run/modemd"
        self.conf = os.path.join(workdir, "modemd.conf")
        self.logpath = os.path.join(workdir, "modemd.log")
        db = apn_db if apn_db is not None else [os.path.join(SRCDIR, "apn-db", "curated.conf")]
        mods = ",\n".join(f'  {{ name = "{m.name}"; at_port = "{m.at}"; ppp_port = "{m.ppp}"; }}'
                          for m in modems)
        sims_s = ",\n".join("  { " + " ".join(f'{k} = "{v}";' for k, v in s.items()) + " }"
                            for s in sims)
        plmns_s = ",\n".join("  { " + " ".join(f'{k} = "{v}";' for k, v in p.items()) + " }"
                             for p in plmns)
        text = f"""# generated by tests/e2e
log_level = "{'debug' if debug else 'info'}";
control_socket = "{self.sock}";
control_group = "";
run_dir = "{self.run_dir}";
state_dir = "{os.path.join(workdir, 'state')}";
udev = false;
apn_db = [ {", ".join(f'"{d}"' for d in db)} ];
dial = {{
  chat_dir = "{os.path.join(SRCDIR, 'chat-scripts')}";
  backoff_initial = {backoff[0]};
  backoff_max = {backoff[1]};
  lcp_echo_interval = 2;
  lcp_echo_failure = 3;
  registration_timeout = 30000;
  connect_timeout = 30000;
  {extra_dial}
}};
modems = (
{mods}
);
sims = (
{sims_s}
);
plmns = (
{plmns_s}
);
"""
        with open(self.conf, "w") as f:
            f.write(text)
        os.chmod(self.conf, 0o600)
        self.proc = None
        self.history = {}  # name -> ["state(reason)", ...] as seen by polls
        self.lock = threading.Lock()

    def start(self, timeout=20):
        self.logf = open(self.logpath, "a")
        self.proc = subprocess.Popen([self.modemd, "-c", self.conf], stdin=subprocess.DEVNULL,
                                     stdout=self.logf, stderr=subprocess.STDOUT)
        wait_for("modemd to log 'ready'", lambda: self._ready(), timeout)
        threading.Thread(target=self._watch, daemon=True).start()

    def _note(self, m):
        desc = f"{m['state']}({m.get('reason')})"
        with self.lock:
            seen = self.history.setdefault(m["name"], [])
            if not seen or seen[-1] != desc:
                seen.append(desc)
                del seen[:-50]

    def _watch(self):
        """Record every modem's states in the background (0.3 s polls), so a
        test can tell which states a modem went through while it did other
        things."""
        while self.proc.poll() is None:
            try:
                for m in self.status().values():
                    self._note(m)
            except Exception:
                pass
            time.sleep(0.3)

    def went_through(self, name):
        with self.lock:
            return list(self.history.get(name, []))

    def forget(self, name):
        with self.lock:
            self.history[name] = []

    def _ready(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"modemd exited with {self.proc.returncode}: {self.tail()}")
        with open(self.logpath, errors="replace") as f:
            text = f.read()
        return "modemd: ready" in text or "ready (" in text

    def tail(self, n=30):
        try:
            with open(self.logpath, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def mpctl(self, *args, check=True):
        r = sh(self.mpctl_bin, "-s", self.sock, *args, check=False, timeout=15)
        if check and r.returncode != 0:
            raise AssertionError(f"mpctl {' '.join(args)} exited {r.returncode}: {r.stderr.strip()}")
        return r

    def status(self):
        r = self.mpctl("status", "--json")
        j = json.loads(r.stdout)
        if not j.get("ok"):
            raise AssertionError(f"status not ok: {j}")
        return {m["name"]: m for m in j["modems"]}

    def modem(self, name):
        return self.status().get(name)

    def wait_state(self, name, states, timeout, pred=None):
        """Wait until modem `name` is in one of `states` (and pred(m) holds); return it."""
        if isinstance(states, str):
            states = (states,)

        def check():
            m = self.modem(name)
            if m is None:
                return None
            self._note(m)
            if m["state"] in states and (pred is None or pred(m)):
                return m
            return None

        try:
            return wait_for(f"{name} in {'/'.join(states)}", check, timeout, interval=0.2)
        except AssertionError as e:
            seen = self.went_through(name)
            raise AssertionError(f"{e}; {name} went through: {' -> '.join(seen[-12:])}") from None

    def stop(self, timeout=20):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode if self.proc else None


class Receiver:
    """modemd in receiver mode inside network namespace ns, one gateway user
    (CHAP), mpctl on its own socket. Shared by the bundle end-to-end tests
    and the demo."""

    def __init__(self, build, workdir, ns, run_dir, port, tun_addr, pool, gw_name, secret,
                 name="receiver", log_level="debug"):
        self.modemd = os.path.join(build, "modemd", "modemd")
        self.mpctl_bin = os.path.join(build, "mpctl", "mpctl")
        self.ns, self.gw_name = ns, gw_name
        self.sock = os.path.join(run_dir, "control.sock")
        self.conf = os.path.join(workdir, "receiver.conf")
        self.logpath = os.path.join(workdir, "receiver.log")
        os.makedirs(os.path.join(workdir, "rx-state"), exist_ok=True)
        os.makedirs(run_dir, exist_ok=True)
        text = f"""# generated by tests/e2e/e2elib.py
log_level = "{log_level}";
control_socket = "{self.sock}";
control_group = "";
run_dir = "{run_dir}";
state_dir = "{os.path.join(workdir, 'rx-state')}";
udev = false;
apn_db = [ ];
mode = "receiver";
receiver = {{
  listen = "0.0.0.0";
  port = {port};
  name = "{name}";
  tun = "mp0";
  local_address = "{tun_addr}";
  pool = "{pool}";
  require_auth = "chap";
  users = (
    {{ name = "{gw_name}"; secret = "{secret}"; }}
  );
}};
"""
        fd = os.open(self.conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        self.proc = None
        self.logf = None

    def start(self, timeout=20):
        self.logf = open(self.logpath, "a")
        self.proc = subprocess.Popen(["ip", "netns", "exec", self.ns, self.modemd, "-c", self.conf],
                                     stdin=subprocess.DEVNULL, stdout=self.logf,
                                     stderr=subprocess.STDOUT)
        wait_for("receiver: control socket answering", self.status, timeout, interval=0.2)

    def mpctl(self, *args):
        return sh(self.mpctl_bin, "-s", self.sock, *args, check=False, timeout=15)

    def status(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"receiver exited with {self.proc.returncode}")
        r = self.mpctl("status", "--json")
        if r.returncode != 0:
            return None
        j = json.loads(r.stdout)
        assert j.get("ok"), f"receiver: status not ok: {j}"
        return j

    def gateway(self):
        st = self.status() or {}
        r = st.get("receiver") or {}
        for g in (r.get("gateways") or st.get("gateways") or []):
            if g.get("name") == self.gw_name:
                return g
        return None

    def stop(self, timeout=10):
        """Exit code, or None if it never started."""
        code = None
        if self.proc:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
            code = self.proc.returncode
        if self.logf:
            self.logf.close()
            self.logf = None
        return code


def link_up(link):
    """A bundle link a user would call up: in the bundle (phase network) and
    answering echoes."""
    return (link.get("phase") == "network" and link.get("liveness") == "alive"
            and link.get("in_bundle", True))


def modemd_pppds(run_dir="/run/modemd"):
    """pids of pppd processes started by modemd (`pppd file RUN_DIR/NAME.options`) -> name."""
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
            with open(f"/proc/{d}/stat") as f:
                if f.read().split(") ", 1)[1].startswith("Z"):
                    continue  # zombie: exited, not yet reaped
        except OSError:
            continue
        if argv and os.path.basename(argv[0]) == b"pppd" and b"file" in argv:
            opt = argv[argv.index(b"file") + 1].decode()
            if opt.startswith(run_dir + "/"):
                out[int(d)] = os.path.basename(opt).rsplit(".", 1)[0]
    return out


def all_pppds():
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/comm") as f:
                    if f.read().strip() == "pppd":
                        out.append(int(d))
            except OSError:
                pass
    return out


def ping(addr, iface=None, count=3):
    argv = [sys.executable, PING, "-c", str(count), "-W", "3"]
    if iface:
        argv += ["-I", iface]
    r = sh(*argv, addr, check=False)
    if r.returncode != 0:
        raise AssertionError(f"ping {addr} via {iface}: {r.stderr.strip() or r.stdout.strip()}")


class Runner:
    """Runs named cases in order, one result line each; summary at the end."""

    def __init__(self, workdir, keep_going=True):
        self.workdir = workdir
        self.passed = self.failed = 0
        self.keep_going = keep_going
        self.results = []

    def run(self, name, fn, *args):
        t0 = time.monotonic()
        try:
            fn(*args)
        except Exception as e:
            self.failed += 1
            detail = "".join(traceback.format_exception_only(type(e), e)).strip()
            log(f"FAIL {name}: {detail} ({time.monotonic() - t0:.1f} s; logs in {self.workdir})")
            if not isinstance(e, AssertionError):
                traceback.print_exc(file=sys.stdout)
            self.results.append((name, False))
            return False
        self.passed += 1
        log(f"PASS {name} ({time.monotonic() - t0:.1f} s)")
        self.results.append((name, True))
        return True

    def finish(self):
        log(f"{self.passed} passed, {self.failed} failed")
        return 1 if self.failed else 0


def common_args(description):
    import argparse
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--build", required=True, help="build directory (modemd/modemd, mpctl/mpctl)")
    ap.add_argument("--workdir", required=True, help="logs and generated files go here")
    ap.add_argument("cases", nargs="*", help="only these cases")
    a = ap.parse_args()
    a.build = os.path.abspath(a.build)
    a.workdir = os.path.abspath(a.workdir)
    os.makedirs(a.workdir, exist_ok=True)
    if not in_uml():
        sys.exit("run me inside user-mode Linux: tests/uml/uml-run -- " + " ".join(sys.argv))
    for exe in ("modemd/modemd", "mpctl/mpctl"):
        if not os.access(os.path.join(a.build, exe), os.X_OK):
            sys.exit(f"{a.build}/{exe} not built")
    return a
