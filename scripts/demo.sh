#!/bin/sh
# Installs, builds and runs a demo hearing on localhost: a judge, a witness and a clerk join with
# test pictures and tones, and a table shows who received whom. Runs inside a private network
# namespace (needs root), so nothing leaves the machine.
set -eu
cd "$(dirname "$0")/.."
sh scripts/setup.sh
exec sh tests/e2e/netns-run.sh python3 scripts/demo.py
