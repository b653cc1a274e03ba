"""Preprocess step of the minimal example: one image folder (a sub-folder per class) split
at random per class into train/validation/test, each image resized to --image-size and
saved again in the same class-folder layout (normalization happens in train.py).
"""

import argparse
import json
import os
import random
from pathlib import Path

from PIL import Image

# SageMaker runs the job under /opt/ml; `mlopsc run --local` moves that root with MLOPSC_OPT_ML.
OPT_ML = Path(os.environ.get("MLOPSC_OPT_ML", "/opt/ml"))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--train-ratio", type=float, required=True)
    parser.add_argument("--validation-ratio", type=float, required=True)
    parser.add_argument("--test-ratio", type=float, required=True)
    parser.add_argument("--stratify", default="true")
    parser.add_argument("--image-size", default="224x224")
    parser.add_argument("--source", action="append", type=json.loads, required=True)
    parser.add_argument("--output", default=str(OPT_ML / "processing" / "output"))
    parser.add_argument("--seed", type=int, default=42)
    args, _ = parser.parse_known_args()
    size = tuple(int(v) for v in args.image_size.split("x"))
    output = Path(args.output)
    rng = random.Random(args.seed)
    for source in args.source:
        root = Path(source["path"]) / source.get("images", "")
        for class_dir in sorted(p for p in root.iterdir() if p.is_dir()):
            files = sorted(class_dir.glob("*.*"))
            rng.shuffle(files)
            train_end = round(len(files) * args.train_ratio)
            validation_end = train_end + round(len(files) * args.validation_ratio)
            for i, path in enumerate(files):
                split = "train" if i < train_end else "validation" if i < validation_end else "test"
                target = output / split / class_dir.name / f"{path.stem}.png"
                target.parent.mkdir(parents=True, exist_ok=True)
                Image.open(path).convert("RGB").resize(size).save(target)
            print(f"{class_dir.name}: {train_end} train, {validation_end - train_end} validation, "
                  f"{len(files) - validation_end} test")


if __name__ == "__main__":
    main()
