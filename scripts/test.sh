#!/bin/sh
# Installs, builds and runs every test (unit, fuzz corpora, end to end in network namespaces).
set -eu
cd "$(dirname "$0")/.."
sh scripts/setup.sh
meson test -C build --print-errorlogs "$@"
