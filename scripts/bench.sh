#!/usr/bin/env bash
# Whole-process timings of mlopsc on the flagship, each next to baselines measured in the
# same run: process start-up (`true`) and mlopsc's own start-up (`mlopsc --version`).
# Then the in-process criterion benchmarks (flagship, and synthetic specs growing tenfold).
#   scripts/bench.sh            # both
#   scripts/bench.sh --quick    # whole-process timings only
# Both build without the AWS SDK (`--no-default-features`): it is not on the compile path.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --no-default-features
bin=target/release/mlopsc
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
python3 - "$bin" "$out" <<'PY'
import statistics, subprocess, sys, time
binary, out = sys.argv[1], sys.argv[2]
spec = "examples/skin-lesion/mlops.yaml"
runs = 60
cases = [
    ("baseline: true (process start-up)", ["true"]),
    ("baseline: mlopsc --version", [binary, "--version"]),
    ("mlopsc validate flagship", [binary, "validate", spec]),
    ("mlopsc build flagship", [binary, "build", spec, "-o", f"{out}/skin-lesion"]),
    ("mlopsc build --check flagship", [binary, "build", spec, "--check", "-o", f"{out}/skin-lesion"]),
]
print(f"{'command':<40} {'median':>10} {'p90':>10}   ({runs} runs each)")
for name, argv in cases:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    print(f"{name:<40} {statistics.median(times):>8.2f}ms {times[int(runs * 0.9)]:>8.2f}ms")
PY
if [[ "${1:-}" != "--quick" ]]; then
  cargo bench --no-default-features --bench compile -- --warm-up-time 1 --measurement-time 3 2>&1 | grep -E '^[a-z].*|time:' | grep -v '^Benchmarking\|^Gnuplot'
fi
