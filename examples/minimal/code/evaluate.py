"""Evaluate step of the minimal example: accuracy on the test class folders, written to
/opt/ml/processing/evaluation/evaluation.json as {"metrics": {"accuracy": {"value": …}}}."""

import json
import tarfile
from pathlib import Path

import torch
import torchvision
from torchvision import transforms

MODEL = Path("/opt/ml/processing/model")
REPORT = Path("/opt/ml/processing/evaluation/evaluation.json")
TRANSFORM = transforms.Compose([
    transforms.ToTensor(),
    transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
])


def main():
    with tarfile.open(MODEL / "model.tar.gz") as archive:
        archive.extractall(MODEL, filter="data")
    model = torch.load(MODEL / "model.pt", map_location="cpu", weights_only=False).eval()
    test = torchvision.datasets.ImageFolder("/opt/ml/processing/test", TRANSFORM)
    correct = 0
    with torch.no_grad():
        for images, labels in torch.utils.data.DataLoader(test, batch_size=64):
            correct += (model(images).argmax(1) == labels).sum().item()
    report = {"metrics": {"accuracy": {"value": correct / max(len(test), 1)}}}
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
