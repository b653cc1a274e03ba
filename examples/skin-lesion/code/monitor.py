"""Monitor step of the monitoring pipeline: compares the endpoint's captured images in a
time window with the live drift baseline, measures the model's quality on the captures
that have ground truth, publishes the metrics to CloudWatch and writes
OPT_ML/processing/report/report.json (docs/monitoring.md).

Captures are SageMaker's: one JSON line per request under
<capture prefix>/<endpoint>/<variant>/yyyy/mm/dd/hh/, with the request in
captureData.endpointInput (`data` in `encoding` BASE64, of `observedContentType`) and
eventMetadata.inferenceId. Ground truth is SageMaker's too: one JSON line per label under
<ground truth prefix>/yyyy/mm/dd/hh/, `groundTruthData.data` the class name and
`eventMetadata.eventId` the inference id it labels.

The step reads S3 itself, by the URIs its arguments give: only the window's hour prefixes
of the captures and of the ground truth, never all of history, and a missing baseline or model
(before the first deployment) or too few captures (fewer than --min-captures) is a report that
publishes no drift statistic, not a failed job. Under `mlopsc run --local` (MLOPSC_OPT_ML is
set) the same URIs are read from the local object store (MLOPSC_S3) and nothing is sent to
AWS: the runner records the report's `putMetricData`, the request this step would make.
"""

import argparse
import base64
import io
import json
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import torch

from common import device, load_trained
from drift import class_distribution, embed_and_predict, image_statistics, ks, mmd, project, total_variation

OPT_ML = Path(os.environ.get("MLOPSC_OPT_ML", "/opt/ml"))
LOCAL = "MLOPSC_OPT_ML" in os.environ
MODEL = OPT_ML / "processing/model"
REPORT = OPT_ML / "processing/report/report.json"
# How long after a capture its label may arrive, at most, for the labels read per run.
LABEL_DAYS = 30
BATCH = 64
# Captures compared per run, at most: a uniform sample of the window's (a day of a busy
# endpoint would not fit in memory), large enough for the two-sample statistics.
MAX_CAPTURES = 2000


def arguments():
    parser = argparse.ArgumentParser()
    parser.add_argument("--window-end", default="", help="ISO 8601; empty: --started")
    parser.add_argument("--started", required=True, help="the execution's start time")
    parser.add_argument("--window-hours", type=int, default=24)
    parser.add_argument("--check", action="append", default=[], help="STATISTIC=METRIC; repeatable")
    parser.add_argument("--namespace", required=True)
    parser.add_argument("--dimensions", required=True, help='[{"Name": ..., "Value": ...}]')
    parser.add_argument("--region", required=True)
    parser.add_argument("--quality-metric", default="")
    parser.add_argument("--captures", required=True, help="s3:// prefix of the endpoint variant's captures")
    parser.add_argument("--baseline", required=True, help="s3:// URI of the live statistics.json")
    parser.add_argument("--model", required=True, help="s3:// URI of the live model.tar.gz")
    parser.add_argument("--ground-truth", default="", help="s3:// prefix of the labels")
    parser.add_argument("--min-captures", type=int, default=50)
    return parser.parse_args()


class Objects:
    """S3 as this step reads it: boto3 on AWS, the local object store under
    `mlopsc run --local` (MLOPSC_S3: its root and its `--data` mounts)."""

    def __init__(self, region):
        local = os.environ.get("MLOPSC_S3")
        self.local = json.loads(local) if local else None
        if self.local is None:
            import boto3

            self.s3 = boto3.client("s3", region_name=region)

    @staticmethod
    def split(uri):
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        return bucket, key

    def path(self, uri):
        for prefix, folder in self.local["mounts"]:
            if uri.startswith(prefix):
                return Path(folder) / uri[len(prefix):]
        bucket, key = self.split(uri)
        return Path(self.local["root"]) / bucket / key

    def keys(self, prefix):
        """The URIs of the objects under `prefix`, sorted."""
        if self.local is not None:
            folder = self.path(prefix)
            if not folder.is_dir():
                return []
            return sorted(prefix + str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
        bucket, key = self.split(prefix)
        found = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=key):
            found.extend(f"s3://{bucket}/{o['Key']}" for o in page.get("Contents", []))
        return sorted(found)

    def read(self, uri):
        """The object's bytes, or None when there is none."""
        if self.local is not None:
            path = self.path(uri)
            return path.read_bytes() if path.is_file() else None
        bucket, key = self.split(uri)
        try:
            return self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except self.s3.exceptions.NoSuchKey:
            return None


