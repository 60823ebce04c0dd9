#!/usr/bin/env python3
"""A witness behind a strict firewall joins: over ICE-TCP, and through a TURN server on TCP 443.

The relay, the judge's testimony-client and (second part) a coturn started by this test are in
one network namespace; the witness's testimony-client in another, joined by the userspace link
of tests/netem, whose firewall settings play the witness's network:

1. ICE-TCP: the link drops every UDP packet both ways. The relay takes ICE-TCP (--ice-tcp); the
   witness's client connects to the relay's passive TCP candidate. The judge sees the witness's
   green and hears its 660 Hz; the witness sees the judge's red and hears its 440 Hz. A relay
   with no TURN server configured hands out none (joined has no iceServers).
2. TURN on 443: the link lets through only TCP to or from port 443 — the relay's signalling and
   pages on 10.77.1.1:443, coturn on 10.77.1.2:443 (TLS, a certificate made here). The relay
   gives each participant short-lived credentials at join; the witness's media goes through
   coturn (its allocation is in coturn's log) and the same pictures and tones arrive.
   testimony-client (libnice) speaks TURN over TCP to that port without TLS: coturn's TLS port
   takes both (docs/deployment.md). Real TLS to it is shown with a TURN Allocate over TLS that
   verifies coturn's certificate.
3. coturn refuses expired and forged credentials (401) and grants the relay's (positive control),
   over UDP and TLS.

Join time (witness start → its first decoded frame of the judge) is logged for each path; the
figures in docs/performance.md come from `strict_firewall.py --rounds N` (tests/bench)."""
import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "netem"))

from harness import (PROBE, Client, Relay, buffers_from, check, finish, frames_from, log,
                     remote_by_name, shutdown, wait_until)
from netns_link import ImpairedLink

TURN_ADDR = "10.77.1.2"  # coturn's own address in the relay's namespace
RELAY_ADDR = ImpairedLink.B_ADDR
HERE = os.path.dirname(os.path.abspath(__file__))
TURNSERVER = shutil.which("turnserver") or "/usr/bin/turnserver"


def turn_credentials(secret, ident, expires):
    """coturn's shared-secret scheme, computed apart from the relay's code."""
    user = f"{expires}:{ident}"
    password = base64.b64encode(hmac.new(secret.encode(), user.encode(), hashlib.sha1).digest())
    return user, password.decode()


class Coturn:
    """coturn (turnserver) as a child process on a scratch configuration, in side B of LINK:
    TURN over UDP and TCP on 3478, TLS on 443, shared-secret credentials."""

    def __init__(self, link, workdir, secret):
        self.dir = os.path.join(workdir, "coturn")
        os.makedirs(self.dir)
        self.cert, key = make_certificate(self.dir, "turn", TURN_ADDR)
        conf = os.path.join(self.dir, "turnserver.conf")
        with open(conf, "w") as f:
            f.write(f"""listening-ip={TURN_ADDR}
relay-ip={TURN_ADDR}
listening-port=3478
tls-listening-port=443
min-port=49152
max-port=49407
use-auth-secret
static-auth-secret={secret}
realm=court.test
cert={self.cert}
pkey={key}
cipher-list=ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384
no-tlsv1
no-tlsv1_1
no-dtls
no-cli
no-multicast-peers
denied-peer-ip=0.0.0.0-255.255.255.255
allowed-peer-ip={RELAY_ADDR}
fingerprint
userdb={os.path.join(self.dir, "turndb")}
pidfile={os.path.join(self.dir, "turnserver.pid")}
log-file=stdout
simple-log
verbose
""")
        # on the relay's interface: libnice binds its sockets to the interface of the media
        # address (SO_BINDTODEVICE), so an address on another interface (lo) of the same
        # machine is not reached from the relay's sockets (docs/deployment.md)
        link.run("b", ["ip", "addr", "add", f"{TURN_ADDR}/32", "dev", link.SIDES["b"][0]],
                 check=True)
        self.log_path = os.path.join(self.dir, "turnserver.log")
        self.log = open(self.log_path, "w")
        self.proc = link.popen("b", [TURNSERVER, "-c", conf], stdout=self.log,
                               stderr=subprocess.STDOUT)
        if not wait_until(self._listening, 15, 0.1):
            raise RuntimeError("coturn did not start:\n" + open(self.log_path).read())

    def _listening(self):
        if self.proc.poll() is not None:
            raise RuntimeError("coturn exited:\n" + open(self.log_path).read())
        with open(f"/proc/{self.proc.pid}/net/tcp") as f:
            return any(r.split()[1].endswith(":01BB") and r.split()[3] == "0A"
                       for r in f.readlines()[1:])

    def text(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()


def make_certificate(directory, name, address):
    """A self-signed ECDSA P-256 certificate for ADDRESS: (cert.pem, key.pem)."""
    cert = os.path.join(directory, f"{name}-cert.pem")
    key = os.path.join(directory, f"{name}-key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "1", "-subj", f"/CN={address}", "-addext",
                    f"subjectAltName=IP:{address}"],
                   check=True, capture_output=True)
    return cert, key


