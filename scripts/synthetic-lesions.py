#!/usr/bin/env python3
"""Writes synthetic dermoscopy-like images in the layout of the shared HAM10000 folder
(images/ and a labels.csv with its columns), for the tests that use real images when
../shared is there and these otherwise:

    scripts/synthetic-lesions.py --out /tmp/lesions --per-class 40

Each image is 200x150: skin-toned noise with a darker, blurred ellipse whose colour, size and
texture depend on the diagnosis, so that a network can tell the classes apart a little and
the images vary as photographs do. One lesion per image; deterministic for a --seed.
"""

import argparse
import csv
import random
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

# dx: (lesion RGB, radius range in px, texture strength)
CLASSES = {
    "akiec": ((150, 80, 70), (18, 30), 18),
    "bcc": ((170, 110, 120), (20, 34), 10),
    "bkl": ((120, 85, 55), (24, 40), 25),
    "df": ((140, 95, 80), (12, 22), 8),
    "mel": ((60, 35, 30), (22, 42), 30),
    "nv": ((105, 70, 50), (14, 30), 12),
    "vasc": ((170, 40, 60), (10, 20), 6),
}


def lesion(dx, rng):
    colour, (low, high), texture = CLASSES[dx]
    skin = np.array([215, 170, 145]) + rng.normal(0, 12, 3)
    pixels = np.clip(skin + rng.normal(0, 10, (150, 200, 3)), 0, 255).astype(np.uint8)
    image = Image.fromarray(pixels)
    mask = Image.new("L", (200, 150), 0)
    rx, ry = rng.integers(low, high + 1), rng.integers(low, high + 1)
    cx, cy = 100 + rng.integers(-25, 26), 75 + rng.integers(-20, 21)
    ImageDraw.Draw(mask).ellipse([cx - rx, cy - ry, cx + rx, cy + ry], fill=255)
    mask = mask.filter(ImageFilter.GaussianBlur(4))
    tone = np.clip(np.array(colour) + rng.normal(0, 10, 3), 0, 255)
    spots = np.clip(tone + rng.normal(0, texture, (150, 200, 3)), 0, 255).astype(np.uint8)
    return Image.composite(Image.fromarray(spots), image, mask)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--per-class", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    order = random.Random(args.seed)
    (args.out / "images").mkdir(parents=True, exist_ok=True)
    rows = []
    for dx in sorted(CLASSES):
        for i in range(args.per_class):
            image_id = f"SYN_{dx}_{i:04d}"
            lesion(dx, rng).save(args.out / "images" / f"{image_id}.jpg", quality=92)
            rows.append({"image_id": image_id, "file": f"images/{image_id}.jpg", "split": "train",
                         "label": sorted(CLASSES).index(dx), "dx": dx, "dx_type": "synthetic",
                         "lesion_id": f"SYNL_{dx}_{i:04d}", "age": 50, "sex": "unknown",
                         "localization": "unknown"})
    order.shuffle(rows)
    with open(args.out / "labels.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"{len(rows)} synthetic images in {args.out}")


if __name__ == "__main__":
    main()
