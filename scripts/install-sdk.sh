#!/usr/bin/env bash
# Installs the SageMaker Python SDK v3, the oracle of scripts/checks/sdk-parity, into the
# git-ignored .tools/sdk-venv (its own venv: its pins are not the validators').
# Idempotent: a stamp file records what was installed.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .tools

SDK="sagemaker==3.27.0"

stamp_ok() { [[ -f "$1" && "$(cat "$1")" == "$2" ]]; }

if ! stamp_ok .tools/sdk-venv.stamp "$SDK"; then
  python3 -m venv .tools/sdk-venv
  .tools/sdk-venv/bin/pip install --quiet --disable-pip-version-check $SDK
  echo "$SDK" > .tools/sdk-venv.stamp
fi
echo "SageMaker SDK ready in .tools/sdk-venv"
