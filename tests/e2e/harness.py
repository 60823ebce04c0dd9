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
                 hearing_args=("--waiting-room", "off")):
        self.dir = tempfile.mkdtemp(prefix="testimony-e2e-")
        self.state = os.path.join(self.dir, "state")
        self.port = free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        self.hearing = hearing
        subprocess.run([RELAY, "hearing", "create", "--state-dir", self.state, "--id", hearing,
                        "--case", case, *hearing_args], check=True, stdout=subprocess.DEVNULL)
        self.log_path = os.path.join(self.dir, "relay.log")
        self.log_file = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [RELAY, "--state-dir", self.state, "--listen", f"127.0.0.1:{self.port}",
             "--media-address", "127.0.0.1", "--ports", "30000-30999", *extra_args],
            stdout=self.log_file, stderr=subprocess.STDOUT)
        self.ca = os.path.join(self.state, "tls", "cert.pem")
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        else:
            raise RuntimeError("relay did not start:\n" + open(self.log_path).read())

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
        shutil.rmtree(self.dir, ignore_errors=True)


class Client:
    def __init__(self, relay, token, name, color=None, tone=None, duration=20, extra=()):
        self.name = name
        self.report = os.path.join(relay.dir, f"report-{name}.jsonl")
        self.stderr_path = os.path.join(relay.dir, f"client-{name}.log")
        args = [CLIENT, "--relay", relay.url, "--token", token, "--ca", relay.ca, "--headless",
                "--report", self.report, "--duration", str(duration)]
        if PIPELINES:
            args += ["--pipelines", PIPELINES]
        if color is not None:
            args += ["--test-source", f"color={color},tone={tone}"]
        args += list(extra)
        self.err = open(self.stderr_path, "w")
        self.proc = subprocess.Popen(args, stdout=self.err, stderr=subprocess.STDOUT)

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


def remote_by_name(report, name):
    for r in (report or {}).get("remotes", []):
        if r.get("name") == name:
            return r
    return None


def probe(relay, *messages, wait_ms=500):
    out = subprocess.run([PROBE, "--relay", relay.url, "--ca", relay.ca, "--wait", str(wait_ms),
                          *messages], capture_output=True, text=True, timeout=30)
    result = []
    for line in out.stdout.splitlines():
        if line.startswith("closed "):
            result.append({"type": "__closed__", "code": int(line.split()[1])})
        else:
            try:
                result.append(json.loads(line))
            except json.JSONDecodeError:
                result.append({"type": "__garbage__", "text": line})
    return result


def hex_rgb(color):
    return tuple(int(color[i:i + 2], 16) for i in (0, 2, 4))


def ctl(relay, token, *command, timeout=30):
    """Runs testimony-ctl; returns (exit status, stdout, stderr)."""
    p = subprocess.run([CTL, "--relay", relay.url, "--token", token, "--ca", relay.ca, *command],
                       capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout.strip(), p.stderr.strip()


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
        time.sleep(step)
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
