"""Monitor step of the monitoring pipeline: compares the endpoint's captured images in a
time window (--window-hours) with the live drift baseline, measures the model's quality on
the captures of the last --label-days that have ground truth by now, publishes the metrics to CloudWatch and writes
OPT_ML/processing/report/report.json (docs/monitoring.md). Each --check STATISTIC=METRIC
publishes the statistic as METRIC and its p-value as METRIC_p_value: its alarm needs both.

Captures are SageMaker's: one JSON line per request under
<capture prefix>/<endpoint>/<variant>/yyyy/mm/dd/hh/, with the request in
captureData.endpointInput (`data` in `encoding` BASE64, of `observedContentType`) and
eventMetadata.inferenceId. Ground truth is SageMaker's too: one JSON line per label under
<ground truth prefix>/yyyy/mm/dd/hh/, `groundTruthData.data` the class name and
`eventMetadata.eventId` the inference id it labels.

The step reads S3 itself, by the URIs its arguments give: only the windows' hour prefixes
of the captures and of the ground truth, never all of history, and a missing baseline or model
(before the first deployment), too few captures (fewer than --min-captures) or too few
labelled ones (fewer than --min-labels) is a report that publishes no statistic or metric,
not a failed job. Under `mlopsc run --local` (MLOPSC_OPT_ML is
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
from drift import (class_distribution, embed_and_predict, image_statistics, ks, mmd, mmd_p_value, project,
                   total_variation)

OPT_ML = Path(os.environ.get("MLOPSC_OPT_ML", "/opt/ml"))
LOCAL = "MLOPSC_OPT_ML" in os.environ
MODEL = OPT_ML / "processing/model"
REPORT = OPT_ML / "processing/report/report.json"
BATCH = 64
# Captures compared per run, at most: a uniform sample of the window's (a day of a busy
# endpoint would not fit in memory), large enough for the two-sample statistics.
MAX_CAPTURES = 2000


def arguments():
    parser = argparse.ArgumentParser()
    parser.add_argument("--window-end", default="", help="ISO 8601; empty: --started")
    parser.add_argument("--started", required=True, help="the execution's start time")
    parser.add_argument("--window-hours", type=int, default=24, help="0: measure no drift")
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
    parser.add_argument("--significance", type=float, default=0.01,
                        help="the drift alarms' level: the MMD test runs enough permutations to reach a tenth of it")
    parser.add_argument("--label-days", type=int, default=0,
                        help="days of captures joined with their labels; 0: measure no quality")
    parser.add_argument("--min-labels", type=int, default=50)
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


def ground_truth(objects, prefix, start, now):
    """Labels by inference id, of every hour from the start of the captures they label to
    now: a label arrives after its capture."""
    labels = {}
    for record in json_lines(objects, hour_prefixes(prefix, start, now + timedelta(hours=1))):
        labels[record["eventMetadata"]["eventId"]] = str(record["groundTruthData"]["data"]).strip()
    return labels


def labelled_captures(objects, prefix, start, end, labels, classes):
    """The captures of [start, end) that have a label of a known class, with the labels,
    streamed: only the labelled ones are kept."""
    records, truth = [], []
    for record in json_lines(objects, hour_prefixes(prefix, start, end)):
        label = labels.get(inference_id(record))
        if label in classes:
            records.append(record)
            truth.append(label)
    return records, truth


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


def drift_statistics(baseline, per_image, embeddings, probabilities, classes, significance):
    """Every drift statistic by the spec's statistic name, and the chance of a value at least
    as large with no drift (its p-value): the two-sample Kolmogorov-Smirnov test for the KS
    distances (for `colourShift`, the smallest of the three channels' p-values), a
    permutation test for the MMD with enough splits to tell p-values a tenth of
    `significance`, and the chi-squared test of the two samples' predicted-class counts."""
    from scipy.stats import chi2_contingency, ks_2samp

    images = baseline["images"]
    column = {name: [s[name] for s in per_image] for name in images}
    predicted = [classes[i] for i in probabilities.argmax(1)]
    sample = np.asarray(baseline["embeddings"]["sample"])
    projected = project(embeddings, baseline["embeddings"])
    bandwidth = baseline["embeddings"]["bandwidth"]
    pairs = {
        "brightnessShift": [(column["brightness"], images["brightness"])],
        "contrastShift": [(column["contrast"], images["contrast"])],
        "colourShift": [(column[c], images[c]) for c in ("red", "green", "blue")],
        "sharpnessShift": [(column["sharpness"], images["sharpness"])],
        "confidenceShift": [(probabilities.max(1), baseline["predictions"]["confidence"])],
    }
    statistics = {name: max(ks(x, y) for x, y in columns) for name, columns in pairs.items()}
    p_values = {name: min(float(ks_2samp(x, y).pvalue) for x, y in columns)
                for name, columns in pairs.items()}
    statistics["embeddingDrift"] = mmd(projected, sample, bandwidth)
    permutations = max(199, int(np.ceil(10 / significance)) - 1)
    p_values["embeddingDrift"] = mmd_p_value(projected, sample, bandwidth, permutations)
    observed = class_distribution(predicted, classes)
    expected = baseline["predictions"]["classes"]
    statistics["predictedClassShift"] = total_variation(observed, expected)
    counts = np.array([[observed.get(c, 0.0) * len(predicted) for c in classes],
                       [expected.get(c, 0.0) * baseline["sampleSize"] for c in classes]]).round()
    counts = counts[:, counts.sum(0) > 0]
    p_values["predictedClassShift"] = (float(chi2_contingency(counts).pvalue)
                                       if counts.shape[1] > 1 else 1.0)
    return dict(sorted(statistics.items())), dict(sorted(p_values.items()))


def quality_metric(name, truth, probabilities, classes):
    """The spec's quality metric on the labelled captures (macro averages)."""
    from sklearn import metrics as skm

    index = {c: i for i, c in enumerate(classes)}
    labels = np.array([index[t] for t in truth])
    predicted = probabilities.argmax(1)
    if name == "accuracy":
        return float(skm.accuracy_score(labels, predicted))
    if name == "balancedAccuracy":  # the mean recall over the labelled classes
        return float(skm.recall_score(labels, predicted, labels=np.unique(labels), average="macro", zero_division=0))
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


class LiveModel:
    """The deployed model and its drift baseline, read once and only when a measurement
    needs them: before the first deployment there are none."""

    def __init__(self, objects, baseline_uri, model_uri):
        self.objects, self.baseline_uri, self.model_uri = objects, baseline_uri, model_uri
        self.loaded = None

    def load(self):
        """(baseline, model, config, device), or None when either file is missing."""
        if self.loaded is None:
            baseline = self.objects.read(self.baseline_uri)
            archive = self.objects.read(self.model_uri) if baseline is not None else None
            if archive is None:
                self.loaded = False
            else:
                MODEL.mkdir(parents=True, exist_ok=True)
                (MODEL / "model.tar.gz").write_bytes(archive)
                model, config = load_trained(MODEL)
                on = device()
                model.to(on)
                self.loaded = (json.loads(baseline), model, config, on)
        return self.loaded or None


NOT_DEPLOYED = "no deployed model: the live baseline or model archive is missing"


def measure_drift(args, objects, live, end, report):
    """The drift statistics of the window's captures, when there are at least
    --min-captures of them and a deployed model."""
    start = end - timedelta(hours=args.window_hours)
    report["window"] = {"start": start.isoformat(), "end": end.isoformat()}
    records, seen = uniform_sample(json_lines(objects, hour_prefixes(args.captures, start, end)),
                                   MAX_CAPTURES)
    report["captures"] = seen
    if not seen:
        report["skipped"] = "no captures in the window"
    elif seen < args.min_captures:
        report["skipped"] = f"{seen} captures in the window, fewer than {args.min_captures}"
    elif (loaded := live.load()) is None:
        report["skipped"] = NOT_DEPLOYED
    else:
        baseline, model, config, on = loaded
        report["compared"] = len(records)
        statistics, embeddings, probabilities = measure(records, model, config, on)
        report["statistics"], report["pValues"] = drift_statistics(
            baseline, statistics, embeddings, probabilities, config["classes"], args.significance)
        # Each check's alarm reads the statistic and its p-value (`<metric>_p_value`).
        for statistic, metric in dict(check.split("=", 1) for check in args.check).items():
            report["metrics"][metric] = report["statistics"][statistic]
            report["metrics"][f"{metric}_p_value"] = report["pValues"][statistic]


def measure_quality(args, objects, live, end, report):
    """The quality metric of the last --label-days of captures that have a label by now,
    when there are at least --min-labels of them."""
    start = end - timedelta(days=args.label_days)
    quality = {"window": {"start": start.isoformat(), "end": end.isoformat()},
               "labelled": 0, "minLabels": args.min_labels}
    report["quality"] = quality
    # A label arrives after its capture, at most --label-days after the window's end.
    last = min(max(datetime.now(timezone.utc), end), end + timedelta(days=args.label_days))
    labels = ground_truth(objects, args.ground_truth, start, last)
    if len(labels) < args.min_labels:
        quality["skipped"] = f"{len(labels)} labels, fewer than {args.min_labels}"
        return
    loaded = live.load()
    if loaded is None:
        quality["skipped"] = NOT_DEPLOYED
        return
    _, model, config, on = loaded
    records, truth = labelled_captures(objects, args.captures, start, end, labels, config["classes"])
    quality["labelled"] = len(records)
    if len(records) < args.min_labels:
        quality["skipped"] = f"{len(records)} labelled captures, fewer than {args.min_labels}"
        return
    _, _, probabilities = measure(records, model, config, on)
    report["metrics"][args.quality_metric] = quality["value"] = quality_metric(
        args.quality_metric, truth, probabilities, config["classes"])


def main():
    args = arguments()
    end = timestamp(args.window_end or args.started)
    objects = Objects(args.region)
    live = LiveModel(objects, args.baseline, args.model)
    report = {"window": None, "captures": 0, "compared": 0, "minCaptures": args.min_captures,
              "statistics": {}, "pValues": {}, "metrics": {}}
    if args.window_hours > 0:
        measure_drift(args, objects, live, end, report)
    else:
        report["skipped"] = "this run measures no drift (WindowHours 0)"
    if args.quality_metric and args.ground_truth and args.label_days > 0:
        measure_quality(args, objects, live, end, report)
    dimensions = json.loads(args.dimensions)
    report["putMetricData"] = {
        "Namespace": args.namespace,
        "MetricData": [{"MetricName": name, "Dimensions": dimensions, "Value": value,
                        "Timestamp": end.isoformat(), "Unit": "None"}
                       for name, value in report["metrics"].items()],
    }
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(report, indent=2))
    labelled = report.get("quality", {}).get("labelled", 0)
    print(json.dumps({"captures": report["captures"], "labelled": labelled, "metrics": report["metrics"]}))
    if report["putMetricData"]["MetricData"] and not LOCAL:
        import boto3

        request = dict(report["putMetricData"])
        request["MetricData"] = [{**m, "Timestamp": end} for m in request["MetricData"]]
        boto3.client("cloudwatch", region_name=args.region).put_metric_data(**request)


if __name__ == "__main__":
    main()
