"""Train step (SageMaker script mode, PyTorch): fine-tunes the architecture named by the
hyperparameters on the preprocessed splits. On spot capacity the job may be interrupted:
every epoch is checkpointed to OPT_ML/checkpoints, which SageMaker syncs with S3, and a
restarted job resumes from the last checkpoint.
"""

import argparse
import json
import os
import random
import shutil
import time
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader

from common import TRANSFORM_FILE, NpyImages, build_model, flag, read_classes

# SageMaker runs the job under /opt/ml; `mlopsc run --local` moves that root with MLOPSC_OPT_ML.
OPT_ML = Path(os.environ.get("MLOPSC_OPT_ML", "/opt/ml"))
CHECKPOINT = OPT_ML / "checkpoints/last.pt"


def arguments():
    parser = argparse.ArgumentParser()
    parser.add_argument("--architecture", required=True)
    parser.add_argument("--pretrained", type=flag, default=True)
    parser.add_argument("--pretrained-weights", default=os.environ.get("SM_CHANNEL_PRETRAINED"))
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--num-classes", type=int)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--optimizer", choices=["adamw", "sgd"], default="adamw")
    parser.add_argument("--weight-decay", type=float, default=0.0)
    parser.add_argument("--label-smoothing", type=float, default=0.0)
    # NV is two thirds of HAM10000: `balanced` weighs each class's loss by 1 / its frequency,
    # `sqrt` by 1 / its square root (milder), `none` not at all.
    parser.add_argument("--class-weighting", choices=["none", "sqrt", "balanced"], default="sqrt")
    # Random horizontal and vertical flips: a lesion has no up or left.
    parser.add_argument("--augment", type=flag, default=True)
    # How the model predicts once trained (evaluate.py and the endpoint's inference.py read it
    # from config.json, so the gate judges the predictor that is served): `flips` averages the
    # class probabilities over the image and its three flips, `none` predicts from the image.
    parser.add_argument("--test-time-augmentation", choices=["none", "flips"], default="none")
    parser.add_argument("--train", default=os.environ.get("SM_CHANNEL_TRAIN"))
    parser.add_argument("--validation", default=os.environ.get("SM_CHANNEL_VALIDATION"))
    parser.add_argument("--model-dir", default=os.environ.get("SM_MODEL_DIR", "/opt/ml/model"))
    parser.add_argument("--checkpoint", default=str(CHECKPOINT))
    # Script mode also passes hyperparameters this script has no use for (image size, …).
    args, _ = parser.parse_known_args()
    return args


def run_epoch(model, loader, loss_fn, device, optimizer=None, augment=False):
    model.train(optimizer is not None)
    total_loss, correct, seen = 0.0, 0, 0
    with torch.set_grad_enabled(optimizer is not None):
        for images, labels in loader:
            if augment:
                images = flipped(images)
            # channels_last: the layout in which depthwise convolutions run fastest on a CPU.
            images = images.to(device).contiguous(memory_format=torch.channels_last)
            labels = labels.to(device)
            logits = model(images)
            loss = loss_fn(logits, labels)
            if optimizer is not None:
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            total_loss += loss.item() * len(labels)
            correct += (logits.argmax(1) == labels).sum().item()
            seen += len(labels)
    return total_loss / max(seen, 1), correct / max(seen, 1)


def flipped(images):
    """Each image flipped left-right and top-bottom, each with probability 1/2."""
    horizontal = torch.rand(len(images)) < 0.5
    vertical = torch.rand(len(images)) < 0.5
    images = images.clone()
    images[horizontal] = images[horizontal].flip(3)
    images[vertical] = images[vertical].flip(2)
    return images


def class_weights(dataset, num_classes, scheme):
    """The loss weight of each class, normalized to mean 1 over the classes present."""
    if scheme == "none":
        return None
    counts = torch.zeros(num_classes)
    for row in dataset.rows:
        counts[dataset.index[row["label"]]] += 1
    present = counts > 0
    weights = torch.zeros(num_classes)
    weights[present] = counts[present] ** (-1.0 if scheme == "balanced" else -0.5)
    weights[present] /= weights[present].mean()
    print("class weights: " + ", ".join(f"{c}={w:.2f}" for c, w in zip(dataset.index, weights.tolist())))
    return weights


