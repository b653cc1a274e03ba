"""Evaluate step of the minimal example: accuracy on the test class folders, written to
processing/evaluation/evaluation.json under the job's root as
{"metrics": {"accuracy": {"value": …}}}."""

import argparse
import json
import os
import tarfile
from pathlib import Path

import torch
import torchvision
from torchvision import transforms

# SageMaker runs the job under /opt/ml; `mlopsc run --local` moves that root with MLOPSC_OPT_ML.
OPT_ML = Path(os.environ.get("MLOPSC_OPT_ML", "/opt/ml"))
TRANSFORM = transforms.Compose([
    transforms.ToTensor(),
    transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default=str(OPT_ML / "processing" / "model"))
    parser.add_argument("--test", default=str(OPT_ML / "processing" / "test"))
    parser.add_argument("--report", default=str(OPT_ML / "processing" / "evaluation" / "evaluation.json"))
    args, _ = parser.parse_known_args()
    model_dir = Path(args.model)
    with tarfile.open(model_dir / "model.tar.gz") as archive:
        archive.extractall(model_dir, filter="data")
    model = torch.load(model_dir / "model.pt", map_location="cpu", weights_only=False).eval()
    classes = json.loads((model_dir / "classes.json").read_text())
    test = torchvision.datasets.ImageFolder(args.test, TRANSFORM)
    unknown = sorted(set(test.classes) - set(classes))
    if unknown:
        raise SystemExit(f"test classes {unknown} are not among the model's classes {classes}")
    # The test split may lack a class, which shifts ImageFolder's indices: map by name.
    to_model = torch.tensor([classes.index(name) for name in test.classes])
    correct = 0
    with torch.no_grad():
        for images, labels in torch.utils.data.DataLoader(test, batch_size=64):
            correct += (model(images).argmax(1) == to_model[labels]).sum().item()
    accuracy = correct / max(len(test), 1)
    print(f"accuracy={accuracy:.6f} on {len(test)} images")
    report = {"metrics": {"accuracy": {"value": accuracy}}}
    report_path = Path(args.report)
    report_path.parent.mkdir(parents=True, exist_ok=True)
    report_path.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
