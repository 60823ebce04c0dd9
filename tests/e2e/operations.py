#!/usr/bin/env python3
"""Running the relay as a court's IT does (docs/operations.md), with real clients in a recorded
three-party hearing:

  - /healthz answers without a token on the HTTPS listener and on the metrics listener; /metrics
    (Prometheus text, a separate plain-HTTP listener) shows the hearing: participants by role,
    media connections, packets forwarded growing while the clients exchange media, a recording
    and its bytes, join failures by code; it names no participant, hearing, case or token;
  - X-Forwarded-For is believed only from a trusted proxy: failed joins through the proxy count
    against the client it names (96 clients' failures: none limited; one client's: limited, not
    another's), while an untrusted peer's header changes nothing (it is rate-limited whatever
    addresses it claims); a reload that stops trusting the proxy applies at once;
  - SIGHUP with a new certificate on disk: new TLS connections get the new certificate (its
    fingerprint, seen from Python's ssl), the hearing's media keeps flowing (every client keeps
    decoding frames); a configuration that does not read changes nothing;
  - SIGTERM during the recording: every participant is told ({"type":"shutdown"}, then close
    1001), the recording is finished and signed (testimony-verify with the evidence key exits
    0), the audit log is signed to its last entry, which says the relay stopped, and the log says
    so."""
import base64
import concurrent.futures
import glob
import hashlib
import json
import os
import re
import signal
import socket
import ssl
import struct
import subprocess
import tempfile
import urllib.request

import harness
from harness import (Client, Probe, Relay, check, ctl, finish, frames_from, free_port, log,
                     metrics, reports_advanced, wait_until)

VERIFY = os.environ.get("TESTIMONY_VERIFY", "testimony-verify")
PEOPLE = [("judge", "Judge Somchai", "ff0000", 440),
          ("witness", "Witness Malee", "00ff00", 660),
          ("clerk", "Clerk Niran", "0000ff", 880)]
PROXY = "127.0.0.2"  # the trusted reverse proxy connects from here


def http_get(url, ctx=None, headers=None):
    """(status, body) of a GET, errors included; HEADERS (a dict) gets the response's."""
    try:
        with urllib.request.urlopen(url, context=ctx, timeout=10) as r:
            if headers is not None:
                headers.update(r.headers)
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def ws_join(relay, token, source="127.0.0.1", forwarded_for=None):
    """Opens a signalling WebSocket from SOURCE (a raw client: it can set X-Forwarded-For), sends
    a join with TOKEN and returns the relay's first message ({"type": "__timeout__"} when none
    came in 30 s: a loaded machine, a sanitizer build)."""
    try:
        return _ws_join(relay, token, source, forwarded_for)
    except (TimeoutError, ConnectionError, ssl.SSLError) as e:
        return {"type": "__timeout__", "text": str(e)}


def _ws_join(relay, token, source, forwarded_for):
    raw = socket.create_connection(("127.0.0.1", relay.port), timeout=30,
                                   source_address=(source, 0))
    ctx = ssl.create_default_context(cafile=relay.ca)
    s = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
    try:
        key = base64.b64encode(os.urandom(16)).decode()
        extra = f"X-Forwarded-For: {forwarded_for}\r\n" if forwarded_for else ""
        s.sendall((f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{relay.port}\r\nUpgrade: websocket\r\n"
                   f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                   f"Sec-WebSocket-Version: 13\r\n{extra}\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = s.recv(4096)
            if not chunk:
                return {"type": "__closed__"}
            head += chunk
        if b" 101 " not in head.split(b"\r\n")[0]:
            return {"type": "__refused__", "text": head.split(b"\r\n")[0].decode()}
        rest = head.split(b"\r\n\r\n", 1)[1]
        payload = json.dumps({"type": "join", "token": token}).encode()
        mask = os.urandom(4)
        header = bytes([0x81, 0x80 | len(payload)]) if len(payload) < 126 else \
            bytes([0x81, 0x80 | 126]) + struct.pack("!H", len(payload))
        s.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))
        data = rest
        while True:
            while len(data) < 2:
                data += s.recv(4096)
            n = data[1] & 0x7F
            off = 2
            if n == 126:
                while len(data) < 4:
                    data += s.recv(4096)
                n, off = struct.unpack("!H", data[2:4])[0], 4
            while len(data) < off + n:
                chunk = s.recv(4096)
                if not chunk:
                    return {"type": "__closed__"}
                data += chunk
            opcode, body, data = data[0] & 0x0F, data[off:off + n], data[off + n:]
            if opcode == 0x1:
                return json.loads(body)
            if opcode == 0x8:
                return {"type": "__closed__"}
    finally:
        s.close()


