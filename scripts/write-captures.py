#!/usr/bin/env python3
"""Writes images as a SageMaker endpoint's data capture, and their labels as SageMaker
ground truth, for the monitoring pipeline to read (docs/monitoring.md):

    scripts/write-captures.py --source ../shared/data/ham10000_200x150 --exclude /tmp/derm \
        --captures /tmp/capture --ground-truth /tmp/truth --hour 2026-01-15T10 --count 60 \
        [--label-hour 2026-02-04T10] [--shift brightness|blur|colour]
    scripts/write-captures.py --source ../shared/data/ham10000_200x150 --exclude /tmp/derm \
        --images /tmp/requests --count 200 [--shift brightness|blur|colour]

Captures go to <captures>/yyyy/mm/dd/hh/captures.jsonl, one JSON line per request: the
JPEG in captureData.endpointInput (BASE64, image/jpeg) and eventMetadata with an
inferenceId. Labels go to <ground-truth>/yyyy/mm/dd/hh/labels.jsonl, each naming the
inferenceId it labels in eventMetadata.eventId, in the hour they arrive (--label-hour,
by default the capture hour: a biopsy result arrives weeks later). Images are taken one diagnosis after
another in turn (as scripts/ham10000-layouts.py samples the training data), in labels.csv
order within each, skipping every image id found under --exclude (the images a model
trained on), so they are held back from training but drawn like it. --shift alters each image before it is captured: brighter,
blurred, or with a blue colour cast. With --images, the same images are written as
<images>/<inferenceId>.jpg instead, for a client to send to an endpoint
(`mlopsc serve --local`), whose data capture then writes the captures; their labels go to
<images>/labels.csv.
"""

import argparse
import base64
import csv
import io
import json
from datetime import datetime, timezone
from pathlib import Path

from PIL import Image, ImageEnhance, ImageFilter

# HAM10000 diagnoses as the flagship's classes (examples/skin-lesion/code/common.py).
CLASS = {"akiec": "AK", "bcc": "BCC", "bkl": "BKL", "df": "DF", "mel": "MEL", "nv": "NV", "vasc": "VASC"}


def shifted(image, shift):
    if shift == "brightness":
        return ImageEnhance.Brightness(image).enhance(1.8)
    if shift == "blur":
        return image.filter(ImageFilter.GaussianBlur(radius=4))
    if shift == "colour":
        return Image.blend(image, Image.new("RGB", image.size, (40, 60, 255)), 0.4)
    return image


def choose(args):
    """`args.count` images not under --exclude, one diagnosis after another in turn."""
    excluded = {p.stem for p in args.exclude.rglob("*") if p.is_file()} if args.exclude else set()
    with open(args.source / "labels.csv", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["image_id"] not in excluded and r["dx"] in CLASS]
    by_dx = {}
    for row in rows:
        by_dx.setdefault(row["dx"], []).append(row)
    queues = [by_dx[dx] for dx in sorted(by_dx)]
    chosen = []
    while len(chosen) < args.count and any(queues):
        for queue in queues:
            if queue and len(chosen) < args.count:
                chosen.append(queue.pop(0))
    if len(chosen) < args.count:
        raise SystemExit(f"only {len(chosen)} images are not excluded; asked for {args.count}")
    return chosen


def jpeg(path, shift):
    """The image at `path`, shifted, as JPEG bytes."""
    image = shifted(Image.open(path).convert("RGB"), shift)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=95)
    return out.getvalue()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, required=True, help="a folder with labels.csv and images/")
    parser.add_argument("--exclude", type=Path, help="skip image ids of any file under this folder")
    parser.add_argument("--captures", type=Path)
    parser.add_argument("--ground-truth", type=Path)
    parser.add_argument("--images", type=Path, help="write the images as requests here instead")
    parser.add_argument("--hour", help="the capture hour, such as 2026-01-15T10")
    parser.add_argument("--label-hour", help="the hour the labels arrive; default --hour")
    parser.add_argument("--count", type=int, default=60)
    parser.add_argument("--shift", choices=["brightness", "blur", "colour"])
    args = parser.parse_args()
    chosen = choose(args)
    if args.images:
        args.images.mkdir(parents=True, exist_ok=True)
        with open(args.images / "labels.csv", "w") as labels:
            labels.write("inference_id,label\n")
            for i, row in enumerate(chosen):
                inference_id = f"{row['image_id']}-{i}"
                (args.images / f"{inference_id}.jpg").write_bytes(jpeg(args.source / row["file"], args.shift))
                labels.write(f"{inference_id},{CLASS[row['dx']]}\n")
        print(f"{len(chosen)} requests in {args.images}")
        return
    if not (args.captures and args.ground_truth and args.hour):
        parser.error("give --images, or --captures, --ground-truth and --hour")
    hour = datetime.strptime(args.hour, "%Y-%m-%dT%H").replace(tzinfo=timezone.utc)
    folder = hour.strftime("%Y/%m/%d/%H")
    label_folder = (datetime.strptime(args.label_hour, "%Y-%m-%dT%H").strftime("%Y/%m/%d/%H")
                    if args.label_hour else folder)
    (args.captures / folder).mkdir(parents=True, exist_ok=True)
    (args.ground_truth / label_folder).mkdir(parents=True, exist_ok=True)
    with open(args.captures / folder / "captures.jsonl", "w") as captures, \
            open(args.ground_truth / label_folder / "labels.jsonl", "w") as labels:
        for i, row in enumerate(chosen):
            inference_id = f"{row['image_id']}-{i}"
            record = {
                "captureData": {"endpointInput": {
                    "observedContentType": "image/jpeg", "mode": "INPUT",
                    "data": base64.b64encode(jpeg(args.source / row["file"], args.shift)).decode(),
                    "encoding": "BASE64"}},
                "eventMetadata": {"eventId": f"event-{i:05d}", "inferenceId": inference_id,
                                  "inferenceTime": hour.replace(minute=i % 60).strftime("%Y-%m-%dT%H:%M:%SZ")},
                "eventVersion": "0",
            }
            captures.write(json.dumps(record) + "\n")
            truth = {"groundTruthData": {"data": CLASS[row["dx"]], "encoding": "CSV"},
                     "eventMetadata": {"eventId": inference_id}, "eventVersion": "0"}
            labels.write(json.dumps(truth) + "\n")
    print(f"{len(chosen)} captures in {args.captures / folder}")


if __name__ == "__main__":
    main()
