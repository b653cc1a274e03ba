#!/usr/bin/env python3
"""Lays a small subset of the shared HAM10000 images (../shared/data/ham10000_200x150, CC
BY-NC: never commit the output) out as the flagship's three data sources, from disjoint
lesions: HAM10000 (images/ + HAM10000_metadata.csv), ISIC 2019
(ISIC_2019_Training_Input/ + the one-hot ISIC_2019_Training_GroundTruth.csv) and BCN20000
(images/ + bcn20000_metadata.csv).

    scripts/ham10000-layouts.py --source ../shared/data/ham10000_200x150 --out /tmp/derm --per-class 4

Each layout gets up to --per-class lesions of each diagnosis (0: all lesions, shared out among
the layouts); a lesion's images stay in one layout, so that no lesion is in two sources.
--layouts picks the layouts that get images (scripts/bench-run.sh puts everything in
ham10000); the others are still written, with a labels file and no images.
"""

import argparse
import csv
import random
import shutil
from collections import defaultdict
from pathlib import Path

ISIC_COLUMNS = ["MEL", "NV", "BCC", "AK", "BKL", "DF", "VASC", "SCC", "UNK"]
ISIC_CLASS = {"akiec": "AK", "bcc": "BCC", "bkl": "BKL", "df": "DF", "mel": "MEL", "nv": "NV", "vasc": "VASC"}
BCN_DIAGNOSIS = {
    "akiec": "actinic keratosis", "bcc": "basal cell carcinoma", "bkl": "seborrheic keratosis",
    "df": "dermatofibroma", "mel": "melanoma", "nv": "nevus", "vasc": "vascular lesion",
}
LAYOUTS = ("ham10000", "isic2019", "bcn20000")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--per-class", type=int, default=4, help="lesions per diagnosis and layout; 0: all")
    parser.add_argument("--layouts", default=",".join(LAYOUTS), help="comma-separated, of " + ", ".join(LAYOUTS))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with open(args.source / "labels.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    lesions = defaultdict(list)
    for row in rows:
        lesions[(row["dx"], row["lesion_id"])].append(row)
    by_dx = defaultdict(list)
    for (dx, lesion) in sorted(lesions):
        by_dx[dx].append(lesion)
    rng = random.Random(args.seed)
    layouts = args.layouts.split(",")
    unknown = set(layouts) - set(LAYOUTS)
    if unknown:
        parser.error(f"unknown layouts {', '.join(sorted(unknown))}; choose from {', '.join(LAYOUTS)}")
    chosen = {layout: [] for layout in LAYOUTS}
    for dx, lesion_ids in sorted(by_dx.items()):
        rng.shuffle(lesion_ids)
        for n, lesion in enumerate(lesion_ids):
            i = n % len(layouts) if args.per_class == 0 else n // args.per_class
            if i < len(layouts):
                chosen[layouts[i]].extend(lesions[(dx, lesion)])

    write_layouts(args.source, args.out, chosen)
    for layout in LAYOUTS:
        print(f"{layout}: {len(chosen[layout])} images in {args.out / layout}")


def write_layouts(source, out, chosen):
    ham = out / "ham10000"
    (ham / "images").mkdir(parents=True, exist_ok=True)
    with open(ham / "HAM10000_metadata.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["lesion_id", "image_id", "dx", "dx_type", "age", "sex", "localization"])
        for row in chosen["ham10000"]:
            shutil.copy(source / row["file"], ham / "images" / f"{row['image_id']}.jpg")
            writer.writerow([row["lesion_id"], row["image_id"], row["dx"], row["dx_type"], row["age"],
                             row["sex"], row["localization"]])

    isic = out / "isic2019"
    (isic / "ISIC_2019_Training_Input").mkdir(parents=True, exist_ok=True)
    with open(isic / "ISIC_2019_Training_GroundTruth.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["image"] + ISIC_COLUMNS)
        for row in chosen["isic2019"]:
            shutil.copy(source / row["file"], isic / "ISIC_2019_Training_Input" / f"{row['image_id']}.jpg")
            writer.writerow([row["image_id"]] + ["1.0" if c == ISIC_CLASS[row["dx"]] else "0.0"
                                                 for c in ISIC_COLUMNS])

    bcn = out / "bcn20000"
    (bcn / "images").mkdir(parents=True, exist_ok=True)
    with open(bcn / "bcn20000_metadata.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["bcn_filename", "diagnosis", "lesion_id"])
        for row in chosen["bcn20000"]:
            name = f"BCN_{row['image_id'].removeprefix('ISIC_')}.jpg"
            shutil.copy(source / row["file"], bcn / "images" / name)
            writer.writerow([name, BCN_DIAGNOSIS[row["dx"]], row["lesion_id"]])


if __name__ == "__main__":
    main()
