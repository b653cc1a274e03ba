"""Serving handler for the skin-lesion classifier, shipped in model.tar.gz as
code/inference.py, the file the SageMaker PyTorch serving container runs.

Requests: `image/jpeg`, `image/png` or `application/x-image` (the image bytes), or
`application/json` with {"image": "<base64 of the image bytes>"}. Responses: JSON with
`predicted_label`, `probabilities` (by class) and `prediction_confidence`.
"""

import base64
import io
import json
from pathlib import Path

IMAGE_TYPES = ("image/jpeg", "image/png", "application/x-image")
IMAGENET = {"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}


class UnsupportedContentType(ValueError):
    """A request of a type this handler does not take. `status_code` is the answer a local
    endpoint (`mlopsc serve --local`) gives, as the inference toolkit's own errors carry one."""

    status_code = 415


def model_fn(model_dir):
    """The trained network and the preprocessing it was trained with."""
    import torch

    from common import build_model

    config = json.loads((Path(model_dir) / "config.json").read_text())
    model = build_model(config["architecture"], config["num_classes"], pretrained=False)
    model.load_state_dict(torch.load(Path(model_dir) / "model.pt", map_location="cpu", weights_only=True))
    return {"model": model.eval(), "classes": config["classes"],
            "transform": config.get("transform", {"width": 224, "height": 224, **IMAGENET}),
            "augmentation": config.get("test_time_augmentation", "none")}


def input_fn(body, content_type):
    """The request's image, as a PIL image."""
    from PIL import Image

    content_type = (content_type or "").split(";")[0].strip().lower()
    if content_type in IMAGE_TYPES:
        data = body
    elif content_type == "application/json":
        request = json.loads(body)
        data = base64.b64decode(request["image"])
    else:
        raise UnsupportedContentType(f"unsupported content type {content_type!r}; send {', '.join(IMAGE_TYPES)} or application/json")
    try:
        return Image.open(io.BytesIO(data)).convert("RGB")
    except (OSError, SyntaxError) as error:  # PIL's errors for a corrupt or truncated image
        raise ValueError(f"the body is not an image this handler reads ({error.__class__.__name__})") from None


def predict_fn(image, loaded):
    """Class probabilities for one image, resized and normalized as in preprocess.py."""
    import numpy as np
    import torch
    from PIL import Image

    from common import predict_probabilities

    transform = loaded["transform"]
    resized = image.resize((transform["width"], transform["height"]), Image.BILINEAR)
    array = np.asarray(resized, dtype=np.float32).transpose(2, 0, 1) / 255.0
    mean = np.array(transform["mean"], dtype=np.float32)[:, None, None]
    std = np.array(transform["std"], dtype=np.float32)[:, None, None]
    batch = torch.from_numpy(((array - mean) / std).astype(np.float32))[None]
    probabilities = predict_probabilities(loaded["model"], batch, loaded["augmentation"])[0]
    return {name: float(p) for name, p in zip(loaded["classes"], probabilities)}


def output_fn(probabilities, accept):
    """The prediction as JSON."""
    label = max(probabilities, key=probabilities.get)
    body = {"predicted_label": label, "probabilities": probabilities,
            "prediction_confidence": probabilities[label]}
    return json.dumps(body), "application/json"