def relay_config(turn, cert, key):
    """The relay's configuration file: TURN servers and secret, its certificate."""
    conf = os.path.join(turn["dir"], "relay.conf")
    with open(conf, "w") as f:
        f.write("[relay]\n"
                f"turn-server=turns:{TURN_ADDR}:443?transport=tcp;"
                f"turn:{TURN_ADDR}:3478?transport=udp;\n"
                f"turn-secret={turn['secret']}\nturn-lifetime=600\n"
                f"certificate={cert}\nprivate-key={key}\n")
    return conf


def witness_view(judge, witness, what):
    """Checks the pictures and tones each side sees and hears."""
    ok = wait_until(lambda: frames_from(judge, "Witness A") > 30 and
                    buffers_from(judge, "Witness A") > 50 and
                    frames_from(witness, "Judge Somchai") > 30, 60)
    check(ok, f"{what}: the judge decodes the witness and the witness the judge "
              f"({frames_from(judge, 'Witness A')} and {frames_from(witness, 'Judge Somchai')} "
              f"frames)")
    wait_until(lambda: frames_from(judge, "Witness A") > 60, 20)
    r = remote_by_name(judge.last(), "Witness A") or {}
    v, a = r.get("video", {}), r.get("audio", {})
    check(abs(v.get("g", 0) - 255) <= 40 and v.get("r", 255) <= 40 and v.get("b", 255) <= 40,
          f"{what}: the judge sees the witness's green ({v})")
    check(abs(a.get("freq_hz", 0) - 660) <= 25,
          f"{what}: the judge hears the witness's 660 Hz ({a.get('freq_hz')})")
    w = remote_by_name(witness.last(), "Judge Somchai") or {}
    wv, wa = w.get("video", {}), w.get("audio", {})
    check(abs(wv.get("r", 0) - 255) <= 40 and wv.get("g", 255) <= 40,
          f"{what}: the witness sees the judge's red ({wv})")
    check(abs(wa.get("freq_hz", 0) - 440) <= 25,
          f"{what}: the witness hears the judge's 440 Hz ({wa.get('freq_hz')})")
    return w.get("first_frame_ms")


def no_leak(path, link, judge, joined):
    """The witness's addresses (its own, 10.77.0.1, and its TURN relay address on TURN_ADDR)
    reach no other participant: every candidate in the answers the judge got is the relay's,
    and neither the judge's log nor a joined message names them."""
    judge_text = open(judge.stderr_path, errors="replace").read()
    answers = "".join(part.split("--- offer for")[0]
                      for part in judge_text.split("--- answer for")[1:])
    cands = re.findall(r"a=candidate:\S+ \d+ \S+ \d+ (\S+) ", answers)
    check(cands and all(c == link.B_ADDR for c in cands) and link.A_ADDR not in judge_text,
          f"{path}: the judge's answers carry only the relay's candidates "
          f"({sorted(set(cands))}), nothing names the witness's address")
    check(link.A_ADDR not in json.dumps(joined) and TURN_ADDR not in json.dumps(
        {k: v for k, v in joined.items() if k != "iceServers"}),
          f"{path}: nor does what another participant is told at join")


