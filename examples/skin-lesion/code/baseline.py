"""Baseline step: the drift baseline of the trained model on the held-out validation split, written to
OPT_ML/processing/baseline/statistics.json. The model package carries it as
`DriftCheckBaselines.ModelDataQuality.Statistics`; the monitoring pipeline compares the
endpoint's captures with it (docs/monitoring.md describes the layout).

Arguments: --sample-size N (the embeddings and per-image statistics kept, at most N).
"""

import argparse
import json
import os
from pathlib import Path

import numpy as np
import torch

from common import NpyImages, device, load_trained
from drift import IMAGE_STATISTICS, class_distribution, embed_and_predict, image_statistics, projection, project, sample

# SageMaker runs the job under /opt/ml; `mlopsc run --local` moves that root with MLOPSC_OPT_ML.
OPT_ML = Path(os.environ.get("MLOPSC_OPT_ML", "/opt/ml"))
MODEL = OPT_ML / "processing/model"
# The held-out validation split: the model has not fitted it, as it has not the captures.
HELD_OUT = OPT_ML / "processing/validation"
OUTPUT = OPT_ML / "processing/baseline/statistics.json"
BATCH = 64


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sample-size", type=int, default=1000)
    args = parser.parse_args()
    model, config = load_trained(MODEL)
    on = device()
    model.to(on)
    transform = config["transform"]
    mean = np.asarray(transform["mean"], dtype=np.float32)[:, None, None]
    std = np.asarray(transform["std"], dtype=np.float32)[:, None, None]
    images = NpyImages(HELD_OUT, config["classes"])
    chosen = sample(len(images), args.sample_size)
    if not len(chosen):
        raise SystemExit("the validation split is empty: no baseline to compute")
    embeddings, predicted, confidence = [], [], []
    statistics = {name: [] for name in IMAGE_STATISTICS}
    for start in range(0, len(chosen), BATCH):
        arrays = [images[int(i)][0].numpy() for i in chosen[start:start + BATCH]]
        for array in arrays:
            rgb = np.clip(array * std + mean, 0.0, 1.0).transpose(1, 2, 0)
            for name, value in image_statistics(rgb).items():
                statistics[name].append(value)
        features, probabilities = embed_and_predict(model, torch.from_numpy(np.stack(arrays)).to(on))
        embeddings.append(features)
        predicted.extend(config["classes"][i] for i in probabilities.argmax(1))
        confidence.extend(float(p) for p in probabilities.max(1))
    embeddings = np.concatenate(embeddings)
    axes = projection(embeddings)
    baseline = {
        "version": 1,
        "model": {"architecture": config["architecture"], "classes": config["classes"], "transform": transform},
        "count": len(images),
        "sampleSize": len(chosen),
        "embeddings": {**axes, "dimension": int(embeddings.shape[1]),
                       "sample": project(embeddings, axes).round(6).tolist()},
        "images": {name: [round(v, 6) for v in values] for name, values in statistics.items()},
        "predictions": {"classes": class_distribution(predicted, config["classes"]),
                        "confidence": [round(c, 6) for c in confidence]},
    }
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps(baseline))
    print(f"baseline: {len(chosen)} of {len(images)} held-out images, {embeddings.shape[1]}-dimensional embeddings")


if __name__ == "__main__":
    main()
