#!/usr/bin/env python3
"""Writes the flagship's three data sources from generated images, for machines without the
real ones (../shared/data): synthetic dermoscopy-like JPEGs (a skin-toned field with one
blob whose colour and size depend on the class) in the HAM10000, ISIC 2019 and BCN20000
layouts, the same layouts scripts/ham10000-layouts.py makes from real images.

    python scripts/synthetic-layouts.py --out /tmp/derm --per-class 3 [--overlap]

Each layout gets --per-class lesions of each of its classes (HAM10000 has no SCC), one or two
images per lesion. With --overlap the sources overlap as the real ones do: ISIC 2019 also
holds every HAM10000 image under the same `ISIC_` id, and every BCN20000 image renamed to an
`ISIC_` id, byte for byte. Needs numpy and Pillow (the step code's venv has both).
"""

import argparse
import csv
import random
import shutil
from pathlib import Path

import numpy as np
from PIL import Image

ISIC_COLUMNS = ["MEL", "NV", "BCC", "AK", "BKL", "DF", "VASC", "SCC", "UNK"]
HAM_DX = {"MEL": "mel", "NV": "nv", "BCC": "bcc", "AK": "akiec", "BKL": "bkl", "DF": "df", "VASC": "vasc"}
BCN_DIAGNOSIS = {
    "MEL": "melanoma", "NV": "nevus", "BCC": "basal cell carcinoma", "AK": "actinic keratosis",
    "BKL": "seborrheic keratosis", "DF": "dermatofibroma", "VASC": "vascular lesion",
    "SCC": "squamous cell carcinoma",
}
# The blob's colour per class, so that a network has something to learn.
COLOURS = {
    "MEL": (40, 25, 20), "NV": (120, 70, 45), "BCC": (200, 150, 160), "AK": (190, 90, 80),
    "BKL": (150, 110, 60), "DF": (170, 120, 110), "VASC": (170, 30, 50), "SCC": (220, 190, 170),
}


def image(label, rng, size):
    """One JPEG-able picture: noise on skin tone, and the class's blob at a random place."""
    width, height = size
    pixels = np.clip(np.array([225, 180, 160]) + rng.normal(0, 12, (height, width, 3)), 0, 255)
    y, x = np.mgrid[0:height, 0:width]
    cy, cx = rng.uniform(0.35, 0.65) * height, rng.uniform(0.35, 0.65) * width
    radius = rng.uniform(0.15, 0.3) * min(width, height) * (1.3 if label in ("MEL", "BCC") else 1.0)
    blob = ((y - cy) ** 2 + (x - cx) ** 2) < radius ** 2
    pixels[blob] = np.clip(np.array(COLOURS[label]) + rng.normal(0, 10, (blob.sum(), 3)), 0, 255)
    return Image.fromarray(pixels.astype(np.uint8))


def lesions(classes, per_class, first_id, rng, size, folder, name_of, lesion_prefix):
    """Writes `per_class` lesions of each class, one or two images each, into `folder`;
    returns (file name, image id, label, lesion id) per image."""
    folder.mkdir(parents=True, exist_ok=True)
    rows, next_id = [], first_id
    for label in classes:
        for _ in range(per_class):
            lesion = f"{lesion_prefix}_{next_id:07d}"
            for _ in range(1 + int(rng.random() < 0.5)):
                image_id = name_of(next_id)
                image(label, rng, size).save(folder / f"{image_id}.jpg", quality=90)
                rows.append((f"{image_id}.jpg", image_id, label, lesion))
                next_id += 1
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--per-class", type=int, default=3)
    parser.add_argument("--size", default="64x48", help="WxH of the images")
    parser.add_argument("--overlap", action="store_true", help="ISIC 2019 holds copies of the other two")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))
    rng = np.random.default_rng(args.seed)
    random.seed(args.seed)

    ham = args.out / "ham10000"
    ham_rows = lesions(list(HAM_DX), args.per_class, 24306, rng, size, ham / "images",
                       lambda n: f"ISIC_{n:07d}", "HAM")
    with open(ham / "HAM10000_metadata.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["lesion_id", "image_id", "dx", "dx_type", "age", "sex", "localization"])
        for _, image_id, label, lesion in ham_rows:
            writer.writerow([lesion, image_id, HAM_DX[label], "synthetic", "", "", ""])

    bcn = args.out / "bcn20000"
    bcn_rows = lesions(list(BCN_DIAGNOSIS), args.per_class, 1, rng, size, bcn / "images",
                       lambda n: f"BCN_{n:07d}", "BCNL")
    with open(bcn / "bcn20000_metadata.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["bcn_filename", "diagnosis", "lesion_id"])
        for file, _, label, lesion in bcn_rows:
            writer.writerow([file, BCN_DIAGNOSIS[label], lesion])

    isic = args.out / "isic2019"
    inputs = isic / "ISIC_2019_Training_Input"
    isic_rows = lesions(ISIC_COLUMNS[:-1], args.per_class, 60000, rng, size, inputs,
                        lambda n: f"ISIC_{n:07d}", "ISICL")
    if args.overlap:
        for file, image_id, label, lesion in ham_rows:  # same id, same bytes
            shutil.copy(ham / "images" / file, inputs / file)
            isic_rows.append((file, image_id, label, lesion))
        for n, (file, _, label, lesion) in enumerate(bcn_rows):  # renamed, same bytes
            renamed = f"ISIC_{70000 + n:07d}"
            shutil.copy(bcn / "images" / file, inputs / f"{renamed}.jpg")
            isic_rows.append((f"{renamed}.jpg", renamed, label, lesion))
    with open(isic / "ISIC_2019_Training_GroundTruth.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["image"] + ISIC_COLUMNS)
        for _, image_id, label, _ in isic_rows:
            writer.writerow([image_id] + ["1.0" if c == label else "0.0" for c in ISIC_COLUMNS])

    for name, rows in (("ham10000", ham_rows), ("isic2019", isic_rows), ("bcn20000", bcn_rows)):
        print(f"{name}: {len(rows)} generated images in {args.out / name}")


if __name__ == "__main__":
    main()
