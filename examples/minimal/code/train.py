"""Train step of the minimal example (PyTorch script mode): a torchvision network on the
class folders that preprocess.py wrote, normalized with ImageNet's statistics.

Hyperparameters arrive as the SageMaker training toolkit passes them: JSON-decoded, then
`str()`ed, so `pretrained: true` is `--pretrained True`.
"""

import argparse
import json
import os
import random
import shutil
import socket
from pathlib import Path

import numpy
import torch
import torchvision
from torchvision import transforms

TRANSFORM = transforms.Compose([
    transforms.ToTensor(),
    transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
])


def flag(text):
    """A boolean as the toolkit passes it (`True`) or as a person types it (`true`, `1`)."""
    value = str(text).strip().lower()
    if value in ("true", "1", "yes"):
        return True
    if value in ("false", "0", "no", "none", ""):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def seed_everything(seed):
    random.seed(seed)
    numpy.random.seed(seed)
    torch.manual_seed(seed)


def initial_weights(architecture, pretrained, weights_dir):
    """ImageNet weights from, in order: a `pretrained` channel (a state_dict file), torch's
    local cache, the model hub. Says which one it used, or that it starts from random init."""
    if not pretrained:
        print("weights: random initialization (pretrained is false)")
        return None
    default = torchvision.models.get_model_weights(architecture).DEFAULT
    if weights_dir:
        files = sorted(p for p in Path(weights_dir).iterdir() if p.suffix in (".pt", ".pth"))
        if files:
            print(f"weights: {files[0]} (pretrained channel)")
            return torch.load(files[0], map_location="cpu", weights_only=True)
    cached = Path(torch.hub.get_dir()) / "checkpoints" / Path(default.url).name
    if cached.exists():
        print(f"weights: {cached} (torch cache)")
        return torch.load(cached, map_location="cpu", weights_only=True)
    socket.setdefaulttimeout(10)
    try:
        state = torch.hub.load_state_dict_from_url(default.url, progress=False)
        print(f"weights: {default.url} (model hub)")
        return state
    except Exception as err:  # no network, or the hub refused: say so and go on
        print(f"weights: the model hub is unreachable ({err}); random initialization")
        return None


def evaluate(model, loader, loss_fn, device):
    model.eval()
    loss, correct, count = 0.0, 0, 0
    with torch.no_grad():
        for images, labels in loader:
            images, labels = images.to(device), labels.to(device)
            logits = model(images)
            loss += loss_fn(logits, labels).item() * len(labels)
            correct += (logits.argmax(1) == labels).sum().item()
            count += len(labels)
    model.train()
    return loss / max(count, 1), correct / max(count, 1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--architecture", default="resnet18")
    parser.add_argument("--pretrained", type=flag, default=True)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--num-classes", type=int)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--model-dir", default=os.environ.get("SM_MODEL_DIR", "/opt/ml/model"))
    parser.add_argument("--train", default=os.environ.get("SM_CHANNEL_TRAIN", "/opt/ml/input/data/train"))
    parser.add_argument("--validation", default=os.environ.get("SM_CHANNEL_VALIDATION"))
    parser.add_argument("--pretrained-weights", default=os.environ.get("SM_CHANNEL_PRETRAINED"))
    args, _ = parser.parse_known_args()
    seed_everything(args.seed)
    data = torchvision.datasets.ImageFolder(args.train, TRANSFORM)
    if args.num_classes is not None and args.num_classes != len(data.classes):
        raise SystemExit(f"--num-classes is {args.num_classes}, but the training data has "
                         f"{len(data.classes)} classes: {', '.join(data.classes)}")
    model = torchvision.models.get_model(args.architecture, weights=None)
    state = initial_weights(args.architecture, args.pretrained, args.pretrained_weights)
    if state is not None:
        model.load_state_dict(state)
    model.fc = torch.nn.Linear(model.fc.in_features, len(data.classes))
    # The GPU of the training instance (g4dn) when there is one.
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    print(f"device: {device}")
    model.to(device)
    validation = None
    if args.validation and Path(args.validation).is_dir():
        validation = torchvision.datasets.ImageFolder(args.validation, TRANSFORM)
        if validation.classes != data.classes:
            raise SystemExit(f"validation classes {validation.classes} differ from training classes {data.classes}")
    optimizer = torch.optim.AdamW(model.parameters(), args.learning_rate)
    loss_fn = torch.nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(args.seed)
    for epoch in range(args.epochs):
        total = 0.0
        loader = torch.utils.data.DataLoader(data, batch_size=args.batch_size, shuffle=True, generator=generator)
        for images, labels in loader:
            images, labels = images.to(device), labels.to(device)
            optimizer.zero_grad()
            loss = loss_fn(model(images), labels)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(labels)
        line = f"epoch={epoch} train_loss={total / len(data):.6f}"
        if validation is not None:
            val_loss, val_score = evaluate(model, torch.utils.data.DataLoader(validation, batch_size=64), loss_fn, device)
            line += f" validation_loss={val_loss:.6f} validation_score={val_score:.6f}"
        print(line)
    model_dir = Path(args.model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    torch.save(model.to("cpu"), model_dir / "model.pt")
    (model_dir / "classes.json").write_text(json.dumps(data.classes))
    height, width = data[0][0].shape[1:]
    (model_dir / "input.json").write_text(json.dumps({"height": height, "width": width}))
    # The PyTorch serving container runs code/inference.py from model.tar.gz.
    serving = model_dir / "code"
    serving.mkdir(exist_ok=True)
    shutil.copy(Path(__file__).resolve().parent / "inference.py", serving / "inference.py")


if __name__ == "__main__":
    main()
