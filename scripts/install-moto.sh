#!/usr/bin/env bash
# Installs moto_server (the local AWS emulator the deploy tests run against) into .tools/venv.
# Idempotent: does nothing when the venv already has moto_server.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.tools/venv
if [ -x "$venv/bin/moto_server" ]; then
  exit 0
fi
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check 'moto[server]>=5,<6'
"$venv/bin/moto_server" --help >/dev/null
echo "moto_server installed in $venv"
