#!/usr/bin/env bash
# Wall time of `mlopsc plan` and `mlopsc apply` against moto_server, split into time spent
# awaiting AWS (the emulator) and time spent in mlopsc, as printed by `--timings`.
# Usage: scripts/bench-deploy.sh [SPEC]   (default: examples/churn-tabular/mlops.yaml, the
# example moto deploys whole: it uses an existing KMS key, and moto's AWS::KMS::Key handler
# crashes on the Tags of the stack key the other examples create)
set -euo pipefail
cd "$(dirname "$0")/.."
spec=${1:-examples/churn-tabular/mlops.yaml}
scripts/install-moto.sh
cargo build --quiet
mlopsc=target/debug/mlopsc

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
.tools/venv/bin/moto_server -H 127.0.0.1 -p "$port" >/dev/null 2>&1 &
moto=$!
trap 'kill $moto 2>/dev/null' EXIT
for _ in $(seq 1 100); do (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done

export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_ENDPOINT_URL
aws=(--endpoint-url "http://127.0.0.1:$port" --region us-east-1)

run() { # label, command...
  local label=$1; shift
  local start end out rc=0
  start=$(date +%s.%N)
  out=$("$@" 2>&1 >/dev/null) || rc=$?
  end=$(date +%s.%N)
  out=$(grep '^timings:' <<<"$out" || true)
  printf '%-22s exit %d  wall %6.3fs  %s\n' "$label" "$rc" "$(echo "$end - $start" | bc)" "${out#timings: }"
}

run "plan (new stack)" "$mlopsc" plan "$spec" "${aws[@]}" --timings
run "plan (warm emulator)" "$mlopsc" plan "$spec" "${aws[@]}" --timings
run "apply (create)" "$mlopsc" apply "$spec" "${aws[@]}" --auto-approve --timings
run "apply (no changes)" "$mlopsc" apply "$spec" "${aws[@]}" --auto-approve --timings
run "plan (no changes)" "$mlopsc" plan "$spec" "${aws[@]}" --timings
