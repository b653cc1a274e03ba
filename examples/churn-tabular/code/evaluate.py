"""Evaluate step of the churn example: the booster's scores on the test CSV, written to
OPT_ML/processing/evaluation/evaluation.json as {"metrics": {"<name>": {"value": …}}}."""

import argparse
import json
import os
import tarfile
from pathlib import Path

import pandas as pd
import xgboost as xgb
from sklearn import metrics

# SageMaker runs the job under /opt/ml; `mlopsc run --local` moves that root with MLOPSC_OPT_ML.
OPT_ML = Path(os.environ.get("MLOPSC_OPT_ML", "/opt/ml"))
MODEL = OPT_ML / "processing/model"
REPORT = OPT_ML / "processing/evaluation/evaluation.json"
SCORERS = {
    "accuracy": lambda y, p: metrics.accuracy_score(y, p > 0.5),
    "balancedAccuracy": lambda y, p: metrics.balanced_accuracy_score(y, p > 0.5),
    "precision": lambda y, p: metrics.precision_score(y, p > 0.5, zero_division=0),
    "recall": lambda y, p: metrics.recall_score(y, p > 0.5, zero_division=0),
    "f1": lambda y, p: metrics.f1_score(y, p > 0.5, zero_division=0),
    "auc": metrics.roc_auc_score,
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--metrics", required=True)
    args, _ = parser.parse_known_args()
    with tarfile.open(MODEL / "model.tar.gz") as archive:
        archive.extractall(MODEL, filter="data")
    booster = xgb.Booster(model_file=str(MODEL / "xgboost-model"))
    test = pd.read_csv(OPT_ML / "processing/test/test.csv", header=None)
    labels = test.iloc[:, 0]
    predictions = booster.predict(xgb.DMatrix(test.iloc[:, 1:]))
    report = {"metrics": {
        name: {"value": float(SCORERS[name](labels, predictions))}
        for name in args.metrics.split(",")
    }}
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