def join_codes(relay, forwarded, source="127.0.0.1"):
    """The error codes of joins with a bad token, one for each X-Forwarded-For in FORWARDED (a
    bounded loop), eight at a time: the failed-join limit refills at 2 a second, which a loaded
    machine could match one join after another."""
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        return list(pool.map(lambda f: ws_join(relay, "not-a-token", source=source,
                                               forwarded_for=f).get("code"), forwarded))


def fingerprint_served(port):
    """SHA-256 of the certificate a new TLS connection gets (not verified: only looked at)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with ctx.wrap_socket(raw) as s:
            return hashlib.sha256(s.getpeercert(binary_form=True)).hexdigest()


def fingerprint_file(path):
    with open(path) as f:
        return hashlib.sha256(ssl.PEM_cert_to_DER_cert(f.read())).hexdigest()


def new_certificate(state):
    """Replaces the relay's certificate and key on disk (as a renewal would)."""
    tls = os.path.join(state, "tls")
    key, cert = os.path.join(tls, "key.pem.new"), os.path.join(tls, "cert.pem.new")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=testimony-relay renewed",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-days", "2",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    os.chmod(key, 0o600)
    os.replace(key, os.path.join(tls, "key.pem"))
    os.replace(cert, os.path.join(tls, "cert.pem"))


def write_config(path, trusted):
    with open(path, "w") as f:
        f.write("[relay]\n" + (f"trusted-proxies = {trusted}\n" if trusted else ""))


def relay_log(relay):
    with open(relay.log_path) as f:
        return f.read()


def check_metrics_during_hearing(relay, mport, tokens):
    def forwarded():
        return metrics(mport)[0].get("testimony_packets_forwarded_total", 0)
    before = forwarded()
    check(wait_until(lambda: forwarded() > before + 200, 30),
          f"packets forwarded grow while the clients exchange media ({before:.0f} -> "
          f"{forwarded():.0f})")
    m, text = metrics(mport)
    for role in ("judge", "witness", "clerk"):
        check(m.get(f'testimony_participants{{role="{role}",state="admitted"}}') == 1,
              f"participants: one {role} admitted")
    others = sum(v for k, v in m.items() if k.startswith("testimony_participants{") and
                 not re.search(r'role="(judge|witness|clerk)",state="admitted"', k))
    check(others == 0, f"no other participant counted ({others:.0f})")
    check(m.get("testimony_hearings") == 1, "one hearing open")
    check(m.get("testimony_connections") == 9, f"9 media connections: {m.get('testimony_connections')}")
    check(m.get("testimony_bytes_forwarded_total", 0) > 0 and
          m.get("testimony_packets_received_total", 0) > 0, "bytes forwarded and packets received")
    check('testimony_packets_dropped_total{reason="srtp"}' in m and
          'testimony_nacks_total{direction="in"}' in m and "testimony_retransmissions_total" in m,
          "drops by reason, NACKs and retransmissions are there")
    check(wait_until(lambda: metrics(mport)[0].get("testimony_rtt_seconds_count", 0) > 0, 20),
          "an RTT summary of the open connections")
    secrets = [n for _, n, _, _ in PEOPLE] + [n.split()[-1] for _, n, _, _ in PEOPLE] + \
        tokens + [relay.hearing, "BK-2026-117", "127.0.0.1"]
    leaked = [s for s in secrets if s in text]
    check(not leaked, f"/metrics names no participant, token, hearing, case or address {leaked}")


