#!/bin/sh
# setup-browser.sh — what the browser tests (tests/browser) need on Debian 12, as root:
# Debian's chromium, a Thai font for the Thai pages, node and npm (only if node is missing), and
# playwright-core from the lockfile. Called by scripts/setup.sh.
set -e
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
pkgs="chromium fonts-tlwg-garuda-otf"
command -v node >/dev/null 2>&1 || pkgs="$pkgs nodejs npm"
apt-get install -y --no-install-recommends $pkgs
command -v gst-launch-1.0 >/dev/null 2>&1 || apt-get install -y --no-install-recommends gstreamer1.0-tools
cd tests/browser
npm ci --no-audit --no-fund
