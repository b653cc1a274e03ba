"""Preprocess step: merge the data sources by their layouts, remove the images that several
sources share, split into train, validation and test without splitting a lesion's images
across splits (stratified by label), then resize and normalize every image.

The public sources overlap: ISIC 2019 redistributes every HAM10000 image under the same
`ISIC_` id and the BCN20000 images under new names. A copy in train and another in test would
inflate the quality gate, so before splitting, images are deduplicated across sources by image
id and by a hash of their decoded pixels, and the groups that are kept whole (lesions) are
joined across sources through those copies.

Arguments (from pipeline.json): --train-ratio, --validation-ratio, --test-ratio,
--stratify, --group-by, --image-size WxH, --mean, --std, and one --source JSON object per
data source with its format, local path and layout (images folder, labels file, columns).
"""

import argparse
import csv
import hashlib
import json
import os
import random
from collections import Counter, defaultdict
from pathlib import Path

from common import CLASSES_FILE, MANIFEST, TRANSFORM_FILE, canonical_label, taxonomy

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


class Record:
    """One labelled image of one source. `image_id` is the name the source gives the image
    (`ISIC_0024306`), for the sources whose names are ids; `lesion` is its group column's
    value, if any."""

    def __init__(self, path, label, source, image_id, lesion):
        self.path, self.label, self.source = path, label, source
        self.image_id, self.lesion = image_id, lesion
        self.group = None  # set by deduplicate()


def records(source, group_by):
    """The labelled images of one data source, read according to its layout; the lesion is
    the source's group column, else the `--group-by` column, when the labels file has it."""
    root = Path(source["path"])
    images = root / (source.get("images") or "")
    name = source["name"]
    if source["format"] == "imageFolder":
        for label_dir in sorted(p for p in images.iterdir() if p.is_dir()):
            for path in sorted(label_dir.iterdir()):
                if path.suffix.lower() in IMAGE_SUFFIXES:
                    # File names in class folders are not ids: `0001.jpg` recurs across folders.
                    yield Record(path, canonical_label(label_dir.name), name, None, None)
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
        else:  # ISIC 2019: one-hot class columns; a row with no class set (UNK) has no label
            classes = [c for c in row if c != image_column]
            label = max(classes, key=lambda c: float(row[c] or 0))
            if float(row[label] or 0) <= 0:
                continue
        lesion = row.get(source.get("groupColumn") or group_by or "") or None
        yield Record(path, canonical_label(label), name, path.stem.upper(), lesion)


def pixel_hash(path):
    """sha256 of the decoded RGB pixels and the size. Decoded pixels, not file bytes: the
    sources ship the same photograph with different file metadata (renamed, EXIF rewritten),
    which changes the bytes but not the pixels; a re-encoded copy is not caught by either."""
    from PIL import Image

    with Image.open(path) as image:
        rgb = image.convert("RGB")
        digest = hashlib.sha256(f"{rgb.size[0]}x{rgb.size[1]}:".encode())
        digest.update(rgb.tobytes())
        return digest.hexdigest()


class Components:
    """Union-find over record indices."""

    def __init__(self, size):
        self.parent = list(range(size))

    def find(self, i):
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def join(self, i, j):
        a, b = self.find(i), self.find(j)
        if a != b:
            self.parent[max(a, b)] = min(a, b)


def join_by(items, keys, components):
    """Joins the items that share any of their keys; `keys(item)` yields hashable keys."""
    first = {}
    for i, item in enumerate(items):
        for key in keys(item):
            if key in first:
                components.join(first[key], i)
            else:
                first[key] = i


def deduplicate(items):
    """The records with one copy of each image (the first, in source order), each with the
    group it must stay in: its lesion, joined across sources through the images they share.
    Prints what it removed."""
    copies = Components(len(items))
    hashes = [pixel_hash(item.path) for item in items]
    join_by(items, lambda item: [("id", item.image_id)] if item.image_id else [], copies)
    by_id = sum(1 for i in range(len(items)) if copies.find(i) != i)
    join_by(range(len(items)), lambda i: [("pixels", hashes[i])], copies)
    kept = [i for i in range(len(items)) if copies.find(i) == i]
    conflicts = sum(1 for i in range(len(items)) if items[i].label != items[copies.find(i)].label)
    # A lesion id names the same lesion in every source (ISIC 2019 reuses HAM10000's), and a
    # copy joins its lesion in one source with its lesion in another.
    groups = Components(len(items))
    for i in range(len(items)):
        groups.join(i, copies.find(i))
    join_by(items, lambda item: [("lesion", item.lesion)] if item.lesion else [], groups)
    for i in kept:
        items[i].group = f"g{groups.find(i)}"
    dropped = len(items) - len(kept)
    print(f"dedup: {len(items)} images, {dropped} copies removed ({by_id} by image id, "
          f"{dropped - by_id} by identical pixels), {conflicts} copies labelled differently "
          f"(the first source's label kept), {len({items[i].group for i in kept})} groups")
    return [items[i] for i in kept]


def split_groups(items, ratios, stratify, seed):
    """Assigns whole groups to splits; with stratify, separately within each label so that
    every split keeps the label mix."""
    groups = defaultdict(list)
    for item in items:
        groups[item.group].append(item)
    strata = defaultdict(list)
    for key, members in sorted(groups.items()):
        majority = Counter(item.label for item in members).most_common(1)[0][0]
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
        writer.writerow(["file", "label", "group", "source", "image"])
        for i, item in enumerate(items):
            image = Image.open(item.path).convert("RGB").resize(size, Image.BILINEAR)
            array = np.asarray(image, dtype=np.float32).transpose(2, 0, 1) / 255.0
            name = f"{i:07d}.npy"
            np.save(folder / name, ((array - mean) / std).astype(np.float32))
            writer.writerow([name, item.label, item.group, item.source, item.path.name])
    (folder / CLASSES_FILE).write_text(json.dumps(classes))
    # What the serving handler must do to a new image to match these arrays.
    transform = {"width": size[0], "height": size[1], "mean": mean.ravel().tolist(), "std": std.ravel().tolist()}
    (folder / TRANSFORM_FILE).write_text(json.dumps(transform))


def main():
    args = arguments()
    present = []
    for source in args.source:
        root = Path(source["path"])
        marker = root / (source.get("images") or "") if source["format"] == "imageFolder" else root / source["labels"]
        if marker.exists():
            present.append(source)
        else:  # any subset of the declared sources may be present
            print(f"source {source['name']}: absent (no {marker}), skipped")
    items = [record for source in present for record in records(source, args.group_by)]
    folder_classes = {item.label for item in items if item.image_id is None}
    classes = taxonomy([source["format"] for source in args.source], folder_classes)
    outside = Counter(item.label for item in items if item.label not in classes)
    if outside:
        print(f"dropped {sum(outside.values())} images whose label is not one of {', '.join(classes)}: "
              + ", ".join(f"{label} ({n})" for label, n in sorted(outside.items())))
    items = [item for item in items if item.label in classes]
    if not items:
        raise SystemExit("no labelled images found in the data sources")
    items = deduplicate(items)
    print(f"classes ({len(classes)}): {', '.join(classes)}")
    ratios = (args.train_ratio, args.validation_ratio, args.test_ratio)
    splits = split_groups(items, ratios, args.stratify == "true", args.seed)
    width, height = (int(v) for v in args.image_size.split("x"))
    mean = [float(v) for v in args.mean.split(",")]
    std = [float(v) for v in args.std.split(",")]
    for split, members in splits.items():
        write_split(split, members, (width, height), mean, std, classes)
        print(f"{split}: {len(members)} images")


if __name__ == "__main__":
    main()
