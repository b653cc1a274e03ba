"""Evaluate step: scores the trained model on the test split and writes
OPT_ML/processing/evaluation/evaluation.json as {"metrics": {"<name>": {"value": …}}},
the shape the pipeline's quality gate reads with Std:JsonGet.

The model predicts every class of the label space, but a test split need not contain them all
(HAM10000 has no SCC): macro averages (precision, recall, f1, one-vs-rest AUC) are taken over
the classes present in the test split, and the report says which those are under `classes`.
A class with no positive or no negative example has no AUC; with none left, `auc` is null.

Beside the spec's metrics (`balancedAccuracy` among them, when the spec lists it: then it is
`metrics.balancedAccuracy.value`, which a gate reads) the report has `balancedAccuracy` (the
mean recall over the classes in the test split: a model that calls every lesion a nevus scores
1/k, not NV's share),
`perClass` (each class in the test split: `precision`, `recall`, `f1` and `auc`, each as
{"value": …}, and its `support`; `perClass.MEL.recall.value` is melanoma sensitivity) and
`confusionMatrix` (`labels`: the classes in the test split or predicted; `counts`: a row per
true class, a column per predicted class).

Arguments: --metrics accuracy,precision,… --average macro|micro|weighted --framework.
"""

import argparse
import json
import os
from pathlib import Path

import numpy as np
from sklearn import metrics as skm
from torch.utils.data import DataLoader

from common import NpyImages, device, load_trained, predict_probabilities

# SageMaker runs the job under /opt/ml; `mlopsc run --local` moves that root with MLOPSC_OPT_ML.
OPT_ML = Path(os.environ.get("MLOPSC_OPT_ML", "/opt/ml"))
MODEL = OPT_ML / "processing/model"
TEST = OPT_ML / "processing/test"
REPORT = OPT_ML / "processing/evaluation/evaluation.json"


def arguments():
    parser = argparse.ArgumentParser()
    parser.add_argument("--metrics", required=True)
    parser.add_argument("--average", choices=["macro", "micro", "weighted"], default="macro")
    parser.add_argument("--framework", default="pytorch")
    return parser.parse_args()


def predict():
    """Class probabilities and true labels of the test split, and the label space."""
    model, config = load_trained(MODEL)
    on = device()
    model.to(on)
    # As the endpoint predicts (inference.py): the gate judges the predictor that is served.
    augmentation = config.get("test_time_augmentation", "none")
    print(f"test-time augmentation: {augmentation}")
    probabilities, labels = [], []
    for images, targets in DataLoader(NpyImages(TEST, config["classes"]), batch_size=64):
        probabilities.append(predict_probabilities(model, images.to(on), augmentation).cpu().numpy())
        labels.append(targets.numpy())
    return np.concatenate(probabilities), np.concatenate(labels), config["classes"]


def class_auc(probabilities, labels, c):
    """Class c's one-vs-rest AUC, scored by its own probability; None without both
    positives and negatives."""
    positives = labels == c
    if not 0 < positives.sum() < len(labels):
        return None
    return float(skm.roc_auc_score(positives, probabilities[:, c]))


def macro_auc(probabilities, labels, present):
    """The mean one-vs-rest AUC over the present classes that have one; None when none has."""
    scores = [a for a in (class_auc(probabilities, labels, c) for c in present) if a is not None]
    return float(np.mean(scores)) if scores else None


def score(name, probabilities, labels, average):
    predicted = probabilities.argmax(1)
    present = np.unique(labels)
    if name == "accuracy":
        return skm.accuracy_score(labels, predicted)
    if name == "balancedAccuracy":  # the mean recall over the classes in the test split
        return skm.recall_score(labels, predicted, labels=present, average="macro", zero_division=0)
    if name in ("precision", "recall", "f1"):
        scorer = {"precision": skm.precision_score, "recall": skm.recall_score, "f1": skm.f1_score}[name]
        return scorer(labels, predicted, labels=present, average=average, zero_division=0)
    if name == "auc":
        if probabilities.shape[1] == 2:
            return skm.roc_auc_score(labels, probabilities[:, 1]) if len(present) == 2 else None
        if average == "macro":
            return macro_auc(probabilities, labels, present)
        scores = probabilities[:, present] / probabilities[:, present].sum(1, keepdims=True)
        return skm.roc_auc_score(labels, scores, multi_class="ovr", average=average, labels=present)
    raise SystemExit(f"unknown metric {name}")


def main():
    args = arguments()
    probabilities, labels, classes = predict()
    present = sorted(set(labels.tolist()))
    metrics = {}
    for name in args.metrics.split(","):
        value = score(name, probabilities, labels, args.average)
        metrics[name] = {"value": None if value is None else float(value)}
    predicted = probabilities.argmax(1)
    precision, recall, f1, support = skm.precision_recall_fscore_support(
        labels, predicted, labels=present, zero_division=0)
    shown = sorted(set(present) | set(predicted.tolist()))
    per_class = {}
    for i, c in enumerate(present):
        per_class[classes[c]] = {
            "precision": {"value": float(precision[i])}, "recall": {"value": float(recall[i])},
            "f1": {"value": float(f1[i])}, "auc": {"value": class_auc(probabilities, labels, c)},
            "support": int(support[i]),
        }
    report = {
        "metrics": metrics,
        "balancedAccuracy": {"value": float(np.mean(recall))},
        "perClass": per_class,
        # Every class that is in the test split or predicted, so that each image is counted.
        "confusionMatrix": {
            "labels": [classes[i] for i in shown],
            "counts": skm.confusion_matrix(labels, predicted, labels=shown).tolist(),
        },
        "classes": {
            "labelSpace": classes,
            "inTestSplit": [classes[i] for i in present],
            "absentFromTestSplit": [c for i, c in enumerate(classes) if i not in present],
            "averaging": f"{args.average} over the classes in the test split",
        },
    }
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(report, indent=2))
    print(json.dumps(report))


if __name__ == "__main__":
    main()