def cpu_per_packet(relay, token, seconds=10):
    """The relay's CPU time per packet it forwarded over SECONDS, in µs."""
    def sample():
        status = relay.status_in(token)
        sent = sum(p.get("tx_packets", 0) for p in status.get("participants", []))
        return relay.usage()[0], sent
    cpu0, sent0 = sample()
    time.sleep(seconds)
    cpu1, sent1 = sample()
    return (cpu1 - cpu0) * 1e6 / max(1, sent1 - sent0), (sent1 - sent0) / seconds


def joined_message(link, relay, token):
    """The relay's joined message to a participant, asked from the relay's namespace."""
    out = subprocess.run(link.command("b", [PROBE, "--relay", relay.url, "--ca", relay.ca,
                                            "--wait", "500",
                                            json.dumps({"type": "join", "token": token})]),
                         capture_output=True, text=True, timeout=30)
    for line in out.stdout.splitlines():
        try:
            m = json.loads(line)
        except json.JSONDecodeError:
            continue
        if m.get("type") == "joined":
            return m
    return {}


def call(path, settings, relay_args, turn=None, measure=False):
    """One hearing, the witness behind SETTINGS; returns (join ms, µs/packet, packets/s)."""
    figures = (None, None, None)
    with ImpairedLink(a2b=settings, b2a=settings, seed=5) as link:
        in_b = lambda argv: link.command("b", argv)
        in_a = lambda argv: link.command("a", argv)
        coturn = None
        args = list(relay_args)
        if turn is not None:
            coturn = Coturn(link, turn["dir"], turn["secret"])
        port = 443 if turn is not None else None
        if port:
            args += ["--listen", f"{link.B_ADDR}:443"]
        if port:  # its own certificate, for the address it listens on (coturn has 443 too)
            cert, key = make_certificate(turn["dir"], "relay", link.B_ADDR)
            args += ["--config", relay_config(turn, cert, key)]
        relay = Relay(host=link.B_ADDR, wrap=in_b, extra_args=args, port=port)
        if port:
            relay.url, relay.ca = relay.remote_url, cert
        judge_token = relay.token("judge", "Judge Somchai")
        os.environ["TESTIMONY_CLIENT_PRINT_OFFER"] = "1"  # the client prints offers and answers
        judge = Client(relay, judge_token, "judge", "ff0000", 440, 90, wrap=in_b, remote=True)
        witness = Client(relay, relay.token("witness", "Witness A"), "witness", "00ff00", 660, 90,
                         wrap=in_a, remote=True)
        del os.environ["TESTIMONY_CLIENT_PRINT_OFFER"]
        try:
            first_ms = witness_view(judge, witness, path)
            if coturn is not None and os.environ.get("STRICT_FIREWALL_DEBUG"):
                log(coturn.text()[-6000:])
            counters = link.counters()
            check(not settings or counters["a2b"]["drop_filter"] > 0 and counters["b2a"]["out"] > 100,
                  f"{path}: the witness's firewall dropped what it does not let through "
                  f"({counters['a2b']['drop_filter']} packets) and the media came through it")
            probe_token = relay.token("clerk", "Clerk Probe")
            joined = joined_message(link, relay, probe_token)
            no_leak(path, link, judge, joined)
            if turn is None:
                check(joined.get("type") == "joined" and "iceServers" not in joined,
                      f"{path}: a relay with no TURN server hands out none ({sorted(joined)})")
            else:
                servers = joined.get("iceServers") or [{}]
                user, cred = servers[0].get("username", ""), servers[0].get("credential", "")
                expires = int(user.split(":")[0]) if ":" in user else 0
                want = turn_credentials(turn["secret"], user.split(":", 1)[-1], expires)
                check((user, cred) == want and 0 < expires - time.time() <= 600 and
                      servers[0].get("urls", [""])[0].startswith("turns:"),
                      f"{path}: joined carries the TURN servers and this participant's "
                      f"credentials, valid for the configured 600 s ({user})")
                log_text = coturn.text()
                # the witness's id as the relay gave it (the judge and the witness start
                # together, so either may be p1)
                wid = (witness.last() or {}).get("id", "?")
                check(re.search(rf"user <\d+:{re.escape(wid)}>: incoming packet CREATE_PERMISSION "
                                r"processed, success", log_text) is not None,
                      f"{path}: the witness's media went through coturn (its allocation's "
                      f"permission for the relay, as {wid}, is in coturn's log)")
                refused_and_granted(link, coturn, turn["secret"], user, cred)
            if measure:
                figures = (first_ms, *cpu_per_packet(relay, judge_token))
            log(f"{path}: join (witness start to its first frame of the judge) "
                f"{first_ms} ms")
        finally:
            shutdown(relay, [judge, witness], client_logs=True)
            if coturn is not None:
                coturn.log.close()
    return figures


