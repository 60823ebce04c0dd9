#!/usr/bin/env python3
"""The client ends with a non-zero status and one clear sentence when it cannot take part."""
import subprocess

from harness import CLIENT, PIPELINES, Relay, check, finish, free_port


def run(args):
    p = subprocess.run([CLIENT, "--headless", "--test-source", "color=ffffff,tone=500",
                        "--duration", "5", "--pipelines", PIPELINES, *args],
                       capture_output=True, text=True, timeout=60)
    lines = [l for l in p.stderr.splitlines() if l.startswith("testimony-client:")]
    return p.returncode, lines


def main():
    relay = Relay()
    try:
        tok = relay.token("witness", "W")
        rc, lines = run(["--relay", f"https://127.0.0.1:{free_port()}", "--token", tok,
                         "--ca", relay.ca])
        check(rc not in (0, None) and len(lines) == 1 and "reach" in lines[0],
              f"unreachable relay: exit {rc}, {lines}")
        rc, lines = run(["--relay", relay.url, "--token", tok])
        check(rc not in (0, None) and len(lines) == 1 and "certificate" in lines[0],
              f"untrusted TLS certificate: exit {rc}, {lines}")
        rc, lines = run(["--relay", relay.url, "--token", "garbage", "--ca", relay.ca])
        check(rc not in (0, None) and len(lines) == 1 and "token" in lines[0],
              f"rejected token: exit {rc}, {lines}")
        check(relay.alive(), "relay still running")
    finally:
        relay.stop()
        relay.cleanup()
    finish()


if __name__ == "__main__":
    main()