def check_forwarded_for(relay, mport, cfg):
    # An untrusted peer: whatever it claims, its failed joins count against its own address.
    got = join_codes(relay, [f"198.51.100.{i}" for i in range(1, 97)])
    check("bad-token" in got and "rate-limited" in got,
          f"untrusted X-Forwarded-For is ignored: {got.count('rate-limited')} of {len(got)} "
          f"failed joins claiming 96 addresses rate-limited")
    # Through the trusted proxy, the same failed joins from 96 clients: each is counted against
    # its own client, so none reaches the limit (the proxy's own address would have).
    got = join_codes(relay, [f"203.0.113.9, 192.0.2.{i}" for i in range(1, 97)], source=PROXY)
    check(got.count("bad-token") > 20 and "rate-limited" not in got,
          f"behind the trusted proxy, 96 clients' failed joins count per client: "
          f"{got.count('rate-limited')} rate-limited")
    # ... and one client's own failures still stop it, not another behind the proxy.
    got = join_codes(relay, ["203.0.113.9, 192.0.2.250"] * 96, source=PROXY)
    check("bad-token" in got and "rate-limited" in got,
          f"a client behind the trusted proxy is rate-limited ({got.count('rate-limited')} of "
          f"{len(got)} failed joins)")
    other = ws_join(relay, "not-a-token", source=PROXY, forwarded_for="192.0.2.251").get("code")
    check(other == "bad-token", f"another client behind the same proxy is not: {other}")
    m = metrics(mport)[0]
    check(m.get('testimony_join_failures_total{code="rate-limited"}', 0) >= 2 and
          m.get('testimony_join_failures_total{code="bad-token"}', 0) >= 21,
          "join failures counted by code")
    # Live change: the proxy is no longer trusted; its header is ignored from now on.
    write_config(cfg, None)
    relay.proc.send_signal(signal.SIGHUP)
    check(wait_until(lambda: "trusted-proxies is now (none)" in relay_log(relay), 20),
          "SIGHUP: the log says trusted-proxies changed")
    got = join_codes(relay, [f"192.0.2.{i}" for i in range(100, 196)], source=PROXY)
    check("rate-limited" in got, "once no longer trusted, the proxy's X-Forwarded-For is ignored")


def check_reload(relay, clients):
    old = fingerprint_served(relay.port)
    check(old == fingerprint_file(relay.ca), "the relay serves its certificate")
    new_certificate(relay.state)
    new = fingerprint_file(relay.ca)
    mark = relay_log(relay).count("reload: done")
    relay.proc.send_signal(signal.SIGHUP)
    check(wait_until(lambda: relay_log(relay).count("reload: done") > mark, 20),
          "SIGHUP: the relay reloads")
    colon = ":".join(new[i:i + 2] for i in range(0, len(new), 2))
    check(f"fingerprint {colon} (new)".lower() in relay_log(relay).lower(),
          "the log names the new certificate's fingerprint")
    served = fingerprint_served(relay.port)
    check(served == new and served != old,
          f"new TLS connections get the new certificate ({served[:16]}, was {old[:16]})")
    counts = {c.name: {n: frames_from(c, n) for _, n, _, _ in PEOPLE} for c in clients}
    wait_until(reports_advanced(clients, 4), 30)
    for c in clients:
        for _, n, _, _ in PEOPLE:
            if c.name != n.split()[0].lower():
                now = frames_from(c, n)
                check(now > counts[c.name][n] + 30,
                      f"after the reload {c.name} still decodes {n}'s video "
                      f"({counts[c.name][n]} -> {now} frames)")


