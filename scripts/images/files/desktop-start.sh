#!/bin/sh
# A desktop session: Xvnc (TigerVNC) on display :1, listening for RFB on loopback only, twm and an xterm,
# and websockify serving the RFB stream as a WebSocket (noVNC's protocol) on $WEBSOCKIFY_PORT, with noVNC's
# own pages at /vnc.html. Environment: WEBSOCKIFY_PORT (6080), GEOMETRY (1280x720), BACKGROUND (#2e5d8a).
set -eu
export DISPLAY=:1
export HOME="${HOME:-/home/streamspace}"
mkdir -p "$HOME"
cd "$HOME"
rm -f /tmp/.X1-lock /tmp/.X11-unix/X1
Xvnc :1 -rfbport 5901 -localhost yes -SecurityTypes None -geometry "${GEOMETRY:-1280x720}" -depth 24 \
  -nolisten tcp -AlwaysShared -desktop "${STREAMSPACE_SESSION:-desktop}" &
xvnc=$!
i=0
while [ ! -S /tmp/.X11-unix/X1 ]; do
  i=$((i + 1))
  [ "$i" -lt 100 ] || { echo "Xvnc did not start" >&2; exit 1; }
  kill -0 "$xvnc" || { echo "Xvnc exited" >&2; exit 1; }
  sleep 0.1
done
xsetroot -solid "${BACKGROUND:-#2e5d8a}"
twm &
xterm -geometry 100x30+40+40 -title terminal &
echo "desktop ready on display :1, noVNC websocket on port ${WEBSOCKIFY_PORT:-6080}"
websockify --web /usr/share/novnc "${WEBSOCKIFY_PORT:-6080}" localhost:5901 &
ws=$!
# As PID 1 neither websockify nor this shell would act on SIGTERM (no default handlers in PID 1): stop at once,
# or every hibernation would wait out the grace period before the pod goes.
trap 'kill "$ws" "$xvnc" 2>/dev/null; exit 0' TERM INT
wait "$ws"
