"""Serving handler of the minimal example, packed into model.tar.gz as code/inference.py by
train.py: the file the SageMaker PyTorch serving container runs (SAGEMAKER_PROGRAM).

Requests: the image bytes (`image/jpeg`, `image/png`, `application/x-image`). Responses: JSON
with `predicted_label`, `probabilities` (by class) and `prediction_confidence`.
"""

import io
import json
from pathlib import Path

IMAGE_TYPES = ("image/jpeg", "image/png", "application/x-image")
IMAGENET = {"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}


def model_fn(model_dir):
    """The trained network, its classes and the image size it was trained on."""
    import torch

    directory = Path(model_dir)
    model = torch.load(directory / "model.pt", map_location="cpu", weights_only=False)
    return {"model": model.eval(), "classes": json.loads((directory / "classes.json").read_text()),
            "size": json.loads((directory / "input.json").read_text())}


def input_fn(body, content_type):
    """The request's image, as a PIL image."""
    from PIL import Image

    content_type = (content_type or "").split(";")[0].strip().lower()
    if content_type not in IMAGE_TYPES:
        raise ValueError(f"unsupported content type {content_type!r}; send {', '.join(IMAGE_TYPES)}")
    return Image.open(io.BytesIO(body)).convert("RGB")


def predict_fn(image, loaded):
    """Class probabilities for one image, resized and normalized as in training."""
    import torch
    from torchvision import transforms

    size = loaded["size"]
    transform = transforms.Compose([
        transforms.Resize((size["height"], size["width"])),
        transforms.ToTensor(),
        transforms.Normalize(IMAGENET["mean"], IMAGENET["std"]),
    ])
    with torch.no_grad():
        probabilities = torch.softmax(loaded["model"](transform(image)[None]), dim=1)[0]
    return {name: float(p) for name, p in zip(loaded["classes"], probabilities)}


def output_fn(probabilities, accept):
    """The prediction as JSON."""
    label = max(probabilities, key=probabilities.get)
    body = {"predicted_label": label, "probabilities": probabilities,
            "prediction_confidence": probabilities[label]}
    return json.dumps(body), "application/json"
