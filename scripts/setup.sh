#!/bin/sh
# Installs what testimony needs on Debian 12 (as root) and builds it in ./build.
set -eu
cd "$(dirname "$0")/.."
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Every GStreamer element and tool used must come from these packages or their Depends
  # (checked by tests/tools/packages.py); gstreamer1.0-x has textoverlay (captions, composite)
  # and ximagesink (the kiosk's window, libx11-dev); xvfb is the kiosk test's screen; coturn is
  # the TURN server the firewall test starts (docs/deployment.md).
  apt-get install -y -qq --no-install-recommends \
    meson ninja-build gcc libc6-dev pkg-config python3 iproute2 util-linux ca-certificates openssl \
    libglib2.0-dev libjson-glib-dev libssl-dev libsrtp2-dev libnice-dev libsoup-3.0-dev \
    libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstreamer-plugins-bad1.0-dev \
    gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad \
    gstreamer1.0-nice gstreamer1.0-x gstreamer1.0-tools libx11-dev xvfb coturn >/dev/null
  sh scripts/setup-browser.sh >/dev/null ||
    echo "setup: the browser test tools could not be installed; the browser tests will be skipped"
fi
if [ ! -d build ]; then
  meson setup build >/dev/null
fi
ninja -C build
