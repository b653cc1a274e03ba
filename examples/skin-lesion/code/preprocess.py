"""Preprocess step: merge the data sources by their layouts, split them into train,
validation and test without splitting a lesion's images across splits (stratified by
label), then resize and normalize every image.

Arguments (from pipeline.json): --train-ratio, --validation-ratio, --test-ratio,
--stratify, --group-by, --image-size WxH, --mean, --std, and one --source JSON object per
data source with its format, local path and layout (images folder, labels file, columns).
"""

import argparse
import csv
import json
import os
import random
from collections import Counter, defaultdict
from pathlib import Path

from common import CLASSES_FILE, MANIFEST, TRANSFORM_FILE, canonical_label

# SageMaker runs the job under /opt/ml; `mlopsc run --local` moves that root with MLOPSC_OPT_ML.
OPT_ML = Path(os.environ.get("MLOPSC_OPT_ML", "/opt/ml"))
OUTPUT = OPT_ML / "processing/output"
SPLITS = ("train", "validation", "test")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


def arguments():
    parser = argparse.ArgumentParser()
    parser.add_argument("--train-ratio", type=float, required=True)
    parser.add_argument("--validation-ratio", type=float, required=True)
    parser.add_argument("--test-ratio", type=float, required=True)
    parser.add_argument("--stratify", choices=["true", "false"], default="true")
    parser.add_argument("--group-by")
    parser.add_argument("--image-size", default="224x224")
    parser.add_argument("--mean", default="0.485,0.456,0.406")
    parser.add_argument("--std", default="0.229,0.224,0.225")
    parser.add_argument("--source", action="append", type=json.loads, required=True)
    parser.add_argument("--seed", type=int, default=42)
    return parser.parse_args()


def find_image(folder, stem):
    for suffix in ("",) + IMAGE_SUFFIXES:
        path = folder / f"{stem}{suffix}"
        if path.is_file():
            return path
    return None


def records(source, group_by):
    """(image path, label, group) of one data source, read according to its layout; the
    group is the source's group column, else the `--group-by` column, else the image."""
    root = Path(source["path"])
    images = root / (source.get("images") or "")
    name = source["name"]
    if source["format"] == "imageFolder":
        for label_dir in sorted(p for p in images.iterdir() if p.is_dir()):
            for path in sorted(label_dir.iterdir()):
                if path.suffix.lower() in IMAGE_SUFFIXES:
                    yield path, canonical_label(label_dir.name), f"{name}:{path.stem}"
        return
    with open(root / source["labels"], newline="") as f:
        rows = list(csv.DictReader(f))
    image_column = source["imageColumn"]
    for row in rows:
        path = find_image(images, row[image_column])
        if path is None:
            continue
        if source.get("labelColumn"):
            label = row[source["labelColumn"]]
        else:  # ISIC 2019: one-hot class columns
            classes = [c for c in row if c != image_column]
            label = max(classes, key=lambda c: float(row[c] or 0))
        group = row.get(source.get("groupColumn") or group_by or "") or path.stem
        yield path, canonical_label(label), f"{name}:{group}"


def split_groups(items, ratios, stratify, seed):
    """Assigns whole groups to splits; with stratify, separately within each label so that
    every split keeps the label mix."""
    groups = defaultdict(list)
    for item in items:
        groups[item[2]].append(item)
    strata = defaultdict(list)
    for key, members in sorted(groups.items()):
        majority = Counter(label for _, label, _ in members).most_common(1)[0][0]
        strata[majority if stratify else "all"].append(key)
    rng = random.Random(seed)
    assigned = {split: [] for split in SPLITS}
    for keys in strata.values():
        rng.shuffle(keys)
        cut_train = round(len(keys) * ratios[0])
        cut_validation = cut_train + round(len(keys) * ratios[1])
        for i, key in enumerate(keys):
            split = "train" if i < cut_train else "validation" if i < cut_validation else "test"
            assigned[split].extend(groups[key])
    return assigned


def write_split(split, items, size, mean, std, classes):
    import numpy as np
    from PIL import Image

    folder = OUTPUT / split
    folder.mkdir(parents=True, exist_ok=True)
    mean = np.array(mean, dtype=np.float32)[:, None, None]
    std = np.array(std, dtype=np.float32)[:, None, None]
    with open(folder / MANIFEST, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["file", "label", "group"])
        for i, (path, label, group) in enumerate(items):
            image = Image.open(path).convert("RGB").resize(size, Image.BILINEAR)
            array = np.asarray(image, dtype=np.float32).transpose(2, 0, 1) / 255.0
            name = f"{i:07d}.npy"
            np.save(folder / name, ((array - mean) / std).astype(np.float32))
            writer.writerow([name, label, group])
    (folder / CLASSES_FILE).write_text(json.dumps(classes))
    # What the serving handler must do to a new image to match these arrays.
    transform = {"width": size[0], "height": size[1], "mean": mean.ravel().tolist(), "std": std.ravel().tolist()}
    (folder / TRANSFORM_FILE).write_text(json.dumps(transform))


def main():
    args = arguments()
    items = [record for source in args.source for record in records(source, args.group_by)]
    if not items:
        raise SystemExit("no labelled images found in the data sources")
    ratios = (args.train_ratio, args.validation_ratio, args.test_ratio)
    splits = split_groups(items, ratios, args.stratify == "true", args.seed)
    classes = sorted({label for _, label, _ in items})
    width, height = (int(v) for v in args.image_size.split("x"))
    mean = [float(v) for v in args.mean.split(",")]
    std = [float(v) for v in args.std.split(",")]
    for split, members in splits.items():
        write_split(split, members, (width, height), mean, std, classes)
        print(f"{split}: {len(members)} images")


if __name__ == "__main__":
    main()
