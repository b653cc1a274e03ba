#!/usr/bin/env bash
# Renders the SVG diagrams in headless Chromium, a real browser: each of the three kinds that
# `mlopsc graph --format svg` draws for every example, and every SVG under
# generated/*/diagrams/ and generated/*/*/diagrams/ (the environments'). Fails when one does not parse as XML (Chromium then shows a
# <parsererror>) or when its screenshot is blank. The screenshots stay in $SVG_CHECK_DIR
# (target/svg-check/ by default), to be looked at.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/optional.sh
chromium=/nonexistent/chromium
for name in "${CHROMIUM:-}" chromium chromium-browser; do
  if [[ -n $name ]] && command -v "$name" >/dev/null; then
    chromium=$(command -v "$name")
    break
  fi
done
require_or_skip "$chromium" "SVG rendering check" "no chromium; scripts/install-tools.sh installs it"
target=${CARGO_TARGET_DIR:-target}
mlopsc=${MLOPSC:-$target/debug/mlopsc}
[[ -x $mlopsc ]] || { echo "check-svg: missing $mlopsc (cargo build first)"; exit 2; }
out=$(realpath -m "${SVG_CHECK_DIR:-$target/svg-check}")
rm -rf "$out" && mkdir -p "$out/svg" "$out/png"
for spec in examples/*/mlops.yaml; do
  example=$(basename "$(dirname "$spec")")
  for kind in pipeline architecture monitoring; do
    "$mlopsc" graph "$spec" --kind "$kind" --format svg >"$out/svg/$example-$kind.svg"
  done
done
for svg in generated/*/diagrams/*.svg generated/*/*/diagrams/*.svg; do
  [[ -f $svg ]] || continue
  # generated/PROJECT[/ENV]/diagrams/KIND.svg as generated-PROJECT[-ENV]-KIND.svg
  owner=${svg#generated/}
  owner=${owner%/diagrams/*}
  cp "$svg" "$out/svg/generated-${owner//\//-}-$(basename "$svg")"
done
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
browse() {
  timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --hide-scrollbars \
    --user-data-dir="$profile" "$@" 2>>"$out/chromium.log"
}
status=0
for svg in "$out"/svg/*.svg; do
  name=$(basename "$svg" .svg)
  # The size the SVG asks for.
  size=$(head -c 400 "$svg" | grep -o 'width="[0-9.]*" height="[0-9.]*"' | head -1 | tr -dc '0-9. ' | tr ' ' ',')
  width=${size%%,*}
  height=${size##*,}
  if [[ -z $width || -z $height ]]; then
    echo "FAILED: $name: no width and height on its <svg>"
    status=1
    continue
  fi
  dom=$(browse --dump-dom "file://$svg")
  if grep -q '<parsererror' <<<"$dom"; then
    echo "FAILED: $name does not parse: $(grep -o '<div[^>]*>[^<]*' <<<"$dom" | head -1 | sed 's/<div[^>]*>//')"
    status=1
    continue
  fi
  # Headless Chromium's page is smaller than its window (by about 85 pixels in height): the
  # window gets room to spare, so that the screenshot holds the whole drawing.
  browse --screenshot="$out/png/$name.png" --window-size="$((${width%.*} + 40)),$((${height%.*} + 160))" \
    "file://$svg" >/dev/null
  read -r inked total < <(python3 scripts/png-ink.py "$out/png/$name.png")
  # A diagram draws at least its boxes and their text: far more than one pixel in a thousand.
  if (( inked * 1000 < total )); then
    echo "FAILED: $name renders blank ($inked of $total pixels drawn)"
    status=1
  else
    echo "ok: $name (${width}x${height}, $inked of $total pixels drawn)"
  fi
done
echo "screenshots in $out/png"
exit $status
