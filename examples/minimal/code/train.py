"""Train step of the minimal example (PyTorch script mode): a torchvision network on the
class folders that preprocess.py wrote, normalized with ImageNet's statistics."""

import argparse
import json
import os
from pathlib import Path

import torch
import torchvision
from torchvision import transforms

TRANSFORM = transforms.Compose([
    transforms.ToTensor(),
    transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--architecture", default="resnet18")
    parser.add_argument("--pretrained", default="true")
    parser.add_argument("--epochs", type=int, default=5)
    args, _ = parser.parse_known_args()
    data = torchvision.datasets.ImageFolder(os.environ["SM_CHANNEL_TRAIN"], TRANSFORM)
    weights = "DEFAULT" if args.pretrained == "true" else None
    model = torchvision.models.get_model(args.architecture, weights=weights)
    model.fc = torch.nn.Linear(model.fc.in_features, len(data.classes))
    optimizer = torch.optim.AdamW(model.parameters(), 1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    for epoch in range(args.epochs):
        total = 0.0
        for images, labels in torch.utils.data.DataLoader(data, batch_size=32, shuffle=True):
            optimizer.zero_grad()
            loss = loss_fn(model(images), labels)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(labels)
        print(f"epoch={epoch} train_loss={total / len(data):.6f}")
    model_dir = Path(os.environ.get("SM_MODEL_DIR", "/opt/ml/model"))
    torch.save(model, model_dir / "model.pt")
    (model_dir / "classes.json").write_text(json.dumps(data.classes))


if __name__ == "__main__":
    main()
