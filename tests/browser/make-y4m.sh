#!/bin/sh
# make-y4m.sh RRGGBB FILE [FRAMES] — a solid-colour 640x480 4:2:0 y4m at 30 fps, for Chromium's
# --use-file-for-fake-video-capture (it loops the file), made with GStreamer's y4menc.
set -e
color=$1
out=$2
frames=${3:-30}
case $color in
  [0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F]) ;;
  *) echo "usage: make-y4m.sh RRGGBB FILE [FRAMES]" >&2; exit 2 ;;
esac
exec gst-launch-1.0 -q videotestsrc pattern=solid-color foreground-color=0xff$color \
  num-buffers="$frames" ! video/x-raw,format=I420,width=640,height=480,framerate=30/1 \
  ! y4menc ! filesink location="$out"
