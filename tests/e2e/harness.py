"""End-to-end harness: a real testimony-relay and real testimony-clients on 127.0.0.1.

Binaries come from the environment (set by meson): TESTIMONY_RELAY, TESTIMONY_CLIENT,
TESTIMONY_PROBE, TESTIMONY_PIPELINES. Every test runs inside tests/e2e/netns-run.sh.
"""
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

RELAY = os.environ.get("TESTIMONY_RELAY", "testimony-relay")
CLIENT = os.environ.get("TESTIMONY_CLIENT", "testimony-client")
PROBE = os.environ.get("TESTIMONY_PROBE", "testimony-probe")
CTL = os.environ.get("TESTIMONY_CTL", "testimony-ctl")
PIPELINES = os.environ.get("TESTIMONY_PIPELINES", "")

failures = []


def log(*args):
    print(*args, flush=True)


def check(cond, what):
    """Records one assertion; the test fails at the end if any failed."""
    log(("ok     " if cond else "FAILED ") + what)
    if not cond:
        failures.append(what)
    return cond


def finish():
    if failures:
        log(f"{len(failures)} check(s) failed:")
        for f in failures:
            log("  - " + f)
        sys.exit(1)
    log("all checks passed")
    sys.exit(0)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Relay:
    def __init__(self, hearing="h1", case="BK-2026-117", extra_args=(),
                 hearing_args=("--waiting-room", "off"), host="127.0.0.1", wrap=None, port=None):
        """HOST: the address it takes media on (it listens there and, when not 127.0.0.1, on
        every address, so that tools beside it reach it as 127.0.0.1, which its certificate
        names); WRAP(argv) -> argv runs it elsewhere (e.g. in a namespace of
        tests/netem/netns_link.py); PORT: its HTTPS port (default: a free one)."""
        self.dir = tempfile.mkdtemp(prefix="testimony-e2e-")
        self.state = os.path.join(self.dir, "state")
        self.port = port or free_port()
        self.host = host
        self.wrap = wrap or (lambda argv: argv)
        self.url = f"https://127.0.0.1:{self.port}"
        # Clients use the media address: given a loopback relay URL the client keeps ICE on
        # loopback, which a relay whose media address is not loopback does not reach.
        self.remote_url = f"https://{host}:{self.port}"
        self.hearing = hearing
        subprocess.run([RELAY, "hearing", "create", "--state-dir", self.state, "--id", hearing,
                        "--case", case, *hearing_args], check=True, stdout=subprocess.DEVNULL)
        self.log_path = os.path.join(self.dir, "relay.log")
        self.log_file = open(self.log_path, "w")
        self.proc = subprocess.Popen(self.wrap(
            [RELAY, "--state-dir", self.state,
             "--listen", f"{'127.0.0.1' if host == '127.0.0.1' else '0.0.0.0'}:{self.port}",
             "--media-address", host, "--ports", "30000-30999", *extra_args]),
            stdout=self.log_file, stderr=subprocess.STDOUT)
        self.ca = os.path.join(self.state, "tls", "cert.pem")
        if not wait_until(self._listening, 10, 0.05):
            raise RuntimeError("relay did not start:\n" + open(self.log_path).read())

    def _tcp(self):
        """The TCP sockets on the relay's port (its side of each connection, and its listening
        socket), seen in its own network namespace: rows of /proc/net/tcp, split."""
        with open(f"/proc/{self.proc.pid}/net/tcp") as f:
            rows = [line.split() for line in f.readlines()[1:]]
        return [r for r in rows if r[1].endswith(f":{self.port:04X}")]

    def _listening(self):
        """Whether the relay listens yet."""
        if self.proc.poll() is not None:
            raise RuntimeError("relay exited:\n" + open(self.log_path).read())
        try:
            return any(r[3] == "0A" for r in self._tcp())
        except OSError:
            return False

    def unaccepted(self):
        """Connections the kernel completed that the relay has not accepted yet (the listening
        socket's queue): 0 means the relay has taken every connection made so far."""
        return sum(int(r[4].split(":")[1], 16) for r in self._tcp() if r[3] == "0A")

    def open_connections(self):
        """Connections the relay has not let go of yet: established, or closed by the client
        and not yet by the relay (TCP states ESTABLISHED and CLOSE_WAIT)."""
        return sum(r[3] in ("01", "08") for r in self._tcp())

    def token(self, role, name, ttl=3600, hearing=None):
        out = subprocess.run([RELAY, "token", "--state-dir", self.state,
                              "--hearing", hearing or self.hearing, "--role", role,
                              "--name", name, "--ttl", str(ttl)],
                             check=True, capture_output=True, text=True)
        return out.stdout.strip()

    def status(self, token):
        ctx = ssl.create_default_context(cafile=self.ca)
        req = urllib.request.Request(self.url + "/api/status",
                                     headers={"Authorization": "Bearer " + token})
        with urllib.request.urlopen(req, context=ctx, timeout=5) as r:
            return json.load(r)

    def status_in(self, token):
        """The status, asked from where the relay runs (its WRAP): for relays in a namespace
        of their own."""
        script = ("import json, ssl, sys, urllib.request\n"
                  "ctx = ssl.create_default_context(cafile=sys.argv[2])\n"
                  "ctx.check_hostname = False  # the certificate itself is pinned\n"
                  "req = urllib.request.Request(sys.argv[1] + '/api/status', headers="
                  "{'Authorization': 'Bearer ' + sys.argv[3]})\n"
                  "print(urllib.request.urlopen(req, context=ctx, timeout=5).read().decode())\n")
        out = subprocess.run(self.wrap([sys.executable, "-c", script, self.url, self.ca, token]),
                             capture_output=True, text=True, timeout=15)
        if out.returncode != 0:
            raise RuntimeError((out.stderr.strip().splitlines() or ["no answer"])[-1])
        return json.loads(out.stdout)

    def usage(self):
        """CPU seconds and peak resident memory (KiB) of the relay so far."""
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        cpu = (int(fields[11]) + int(fields[12])) / ticks
        peak = 0
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    peak = int(line.split()[1])
        return cpu, peak

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log_file.close()
        return self.proc.returncode

    def cleanup(self):
        """Removes the relay's directory; with TESTIMONY_KEEP set, moves it into that directory
        first (logs, reports, recordings and the audit log of a run to look at afterwards)."""
        keep = os.environ.get("TESTIMONY_KEEP")
        if keep:
            os.makedirs(keep, exist_ok=True)
            try:
                shutil.copytree(self.dir, os.path.join(keep, os.path.basename(self.dir)),
                                dirs_exist_ok=True, ignore_dangling_symlinks=True)
            except shutil.Error:
                pass  # sockets and the like: copytree copied the rest
        shutil.rmtree(self.dir, ignore_errors=True)


