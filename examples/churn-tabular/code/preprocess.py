"""Preprocess step of the churn example: the subscriptions table split into train,
validation and test so that a customer's rows stay in one split (--group-by), stratified by
the label, written as CSV with the label in the first column (XGBoost's convention)."""

import argparse
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

# SageMaker runs the job under /opt/ml; `mlopsc run --local` moves that root with MLOPSC_OPT_ML.
OPT_ML = Path(os.environ.get("MLOPSC_OPT_ML", "/opt/ml"))
OUTPUT = OPT_ML / "processing/output"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--train-ratio", type=float, required=True)
    parser.add_argument("--validation-ratio", type=float, required=True)
    parser.add_argument("--test-ratio", type=float, required=True)
    parser.add_argument("--stratify", default="true")
    parser.add_argument("--group-by")
    parser.add_argument("--source", action="append", type=json.loads, required=True)
    args = parser.parse_args()
    frames = [pd.read_csv(Path(s["path"]) / s["labels"]) for s in args.source]
    label = args.source[0]["labelColumn"]
    table = pd.concat(frames, ignore_index=True)
    group = args.group_by or "__row"
    table["__row"] = np.arange(len(table))
    # One label per group (its majority), then whole groups are dealt out per label.
    group_label = table.groupby(group)[label].agg(lambda s: s.mode().iloc[0])
    strata = group_label.groupby(group_label if args.stratify == "true" else np.zeros(len(group_label)))
    rng = np.random.default_rng(42)
    split_of = {}
    for _, members in strata:
        keys = rng.permutation(members.index.to_numpy())
        train_end = round(len(keys) * args.train_ratio)
        validation_end = train_end + round(len(keys) * args.validation_ratio)
        for i, key in enumerate(keys):
            split_of[key] = "train" if i < train_end else "validation" if i < validation_end else "test"
    splits = table[group].map(split_of)
    features = [c for c in table.columns if c not in (label, "__row", args.group_by)]
    for split in ("train", "validation", "test"):
        rows = table[splits == split][[label] + features]
        (OUTPUT / split).mkdir(parents=True, exist_ok=True)
        rows.to_csv(OUTPUT / split / f"{split}.csv", index=False, header=False)
        print(f"{split}: {len(rows)} rows")


if __name__ == "__main__":
    main()
