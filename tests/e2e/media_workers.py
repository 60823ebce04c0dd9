#!/usr/bin/env python3
"""Two hearings at once on a relay with two media worker threads (media-workers 2).

Each hearing has a judge and a witness with their own colour and tone; each participant decodes
the other one of its own hearing with the right colour and tone and never anyone of the other
hearing. The relay puts the hearings on different workers (its log says which), and both worker
threads (media-0, media-1: /proc/PID/task/*/stat) use CPU while the media flows, while the
control thread answers /api/status and /metrics for both hearings. A SIGHUP that changes
media-workers in the configuration file is reported as waiting for a restart; SIGTERM stops
the relay cleanly (the workers joined after the hearings closed)."""
import os
import re
import shutil
import signal
import subprocess
import tempfile
import urllib.request

from harness import (RELAY, Client, Relay, check, finish, free_port, hex_rgb, remote_by_name,
                     shutdown, thread_usage, wait_until)

HEARINGS = {
    "h1": [("judge", "Judge One", "ff0000", 440), ("witness", "Witness One", "00ff00", 660)],
    "h2": [("judge", "Judge Two", "0000ff", 880), ("witness", "Witness Two", "ffff00", 550)],
}
CALL_SECONDS = 25
MIN_WORKER_CPU_S = 0.05  # DTLS handshakes and a few thousand packets each: well above this


def thread_cpu(pid):
    """CPU seconds of each thread of PID, by thread name."""
    out = {}
    for name, seconds in thread_usage(pid).values():
        out[name] = out.get(name, 0) + seconds
    return out


def metric(port, name):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        text = r.read().decode()
    m = re.search(rf"^{re.escape(name)} (\S+)$", text, re.M)
    return float(m.group(1)) if m else None


def check_view(who, report, hearing):
    """WHO's report: the other participant of its hearing in colour and tone, nobody else."""
    own = [p for p in HEARINGS[hearing] if p[1] != who]
    names = sorted(r.get("name") for r in (report or {}).get("remotes", []))
    check(names == sorted(p[1] for p in own), f"{who} receives only {[p[1] for p in own]} "
          f"({names})")
    for role, name, color, tone in own:
        r = remote_by_name(report, name)
        if not check(r is not None, f"{who} sees {name}"):
            continue
        v, a = r.get("video", {}), r.get("audio", {})
        check(v.get("frames", 0) >= 100, f"{who} decoded {v.get('frames', 0)} frames of {name}")
        got = (v.get("r", -999), v.get("g", -999), v.get("b", -999))
        check(all(abs(g - w) <= 40 for g, w in zip(got, hex_rgb(color))),
              f"{who} sees {name}'s colour {got} ~ {hex_rgb(color)}")
        check(abs(a.get("freq_hz", 0) - tone) <= 25,
              f"{who} hears {name}'s tone {a.get('freq_hz', 0):.0f} Hz ~ {tone} Hz")


def relay_log(relay):
    with open(relay.log_path) as f:
        return f.read()


def main():
    mport = free_port()
    cfg_dir = tempfile.mkdtemp(prefix="testimony-workers-")
    cfg = os.path.join(cfg_dir, "relay.conf")
    with open(cfg, "w") as f:
        f.write("[relay]\nmedia-workers = 2\n")
    relay = Relay(hearing="h1", extra_args=["--config", cfg, "--metrics-listen",
                                            f"127.0.0.1:{mport}"])
    subprocess.run([RELAY, "hearing", "create", "--state-dir", relay.state, "--id", "h2",
                    "--case", "BK-2026-118", "--waiting-room", "off"], check=True,
                   stdout=subprocess.DEVNULL)
    clients = {}
    try:
        check(wait_until(lambda: "2 worker thread(s)" in relay_log(relay), 10),
              "the relay starts two media workers")
        tokens = {}
        for hearing, people in HEARINGS.items():
            for role, name, color, tone in people:
                tokens[name] = relay.token(role, name, hearing=hearing)
                clients[name] = Client(relay, tokens[name], name.replace(" ", "-").lower(),
                                       color, tone, CALL_SECONDS + 20)
        def placed():
            found = {h: re.search(rf"hearing {h}: its media on (\S+)", relay_log(relay))
                     for h in HEARINGS}
            return {h: m.group(1) if m else None for h, m in found.items()}
        wait_until(lambda: None not in placed().values(), 30)
        where = placed()
        check(set(where.values()) == {"media-0", "media-1"},
              f"the two hearings are on different workers ({where})")
        # Both hearings' media flowing: every participant decodes the other of its hearing.
        wait_until(lambda: all(all(remote_by_name(c.last(), o[1]) is not None and
                                   remote_by_name(c.last(), o[1]).get("video", {})
                                   .get("frames", 0) >= 100
                                   for o in HEARINGS[h] if o[1] != name)
                               for h in HEARINGS for name in (p[1] for p in HEARINGS[h])
                               for c in [clients[name]]), 90)
        for hearing, people in HEARINGS.items():
            for _, name, _, _ in people:
                check_view(name, clients[name].last(), hearing)
        # While the media flows, the control thread reads both hearings under their locks.
        for hearing, people in HEARINGS.items():
            status = relay.status(tokens[people[0][1]])
            check(sorted(p["name"] for p in status.get("participants", [])) ==
                  sorted(p[1] for p in people),
                  f"/api/status of {hearing} lists its two participants")
        check(metric(mport, "testimony_hearings") == 2, "/metrics counts two open hearings")
        check(metric(mport, "testimony_connections") == 8,
              "/metrics counts eight media connections (a publish and a receive connection each): "
              f"{metric(mport, 'testimony_connections')}")
        # Both workers carry media: each thread's CPU time grows past MIN_WORKER_CPU_S.
        pid = relay.proc.pid
        check(wait_until(lambda: all(thread_cpu(pid).get(w, 0) >= MIN_WORKER_CPU_S
                                     for w in ("media-0", "media-1")), 60),
              f"both media workers used CPU: {thread_cpu(pid)}")
        # A change of media-workers waits for a restart.
        with open(cfg, "w") as f:
            f.write("[relay]\nmedia-workers = 1\n")
        relay.proc.send_signal(signal.SIGHUP)
        check(wait_until(lambda: "media-workers changed in the configuration; it takes effect at "
                         "the next restart" in relay_log(relay), 20),
              "SIGHUP: media-workers is restart-only")
        check(relay.alive(), "the relay runs on after the reload")
        rc = {name: c.wait(timeout=CALL_SECONDS + 60) for name, c in clients.items()}
        check(all(v == 0 for v in rc.values()), f"every client left cleanly ({rc})")
    finally:
        shutdown(relay, clients.values(), client_logs=True)
        check(relay.proc.returncode == 0, f"relay stopped cleanly (exit {relay.proc.returncode})")
        relay.cleanup()
        shutil.rmtree(cfg_dir, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()