class Client:
    def __init__(self, relay, token, name, color=None, tone=None, duration=20, extra=(),
                 wrap=None, remote=False, pattern=None, headless=True):
        """HEADLESS=False: a window (on $DISPLAY; EXTRA may say --kiosk)."""
        self.name = name
        self.report = os.path.join(relay.dir, f"report-{name}.jsonl")
        self.stderr_path = os.path.join(relay.dir, f"client-{name}.log")
        args = [CLIENT, "--relay", relay.remote_url if remote else relay.url, "--token", token,
                "--ca", relay.ca] + (["--headless"] if headless else []) + [
                "--report", self.report, "--duration", str(duration)]
        if PIPELINES:
            args += ["--pipelines", PIPELINES]
        if color is not None:
            args += ["--test-source", f"color={color},tone={tone}" +
                     (f",pattern={pattern}" if pattern else "")]
        args += list(extra)
        self.err = open(self.stderr_path, "w")
        self.proc = subprocess.Popen((wrap or (lambda argv: argv))(args), stdout=self.err,
                                     stderr=subprocess.STDOUT)

    def wait(self, timeout):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.err.close()

    def lines(self):
        try:
            with open(self.report) as f:
                out = []
                for line in f:
                    line = line.strip()
                    if line:
                        try:
                            out.append(json.loads(line))
                        except json.JSONDecodeError:
                            pass  # a line being written
                return out
        except FileNotFoundError:
            return []

    def last(self):
        lines = self.lines()
        return lines[-1] if lines else None


def thread_usage(pid):
    """CPU seconds of each thread of PID so far: {tid: (name, seconds)}. The scheduler's own
    count (schedstat, nanoseconds) where the kernel keeps it, else user + system time in clock
    ticks (10 ms: too coarse for a thread that runs 1 % of the time)."""
    ticks = os.sysconf("SC_CLK_TCK")
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                text = f.read()
            try:
                with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                    ns = int(f.read().split()[0])
            except (OSError, ValueError, IndexError):
                ns = None
        except OSError:  # the thread ended
            continue
        name = text[text.index("(") + 1:text.rindex(")")]
        fields = text.rsplit(")", 1)[1].split()
        out[tid] = (name, ns / 1e9 if ns is not None
                    else (int(fields[11]) + int(fields[12])) / ticks)
    return out


