#!/usr/bin/env python3
"""testimony-client finds its profiles without --pipelines or $TESTIMONY_PIPELINES (suite 'tools').

    client_pipelines.py CLIENT SOURCE_DIR

Run inside a private network namespace (tests/e2e/netns-run.sh). With neither set, a client run
from the build tree looks in the source tree's pipelines/ (SOURCE_DIR), whatever is installed
(an installed client uses the installed copy: tests/e2e/install.py):

  - an unknown profile is refused with the path it looked for, in that directory;
  - each shipped profile loads and its pipeline is built: the client gets as far as the relay
    (none listens, so it ends saying it cannot reach it).
"""
import os
import socket
import subprocess
import sys

CLIENT, SOURCE_DIR = sys.argv[1:3]


def client(profile):
    """Exit status and the client's own stderr lines for a join with PROFILE to a closed port."""
    env = {k: v for k, v in os.environ.items() if k != "TESTIMONY_PIPELINES"}
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    p = subprocess.run([CLIENT, "--headless", "--test-source", "color=00ff00,tone=600",
                        "--relay", f"https://127.0.0.1:{port}", "--token", "t", "--duration", "5",
                        "--profile", profile],
                       capture_output=True, text=True, timeout=60, env=env)
    return p.returncode, [l for l in p.stderr.splitlines() if l.startswith("testimony-client:")]


def main():
    expected = SOURCE_DIR
    failures = []
    rc, lines = client("nosuch")
    wanted = os.path.join(expected, "nosuch.pipeline")
    print(f"unknown profile: exit {rc}, {lines}")
    if rc != 2 or not any(wanted in l for l in lines):
        failures.append(f"an unknown profile should be looked for as {wanted}")
    for profile in ("standard", "low-bandwidth"):
        rc, lines = client(profile)
        print(f"{profile}: exit {rc}, {lines}")
        if rc < 0:
            print(f"note: the client died of signal {-rc} after its last line")
        if rc in (0, 2) or len(lines) != 1 or "reach" not in lines[0]:
            failures.append(f"the {profile} profile should load from {expected} and the client "
                            "should stop only at the unreachable relay")
    for f in failures:
        print(f"FAIL: {f}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
