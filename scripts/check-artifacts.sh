#!/usr/bin/env bash
# Runs every external validator on every generated/<project>/ directory and every environment's
# generated/<project>/<env>/ (each output directory has its own manifest.json), then renders the
# SVG diagrams in headless Chromium (scripts/check-svg.sh). Any finding fails.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
for dir in generated/*/ generated/*/*/; do
  dir=${dir%/}
  [[ -f $dir/manifest.json ]] || continue
  echo "== $dir"
  for check in scripts/checks/*; do
    [[ -f $check && -x $check ]] || continue  # skips scripts/checks/lib/
    if ! "$check" "$dir"; then
      echo "FAILED: $(basename "$check") on $dir"
      status=1
    fi
  done
done
# The diagrams, rendered in a real browser (headless Chromium).
echo "== SVG diagrams"
if ! scripts/check-svg.sh; then
  echo "FAILED: check-svg"
  status=1
fi
exit $status
