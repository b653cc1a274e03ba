# Material a check may not find on this machine, sourced by scripts (Rust tests have the same
# rules in tests/common/optional.rs):
#   - ../shared, CI's read-only folder of schemas and data: $MLOPSC_SHARED_DIR, by default
#     `shared/` beside the repository. A fresh clone has none.
# Absent material is never a silent pass: the check prints one line `skipped: <what> (<why>)`
# on stderr (and appends it to $MLOPSC_SKIP_LOG, which `make test` repeats at the end), and
# under CI=true, where the material must be present, it fails instead.

# The shared folder, whether or not it exists.
shared_dir() {
  local repo
  repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  echo "${MLOPSC_SHARED_DIR:-$(dirname "$repo")/shared}"
}

# require_or_skip PATH WHAT WHY: returns when PATH exists. Otherwise ends the calling script:
# exit 2 under CI=true, else one `skipped:` line and exit 0.
require_or_skip() {
  local path=$1 what=$2 why=$3
  [[ -e $path ]] && return 0
  if [[ ${CI:-} == true ]]; then
    echo "error: $what is required under CI=true ($why)" >&2
    exit 2
  fi
  local line="skipped: $what ($why)"
  echo "$line" >&2
  if [[ -n ${MLOPSC_SKIP_LOG:-} ]]; then
    echo "$line" >>"$MLOPSC_SKIP_LOG"
  fi
  exit 0
}