def main():
    cfg_dir = tempfile.mkdtemp(prefix="testimony-ops-")
    cfg = os.path.join(cfg_dir, "relay.conf")
    write_config(cfg, f"{PROXY}/32")
    mport = free_port()
    relay = Relay(extra_args=["--config", cfg, "--metrics-listen", f"127.0.0.1:{mport}"])
    tokens = {role: relay.token(role, name) for role, name, _, _ in PEOPLE}
    clients = [Client(relay, tokens[role], role, color, tone, duration=280)
               for role, _, color, tone in PEOPLE]
    probe = None
    try:
        ctx = ssl.create_default_context(cafile=relay.ca)
        headers = {}
        status, body = http_get(relay.url + "/healthz", ctx, headers)
        check(status == 200 and json.loads(body) == {"status": "ok"} and
              headers.get("Strict-Transport-Security") == "max-age=31536000",
              f"HTTPS /healthz without a token: {status} {body.strip()} (with HSTS)")
        status, body = http_get(f"http://127.0.0.1:{mport}/healthz")
        check(status == 200 and "ok" in body, f"metrics listener /healthz: {status}")
        m, text = metrics(mport)
        check(m.get("testimony_up") == 1 and "# TYPE testimony_packets_forwarded_total counter"
              in text, "/metrics answers in Prometheus text format")
        check(http_get(f"http://127.0.0.1:{mport}/api/status")[0] == 404,
              "the metrics listener serves nothing else")
        wait_until(lambda: all(frames_from(c, n) > 30 for c in clients for _, n, _, _ in PEOPLE
                               if c.name != n.split()[0].lower()), 90)
        check_metrics_during_hearing(relay, mport, list(tokens.values()))
        console = relay.token("clerk", "Recording console")
        rc, out, err = ctl(relay, console, "record", "start")
        check(rc == 0, f"recording started {out} {err}")
        check(wait_until(lambda: metrics(mport)[0].get("testimony_recordings") == 1 and
                         metrics(mport)[0].get("testimony_recorded_bytes_total", 0) > 10000, 20),
              "metrics: one recording, its bytes growing")
        check_reload(relay, clients)
        check_forwarded_for(relay, mport, cfg)
        # A configuration with a mistake changes nothing.
        with open(cfg, "w") as f:
            f.write("[relay]\ntrusted-proxy = 10.0.0.1\n")
        relay.proc.send_signal(signal.SIGHUP)
        check(wait_until(lambda: "reload: nothing changed" in relay_log(relay), 20) and
              relay.alive() and http_get(f"http://127.0.0.1:{mport}/healthz")[0] == 200,
              "SIGHUP with a bad configuration: nothing changes, the relay runs on")
        # A participant that joins after the reload, with the new certificate.
        probe = Probe(relay, json.dumps({"type": "join", "token": relay.token(
            "observer", "Observer Dao")}), wait_ms=60000)
        check(wait_until(lambda: probe.got("joined"), 20), "an observer joins after the reload")
        # SIGTERM during the recording.
        relay.proc.send_signal(signal.SIGTERM)
        try:
            code = relay.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            code = None
        check(code == 0, f"the relay stops by itself, exit {code}")
        msgs = probe.join(30)
        check(any(m.get("type") == "shutdown" for m in msgs),
              "the observer was told: {\"type\":\"shutdown\"}")
        check({"type": "__closed__", "code": 1001} in msgs, "then its connection closed (1001)")
        for c in clients:
            with open(c.stderr_path) as f:
                told = "relay is stopping" in f.read()
            check(told, f"{c.name}'s client was told the relay is stopping")
        text = relay_log(relay)
        log("\n".join(l for l in text.splitlines() if "stop" in l or "signed" in l))
        check("stopping: telling" in text and "finished and signed" in text and
              "testimony-relay stopped" in text, "the log says it told everyone and signed")
        key = os.path.join(relay.state, "keys", "evidence.pub")
        recs = glob.glob(os.path.join(relay.state, "recordings", "*"))
        check(len(recs) == 1, f"one recording {recs}")
        r = subprocess.run([VERIFY, recs[0], "--key", key], capture_output=True, text=True)
        log(r.stdout)
        manifest = json.load(open(os.path.join(recs[0], "manifest.json")))
        check(r.returncode == 0 and r.stdout.startswith("OK") and "Participants: 4" in r.stdout
              and not manifest.get("interrupted", False),
              "testimony-verify --key accepts the recording, finished (not interrupted), with "
              "the three clients and the observer")
        audit = os.path.join(relay.state, "hearings", f"{relay.hearing}.audit.jsonl")
        r = subprocess.run([VERIFY, "--audit", audit, "--key", key], capture_output=True,
                           text=True)
        check(r.stdout.startswith("Hearing") and "NOT CLOSED: the" in r.stdout and
              "verify and are signed" in r.stdout,
              f"the audit log is signed to its last entry (the hearing did not end): "
              f"{r.stdout.strip().splitlines()[-1:]}")
        entries = [json.loads(l) for l in open(audit) if '"action"' in l]
        actions = [e.get("action") for e in entries]
        check("relay-shutdown" in actions and actions.count("leave") >= 4 and
              "record-stop" in actions, f"the audit log says the relay stopped: {actions[-6:]}")
    finally:
        if probe is not None and probe.proc.poll() is None:
            probe.proc.kill()
        harness.shutdown(relay, clients)
    finish()


if __name__ == "__main__":
    main()