def metrics(port):
    """The samples of the relay's /metrics on the metrics listener at PORT, as
    {'name{labels}': value}, and the text."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
            text = r.read().decode()
    except urllib.error.HTTPError as e:
        text = e.read().decode()
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, value = line.rsplit(" ", 1)
            values[key] = float(value)
    return values, text


def remote_by_name(report, name):
    for r in (report or {}).get("remotes", []):
        if r.get("name") == name:
            return r
    return None


def _probe_line(line):
    """One line of testimony-probe's output as a message."""
    if line.startswith("closed "):
        return {"type": "__closed__", "code": int(line.split()[1])}
    try:
        return json.loads(line)
    except json.JSONDecodeError:
        return {"type": "__garbage__", "text": line}


def probe(relay, *messages, wait_ms=500):
    out = subprocess.run([PROBE, "--relay", relay.url, "--ca", relay.ca, "--wait", str(wait_ms),
                          *messages], capture_output=True, text=True, timeout=30)
    return [_probe_line(line) for line in out.stdout.splitlines()]


class Probe:
    """A probe session in the background: MESSAGES holds what the relay sent so far (the probe
    prints each message as it arrives), so a test can wait until the session joined or was told
    something; join() waits for the session to end and returns them all."""

    def __init__(self, relay, *messages, wait_ms=500):
        self.messages = []
        self.proc = subprocess.Popen([PROBE, "--relay", relay.url, "--ca", relay.ca,
                                      "--wait", str(wait_ms), *messages],
                                     stdout=subprocess.PIPE, text=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.messages.append(_probe_line(line.rstrip("\n")))

    def got(self, type_, **members):
        """Whether the relay sent a message of TYPE_ with these MEMBERS."""
        return any(m.get("type") == type_ and all(m.get(k) == v for k, v in members.items())
                   for m in list(self.messages))

    def join(self, timeout=60):
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.reader.join()
        return self.messages


def hex_rgb(color):
    return tuple(int(color[i:i + 2], 16) for i in (0, 2, 4))


def ctl(relay, token, *command, timeout=30):
    """Runs testimony-ctl; returns (exit status, stdout, stderr)."""
    p = subprocess.run(relay.wrap([CTL, "--relay", relay.url, "--token", token, "--ca", relay.ca,
                                   *command]),
                       capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout.strip(), p.stderr.strip()


def participant(status, name):
    """From a relay status: the participant called NAME ({} when there is none)."""
    return next((p for p in status["participants"] if p["name"] == name), {})


def reports_advanced(clients, n):
    """A condition for wait_until: each of CLIENTS has written N more reports than now (they
    write one a second)."""
    start = [len(c.lines()) for c in clients]
    return lambda: all(len(c.lines()) >= s + n for c, s in zip(clients, start))


def sent_to(status, to_name, from_name, track):
    """From a relay status: how many packets of FROM_NAME's TRACK the relay sent TO_NAME (-1 when
    TO_NAME is not in the hearing)."""
    ids = {p["name"]: p["id"] for p in status["participants"]}
    for p in status["participants"]:
        if p["name"] == to_name:
            return p.get("received", {}).get(ids.get(from_name, "?"), {}).get(track, 0)
    return -1


def frames_from(client, name):
    r = remote_by_name(client.last(), name)
    return r.get("video", {}).get("frames", 0) if r else 0


def buffers_from(client, name):
    r = remote_by_name(client.last(), name)
    return r.get("audio", {}).get("buffers", 0) if r else 0


def wait_until(cond, timeout=60, step=0.25):
    """Polls COND until it is true or TIMEOUT seconds pass (slow machines, sanitizer builds);
    returns its last value."""
    deadline = time.time() + timeout
    value = cond()
    while not value and time.time() < deadline:
        time.sleep(step)  # the polling interval, not a wait for anything
        value = cond()
    return value


def shutdown(relay, clients, client_logs=False):
    """Stops the clients and the relay; on failure prints the relay's (and the clients') log."""
    for c in clients:
        c.stop()
    relay.stop()
    if failures:
        log(open(relay.log_path).read()[-3000:])
        if client_logs:
            for c in clients:
                log(f"--- {c.name}\n" + open(c.stderr_path).read()[-1500:])
    relay.cleanup()
