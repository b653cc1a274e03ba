"""Grad-CAM report (custom step after evaluate): for --samples test images, the heat map of
what the network looked at for its predicted class, overlaid on the image, written as PNGs
to OPT_ML/processing/output with an index.json of predictions.
"""

import argparse
import json
import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from common import NpyImages, device, load_trained

# SageMaker runs the job under /opt/ml; `mlopsc run --local` moves that root with MLOPSC_OPT_ML.
OPT_ML = Path(os.environ.get("MLOPSC_OPT_ML", "/opt/ml"))
MODEL = OPT_ML / "processing/model"
TEST = OPT_ML / "processing/test"
OUTPUT = OPT_ML / "processing/output"


def last_conv(model):
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    return convs[-1]


def gradcam(model, layer, image):
    """The predicted class and its Grad-CAM map, scaled to [0, 1] at the image's size."""
    captured = {}
    forward = layer.register_forward_hook(lambda _m, _i, out: captured.update(activations=out))
    backward = layer.register_full_backward_hook(lambda _m, _g, grad: captured.update(gradients=grad[0]))
    try:
        logits = model(image.unsqueeze(0))
        predicted = int(logits.argmax(1))
        model.zero_grad()
        logits[0, predicted].backward()
    finally:
        forward.remove()
        backward.remove()
    weights = captured["gradients"].mean(dim=(2, 3), keepdim=True)
    cam = F.relu((weights * captured["activations"]).sum(1, keepdim=True))
    cam = F.interpolate(cam, size=image.shape[1:], mode="bilinear", align_corners=False)[0, 0]
    cam = (cam - cam.min()) / (cam.max() - cam.min() + 1e-8)
    return predicted, cam.detach().cpu().numpy()


def overlay(image, cam):
    """The normalized image rescaled for display, with the map in the red channel."""
    pixels = image.numpy().transpose(1, 2, 0)
    pixels = (pixels - pixels.min()) / (pixels.max() - pixels.min() + 1e-8)
    pixels[..., 0] = 0.5 * pixels[..., 0] + 0.5 * cam
    return Image.fromarray((pixels * 255).astype(np.uint8))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=32)
    args = parser.parse_args()
    model, config = load_trained(MODEL)
    on = device()
    model.to(on)
    layer = last_conv(model)
    test = NpyImages(TEST, config["classes"])
    OUTPUT.mkdir(parents=True, exist_ok=True)
    index = []
    for i in range(min(args.samples, len(test))):
        image, label = test[i]
        predicted, cam = gradcam(model, layer, image.to(on))
        name = f"gradcam-{i:04d}.png"
        overlay(image, cam).save(OUTPUT / name)
        index.append({"file": name, "label": config["classes"][label], "predicted": config["classes"][predicted]})
    (OUTPUT / "index.json").write_text(json.dumps(index, indent=2))


if __name__ == "__main__":
    main()
