"""Train step of the churn example (SageMaker XGBoost container, script mode): boosts on
the train CSV (label first), early-stops on validation, saves the booster."""

import argparse
import os
from pathlib import Path

import pandas as pd
import xgboost as xgb


def matrix(channel):
    frame = pd.concat(pd.read_csv(p, header=None) for p in sorted(Path(channel).glob("*.csv")))
    return xgb.DMatrix(frame.iloc[:, 1:], label=frame.iloc[:, 0])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--objective", default="binary:logistic")
    parser.add_argument("--num_round", type=int, default=100)
    parser.add_argument("--max_depth", type=int, default=6)
    parser.add_argument("--eta", type=float, default=0.3)
    parser.add_argument("--subsample", type=float, default=1.0)
    args, _ = parser.parse_known_args()
    train = matrix(os.environ["SM_CHANNEL_TRAIN"])
    validation = matrix(os.environ["SM_CHANNEL_VALIDATION"])
    params = {
        "objective": args.objective,
        "max_depth": args.max_depth,
        "eta": args.eta,
        "subsample": args.subsample,
        "eval_metric": ["logloss", "auc"],
    }
    booster = xgb.train(
        params, train, args.num_round,
        evals=[(train, "train"), (validation, "validation")],
        early_stopping_rounds=20, verbose_eval=False,
    )
    scores = booster.eval_set([(train, "train"), (validation, "validation")])
    fields = dict(part.split(":") for part in scores.split()[1:])
    # The pipeline's MetricDefinitions read these three names.
    print(
        f"train_loss={fields['train-logloss']} validation_loss={fields['validation-logloss']} "
        f"validation_score={fields['validation-auc']}"
    )
    booster.save_model(Path(os.environ.get("SM_MODEL_DIR", "/opt/ml/model")) / "xgboost-model")


if __name__ == "__main__":
    main()
