"""Shared by the skin-lesion step scripts: the on-disk layout of the preprocessed splits, the
label vocabulary, and the network built from its architecture name."""

import csv
import json
from pathlib import Path

MANIFEST = "manifest.csv"  # one row per preprocessed image: file, label, group
CLASSES_FILE = "classes.json"

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


def canonical_label(label):
    text = str(label).strip()
    return LABEL_ALIASES.get(text.lower(), text.upper())


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


def build_model(architecture, num_classes, pretrained):
    """A torchvision network by name (timm for names torchvision lacks), with a new head."""
    import torch.nn as nn
    import torchvision

    if architecture in torchvision.models.list_models():
        model = torchvision.models.get_model(architecture, weights="DEFAULT" if pretrained else None)
    else:
        import timm

        return timm.create_model(architecture, pretrained=pretrained, num_classes=num_classes)
    if hasattr(model, "fc"):
        model.fc = nn.Linear(model.fc.in_features, num_classes)
    else:
        last = model.classifier[-1]
        model.classifier[-1] = nn.Linear(last.in_features, num_classes)
    return model


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
