#!/usr/bin/env bash
# Installs the system packages Somana needs (Debian/Ubuntu), when missing: the real slicer,
# Chromium for the browser tests, PostgreSQL for the multi-station order store tests, Mosquitto
# (the floor's message bus) and KiCad's demo boards (the board-intake tests).
set -euo pipefail

missing=()
command -v prusa-slicer >/dev/null 2>&1 || missing+=(prusa-slicer)
[ -x /usr/bin/chromium ] || missing+=(chromium)
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || missing+=(postgresql)
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || missing+=(mosquitto)
command -v mosquitto_pub >/dev/null 2>&1 || missing+=(mosquitto-clients)  # scripts/somana-estop
[ -d /usr/share/kicad/demos ] || [ -d /usr/share/doc/kicad-demos ] || dpkg -s kicad-demos >/dev/null 2>&1 || missing+=(kicad-demos)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || missing+=(python3-venv)

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "somana: missing system packages: ${missing[*]}" >&2
  echo "somana: run as root, or install them yourself: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "somana: missing ${missing[*]} and no apt-get here; install them with your package manager" >&2
  exit 1
fi
echo "somana: installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${missing[@]}" >/dev/null
echo "somana: system packages installed"