def timestamp(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


def hour_prefixes(prefix, start, end):
    """`<prefix>yyyy/mm/dd/hh/` of every hour that begins in [start, end)."""
    prefix = prefix if prefix.endswith("/") else prefix + "/"
    hour = start.replace(minute=0, second=0, microsecond=0)
    if hour < start:
        hour += timedelta(hours=1)
    while hour < end:
        yield prefix + hour.strftime("%Y/%m/%d/%H/")
        hour += timedelta(hours=1)


def json_lines(objects, prefixes):
    """The JSON lines of every object under the prefixes, read one object at a time."""
    for prefix in prefixes:
        for uri in objects.keys(prefix):
            body = objects.read(uri) or b""
            for line in body.decode().splitlines():
                if line.strip():
                    yield json.loads(line)


def uniform_sample(records, size, seed=0):
    """At most `size` of `records`, each equally likely, in one pass (reservoir sampling),
    and how many there were."""
    import random

    rng = random.Random(seed)
    kept, seen = [], 0
    for record in records:
        seen += 1
        if len(kept) < size:
            kept.append(record)
        else:
            slot = rng.randrange(seen)
            if slot < size:
                kept[slot] = record
    return kept, seen


def request_image(record):
    """The captured request's image bytes: the body itself, or the `image` field of a JSON
    request (the serving handler takes both)."""
    endpoint_input = record["captureData"]["endpointInput"]
    data = endpoint_input["data"]
    body = base64.b64decode(data) if endpoint_input.get("encoding") == "BASE64" else data.encode()
    content_type = endpoint_input.get("observedContentType", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        return base64.b64decode(json.loads(body)["image"])
    return body


def inference_id(record):
    metadata = record.get("eventMetadata", {})
    return metadata.get("inferenceId") or metadata.get("eventId")


def ground_truth(objects, prefix, start, end, now):
    """Labels by inference id; the label's hour may be later than the capture's, up to
    LABEL_DAYS, and never later than now."""
    labels = {}
    last = min(end + timedelta(days=LABEL_DAYS), max(now, end))
    for record in json_lines(objects, hour_prefixes(prefix, start, last)):
        labels[record["eventMetadata"]["eventId"]] = str(record["groundTruthData"]["data"]).strip()
    return labels


def measure(records, model, config, on):
    """Per capture: its image statistics, projected embedding inputs and prediction."""
    from PIL import Image

    transform = config["transform"]
    mean = np.asarray(transform["mean"], dtype=np.float32)[:, None, None]
    std = np.asarray(transform["std"], dtype=np.float32)[:, None, None]
    statistics, embeddings, probabilities = [], [], []
    for start in range(0, len(records), BATCH):
        arrays = []
        for record in records[start:start + BATCH]:
            image = Image.open(io.BytesIO(request_image(record))).convert("RGB")
            resized = image.resize((transform["width"], transform["height"]), Image.BILINEAR)
            rgb = np.asarray(resized, dtype=np.float32) / 255.0
            statistics.append(image_statistics(rgb))
            arrays.append(((rgb.transpose(2, 0, 1) - mean) / std).astype(np.float32))
        features, probs = embed_and_predict(model, torch.from_numpy(np.stack(arrays)).to(on))
        embeddings.append(features)
        probabilities.append(probs)
    return statistics, np.concatenate(embeddings), np.concatenate(probabilities)


def drift_statistics(baseline, statistics, embeddings, probabilities, classes):
    """Every drift statistic, by the spec's statistic name."""
    images = baseline["images"]
    column = {name: [s[name] for s in statistics] for name in images}
    predicted = [classes[i] for i in probabilities.argmax(1)]
    sample = np.asarray(baseline["embeddings"]["sample"])
    return {
        "embeddingDrift": mmd(project(embeddings, baseline["embeddings"]), sample,
                              baseline["embeddings"]["bandwidth"]),
        "brightnessShift": ks(column["brightness"], images["brightness"]),
        "contrastShift": ks(column["contrast"], images["contrast"]),
        "colourShift": max(ks(column[c], images[c]) for c in ("red", "green", "blue")),
        "sharpnessShift": ks(column["sharpness"], images["sharpness"]),
        "predictedClassShift": total_variation(class_distribution(predicted, classes),
                                               baseline["predictions"]["classes"]),
        "confidenceShift": ks(probabilities.max(1), baseline["predictions"]["confidence"]),
    }


def quality(name, truth, probabilities, classes):
    """The spec's quality metric on the labelled captures (macro averages)."""
    from sklearn import metrics as skm

    index = {c: i for i, c in enumerate(classes)}
    labels = np.array([index[t] for t in truth])
    predicted = probabilities.argmax(1)
    if name == "accuracy":
        return float(skm.accuracy_score(labels, predicted))
    if name in ("precision", "recall", "f1"):
        scorer = {"precision": skm.precision_score, "recall": skm.recall_score, "f1": skm.f1_score}[name]
        return float(scorer(labels, predicted, average="macro", zero_division=0))
    if name == "auc":
        present = np.unique(labels)
        if len(present) < 2:
            raise ValueError("auc needs labelled captures of two classes at least")
        scores = probabilities[:, present] / probabilities[:, present].sum(1, keepdims=True)
        if len(present) == 2:
            return float(skm.roc_auc_score(labels == present[1], scores[:, 1]))
        return float(skm.roc_auc_score(labels, scores, multi_class="ovr", average="macro", labels=present))
    raise SystemExit(f"unsupported quality metric {name}")


def main():
    args = arguments()
    end = timestamp(args.window_end or args.started)
    start = end - timedelta(hours=args.window_hours)
    checks = dict(check.split("=", 1) for check in args.check)
    objects = Objects(args.region)
    records, seen = uniform_sample(json_lines(objects, hour_prefixes(args.captures, start, end)),
                                   MAX_CAPTURES)
    report = {"window": {"start": start.isoformat(), "end": end.isoformat()},
              "captures": seen, "compared": 0, "minCaptures": args.min_captures, "labelled": 0,
              "statistics": {}, "metrics": {}}
    baseline_bytes = objects.read(args.baseline) if seen else None
    archive = objects.read(args.model) if baseline_bytes is not None else None
    if not seen:
        report["skipped"] = "no captures in the window"
    elif seen < args.min_captures:
        report["skipped"] = f"{seen} captures in the window, fewer than {args.min_captures}"
    elif baseline_bytes is None or archive is None:
        report["skipped"] = "no deployed model: the live baseline or model archive is missing"
    else:
        report["compared"] = len(records)
        baseline = json.loads(baseline_bytes)
        MODEL.mkdir(parents=True, exist_ok=True)
        (MODEL / "model.tar.gz").write_bytes(archive)
        model, config = load_trained(MODEL)
        on = device()
        model.to(on)
        classes = config["classes"]
        statistics, embeddings, probabilities = measure(records, model, config, on)
        report["statistics"] = drift_statistics(baseline, statistics, embeddings, probabilities, classes)
        for statistic, metric in checks.items():
            report["metrics"][metric] = report["statistics"][statistic]
        if args.quality_metric and args.ground_truth:
            labels = ground_truth(objects, args.ground_truth, start, end, datetime.now(timezone.utc))
            labelled = [(i, labels[inference_id(r)]) for i, r in enumerate(records)
                        if inference_id(r) in labels and labels[inference_id(r)] in classes]
            report["labelled"] = len(labelled)
            if labelled:
                rows = [i for i, _ in labelled]
                report["metrics"][args.quality_metric] = quality(
                    args.quality_metric, [t for _, t in labelled], probabilities[rows], classes)
    dimensions = json.loads(args.dimensions)
    report["putMetricData"] = {
        "Namespace": args.namespace,
        "MetricData": [{"MetricName": name, "Dimensions": dimensions, "Value": value,
                        "Timestamp": end.isoformat(), "Unit": "None"}
                       for name, value in report["metrics"].items()],
    }
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(report, indent=2))
    print(json.dumps({"captures": report["captures"], "labelled": report["labelled"], "metrics": report["metrics"]}))
    if report["putMetricData"]["MetricData"] and not LOCAL:
        import boto3

        request = dict(report["putMetricData"])
        request["MetricData"] = [{**m, "Timestamp": end} for m in request["MetricData"]]
        boto3.client("cloudwatch", region_name=args.region).put_metric_data(**request)


if __name__ == "__main__":
    main()
