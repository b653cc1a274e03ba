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
    parser.add_argument("--seed", type=int, default=42)
    args, _ = parser.parse_known_args()
    train = matrix(os.environ["SM_CHANNEL_TRAIN"])
    validation = matrix(os.environ["SM_CHANNEL_VALIDATION"])
    params = {
        "objective": args.objective,
        "max_depth": args.max_depth,
        "eta": args.eta,
        "subsample": args.subsample,
        "eval_metric": ["logloss", "auc"],
        "seed": args.seed,
    }
    history = {}
    booster = xgb.train(
        params, train, args.num_round,
        evals=[(train, "train"), (validation, "validation")],
        evals_result=history, early_stopping_rounds=20, verbose_eval=False,
    )
    # The metrics of the kept round; `Booster.eval_set` would report only the last metric.
    best = booster.best_iteration
    # The pipeline's MetricDefinitions read these three names.
    print(
        f"train_loss={history['train']['logloss'][best]:.6f} "
        f"validation_loss={history['validation']['logloss'][best]:.6f} "
        f"validation_score={history['validation']['auc'][best]:.6f}"
    )
    booster.save_model(Path(os.environ.get("SM_MODEL_DIR", "/opt/ml/model")) / "xgboost-model")


if __name__ == "__main__":
    main()
