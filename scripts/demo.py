#!/usr/bin/env python3
"""A demo hearing on 127.0.0.1: three headless participants for 20 s, then a table of who
received whom (frames decoded, mean colour, tone heard)."""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RELAY = os.path.join(ROOT, "build", "relay", "shell", "testimony-relay")
CLIENT = os.path.join(ROOT, "build", "client", "testimony-client")
PEOPLE = [("judge", "Judge Somchai", "ff0000", 440),
          ("witness", "Witness A", "00ff00", 660),
          ("clerk", "Clerk B", "0000ff", 880)]


def main():
    work = tempfile.mkdtemp(prefix="testimony-demo-")
    state = os.path.join(work, "state")
    port = 8443
    subprocess.run([RELAY, "hearing", "create", "--state-dir", state, "--id", "demo",
                    "--case", "DEMO-2026-1", "--waiting-room", "off"], check=True)
    relay = subprocess.Popen([RELAY, "--state-dir", state, "--listen", f"127.0.0.1:{port}"],
                             stdout=open(os.path.join(work, "relay.log"), "w"),
                             stderr=subprocess.STDOUT)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    print("relay running; three participants join for 20 seconds ...", flush=True)
    clients = []
    for role, name, color, tone in PEOPLE:
        token = subprocess.run([RELAY, "token", "--state-dir", state, "--hearing", "demo",
                                "--role", role, "--name", name], check=True,
                               capture_output=True, text=True).stdout.strip()
        report = os.path.join(work, f"{role}.jsonl")
        proc = subprocess.Popen([CLIENT, "--relay", f"https://127.0.0.1:{port}", "--token", token,
                                 "--ca", os.path.join(state, "tls", "cert.pem"), "--headless",
                                 "--pipelines", os.path.join(ROOT, "pipelines"),
                                 "--test-source", f"color={color},tone={tone}",
                                 "--report", report, "--duration", "20"],
                                stdout=open(os.path.join(work, f"{role}.log"), "w"),
                                stderr=subprocess.STDOUT)
        clients.append((role, name, report, proc))
    for _, _, _, proc in clients:
        proc.wait(timeout=90)
    relay.terminate()
    relay.wait(timeout=10)
    print()
    print(f"{'receiver':<16}{'sender':<16}{'frames':>8}  {'size':<9}{'mean colour':<16}"
          f"{'tone heard':>10}  {'first frame':>11}")
    ok = True
    for role, name, report, proc in clients:
        seen = {}  # the last report of each sender, also of those who left first
        try:
            with open(report) as f:
                for line in f:
                    if line.strip():
                        for r in json.loads(line).get("remotes", []):
                            seen[r.get("id")] = r
        except (FileNotFoundError, json.JSONDecodeError):
            pass
        remotes = list(seen.values())
        if not remotes:
            ok = False
            print(f"{name:<16}(received nothing)")
        for r in remotes:
            v, a = r.get("video", {}), r.get("audio", {})
            colour = "#%02x%02x%02x" % (int(v.get("r", 0)), int(v.get("g", 0)), int(v.get("b", 0)))
            print(f"{name:<16}{r.get('name', '?'):<16}{v.get('frames', 0):>8}  "
                  f"{str(v.get('width', 0)) + 'x' + str(v.get('height', 0)):<9}{colour:<16}"
                  f"{a.get('freq_hz', 0):>7.0f} Hz  {r.get('first_frame_ms', 0):>8} ms")
    print()
    print("Sent: Judge Somchai #ff0000 440 Hz, Witness A #00ff00 660 Hz, Clerk B #0000ff 880 Hz.")
    print("To join with a real camera and microphone, run the relay outside this demo:")
    print("  build/relay/shell/testimony-relay --state-dir ./state &")
    print("  build/relay/shell/testimony-relay hearing create --state-dir ./state --id h1")
    print("  TOKEN=$(build/relay/shell/testimony-relay token --state-dir ./state --hearing h1 "
          "--role judge --name 'Judge')")
    print("  build/client/testimony-client --relay https://127.0.0.1:8443 --token \"$TOKEN\" "
          "--ca ./state/tls/cert.pem --pipelines pipelines")
    shutil.rmtree(work, ignore_errors=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