def refused_and_granted(link, coturn, secret, user, cred):
    """coturn grants the relay's credentials and refuses expired and forged ones."""
    now = int(time.time())
    expired = turn_credentials(secret, "p9", now - 60)
    forged = turn_credentials("not-the-court-secret-0123456789", "p9", now + 600)
    tampered = (f"{now + 86400 * 365}:{user.split(':', 1)[1]}", cred)  # a later expiry, same MAC
    cases = [("the relay's", (user, cred), "udp", 3478, "allocated"),
             ("the relay's, over TLS", (user, cred), "tls", 443, "allocated"),
             ("expired", expired, "udp", 3478, "refused"),
             ("expired, over TLS", expired, "tls", 443, "refused"),
             ("forged (another secret)", forged, "udp", 3478, "refused"),
             ("an expiry pushed back", tampered, "udp", 3478, "refused")]
    def probe(u, p, transport, port, *peer):
        out = subprocess.run(link.command("b", [sys.executable, os.path.join(HERE, "turn_probe.py"),
                                                TURN_ADDR, str(port), transport, u, p,
                                                coturn.cert, *peer]),
                             capture_output=True, text=True, timeout=30)
        return out.stdout.strip() or out.stderr.strip().splitlines()[-1:]
    for what, (u, p), transport, port, want in cases:
        got = probe(u, p, transport, port)
        ok = str(got).startswith(f"('{want}'") and (want == "allocated" or "401" in str(got))
        check(ok, f"coturn: {what} credentials {want} ({got})")
    # The court's TURN server relays to the relay only (allowed-peer-ip), to nothing else.
    to_relay = probe(user, cred, "udp", 3478, RELAY_ADDR)
    elsewhere = probe(user, cred, "udp", 3478, "10.77.0.1")
    check(str(to_relay).startswith("('permitted'") and
          str(elsewhere).startswith("('permission refused', 403"),
          f"coturn relays to the relay's address only ({to_relay}; to 10.77.0.1: {elsewhere})")


def main():
    rounds = 1
    if len(sys.argv) > 2 and sys.argv[1] == "--rounds":
        rounds = int(sys.argv[2])
    workdir = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"testimony-fw-{os.getpid()}")
    os.makedirs(workdir)
    results = {"UDP": [], "ICE-TCP": [], "TURN-TLS": []}
    try:
        only = os.environ.get("STRICT_FIREWALL_ONLY", "")
        for r in range(rounds):
            measure = rounds > 1
            if measure:
                results["UDP"].append(call("UDP (no firewall)", "", ["--ice-tcp"],
                                           measure=True))
            if only != "turn":
                results["ICE-TCP"].append(call("ICE-TCP (UDP dropped)", "udp=0", ["--ice-tcp"],
                                               measure=measure))
            turn_dir = os.path.join(workdir, f"turn-{r}")
            os.makedirs(turn_dir)
            results["TURN-TLS"].append(call("TURN on 443 (only TCP 443)", "udp=0 tcp_port=443",
                                            ["--ice-tcp"],
                                            turn={"dir": turn_dir,
                                                  "secret": secrets.token_hex(32)},
                                            measure=measure))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if rounds > 1:
        for path, rows in results.items():
            joins = sorted(r[0] for r in rows if r[0] is not None)
            cpu = sorted(r[1] for r in rows if r[1] is not None)
            rate = sorted(r[2] for r in rows if r[2] is not None)
            if joins:
                log(f"figures {path}: join median {joins[len(joins) // 2]} ms "
                    f"(min {joins[0]}, max {joins[-1]}, n={len(joins)}); relay CPU "
                    f"{cpu[len(cpu) // 2]:.1f} µs/forwarded packet at "
                    f"{rate[len(rate) // 2]:.0f} packets/s")
    finish()


if __name__ == "__main__":
    main()
