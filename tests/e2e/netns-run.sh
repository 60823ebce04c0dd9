#!/bin/sh
# Runs a command inside a private network namespace that has only a loopback interface, so that
# nothing a test does (ICE, UPnP/SSDP probes, DNS) can leave the machine. Needs root (or
# unprivileged user namespaces); exits 77 (meson: skipped) when namespaces are unavailable.
if ! unshare --net true 2>/dev/null; then
  echo "network namespaces unavailable (run as root): skipping" >&2
  exit 77
fi
exec unshare --net -- sh -c 'ip link set lo up && exec "$@"' netns-run "$@"