def main():
    args = arguments()
    random.seed(args.seed)
    torch.manual_seed(args.seed)
    # The label space preprocess.py wrote: the declared sources' taxonomy, not the labels
    # that happen to occur in this data, so the spec's numClasses can be checked against it.
    classes = read_classes(args.train)
    if args.num_classes is not None and args.num_classes != len(classes):
        raise SystemExit(f"--num-classes is {args.num_classes} (model.numClasses), but the data sources' "
                         f"label space has {len(classes)} classes: {', '.join(classes)}; set "
                         f"model.numClasses to {len(classes)}")
    num_classes = len(classes)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cpu":
        torch.set_num_threads(os.cpu_count() or 1)
    model = build_model(args.architecture, num_classes, args.pretrained, args.pretrained_weights)
    model = model.to(device, memory_format=torch.channels_last)
    if args.optimizer == "adamw":
        optimizer = torch.optim.AdamW(model.parameters(), args.learning_rate, weight_decay=args.weight_decay)
    else:
        optimizer = torch.optim.SGD(model.parameters(), args.learning_rate, momentum=0.9, weight_decay=args.weight_decay)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
    training_images = NpyImages(args.train, classes)
    weights = class_weights(training_images, num_classes, args.class_weighting)
    loss_fn = nn.CrossEntropyLoss(weight=None if weights is None else weights.to(device),
                                  label_smoothing=args.label_smoothing)
    # The arrays are decoded and resized once, by preprocess.py; loading one is cheap. On a
    # CPU, loader processes would take cores from the network, so there are none.
    workers = min(8, os.cpu_count() or 1) if device == "cuda" else 0
    generator = torch.Generator().manual_seed(args.seed)
    train = DataLoader(training_images, args.batch_size, shuffle=True, num_workers=workers,
                       generator=generator)
    validation = DataLoader(NpyImages(args.validation, classes), args.batch_size, num_workers=workers)

    checkpoint = Path(args.checkpoint)
    start, best, best_state = 0, -1.0, None
    if checkpoint.exists():
        state = torch.load(checkpoint, map_location=device)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        start, best, best_state = state["epoch"] + 1, state["best"], state.get("best_model")
        print(f"resumed from epoch {start}")

    for epoch in range(start, args.epochs):
        started = time.monotonic()
        train_loss, _ = run_epoch(model, train, loss_fn, device, optimizer, augment=args.augment)
        seconds = time.monotonic() - started
        validation_loss, accuracy = run_epoch(model, validation, loss_fn, device)
        scheduler.step()
        # The pipeline's MetricDefinitions read these three names.
        print(f"epoch={epoch} train_loss={train_loss:.6f} validation_loss={validation_loss:.6f} validation_score={accuracy:.6f}")
        print(f"epoch={epoch} train_seconds={seconds:.1f} train_images_per_second={len(training_images) / max(seconds, 1e-9):.1f}")
        if accuracy > best:
            best = accuracy
            best_state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
        checkpoint.parent.mkdir(parents=True, exist_ok=True)
        torch.save(
            {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
             "scheduler": scheduler.state_dict(), "epoch": epoch, "best": best, "best_model": best_state},
            checkpoint,
        )
    # Written at the end, always: a restarted job's model directory starts empty, even when
    # the checkpoint says there is nothing left to train.
    model_dir = Path(args.model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    torch.save(best_state if best_state is not None else model.state_dict(), model_dir / "model.pt")
    config = {"architecture": args.architecture, "num_classes": num_classes, "classes": classes,
              "test_time_augmentation": args.test_time_augmentation}
    transform = Path(args.train) / TRANSFORM_FILE
    if transform.is_file():
        config["transform"] = json.loads(transform.read_text())
    (model_dir / "config.json").write_text(json.dumps(config))
    # The PyTorch serving container runs code/inference.py from model.tar.gz, after
    # installing code/requirements.txt (timm, for EfficientNet-Lite).
    serving = model_dir / "code"
    serving.mkdir(exist_ok=True)
    here = Path(__file__).resolve().parent
    for name in ("inference.py", "common.py", "requirements.txt"):
        if (here / name).is_file():
            shutil.copy(here / name, serving / name)


if __name__ == "__main__":
    main()
