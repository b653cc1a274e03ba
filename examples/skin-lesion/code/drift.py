"""Drift statistics of images, shared by baseline.py (the training split) and monitor.py
(the endpoint's captures), so both sides measure an image the same way
(docs/monitoring.md).

An image is measured at the training size, as preprocess.py resized it, with channel values
in [0, 1]: brightness is the mean luma, contrast its standard deviation, red/green/blue the
channel means, sharpness the variance of the luma's 4-neighbour Laplacian.
"""

import numpy as np

IMAGE_STATISTICS = ("brightness", "contrast", "red", "green", "blue", "sharpness")
# The principal components of the baseline embeddings that the drift statistic compares:
# enough to keep the structure, few enough for a two-sample test on a few hundred captures.
COMPONENTS = 32


def image_statistics(rgb):
    """The statistics of one HxWx3 image with values in [0, 1]."""
    luma = rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114
    laplacian = (4 * luma[1:-1, 1:-1] - luma[:-2, 1:-1] - luma[2:, 1:-1]
                 - luma[1:-1, :-2] - luma[1:-1, 2:])
    return {
        "brightness": float(luma.mean()),
        "contrast": float(luma.std()),
        "red": float(rgb[..., 0].mean()),
        "green": float(rgb[..., 1].mean()),
        "blue": float(rgb[..., 2].mean()),
        "sharpness": float(laplacian.var()),
    }


def embed_and_predict(model, batch):
    """The penultimate layer's features (the input of the network's last linear layer) and
    the class probabilities of a normalized NCHW batch, in one forward pass."""
    import torch

    head = [m for m in model.modules() if isinstance(m, torch.nn.Linear)][-1]
    captured = []
    hook = head.register_forward_hook(lambda _module, inputs, _output: captured.append(inputs[0]))
    try:
        with torch.no_grad():
            probabilities = torch.softmax(model(batch), 1)
    finally:
        hook.remove()
    return captured[0].flatten(1).cpu().numpy(), probabilities.cpu().numpy()


def projection(embeddings):
    """The baseline embeddings' mean, one scale (the root mean variance of a dimension: one
    scale for all keeps a nearly constant dimension from being blown up into noise), their
    principal axes, and the RBF bandwidth (the median distance between projected baseline
    embeddings)."""
    mean = embeddings.mean(0)
    centered = embeddings - mean
    scale = float(np.sqrt((centered ** 2).mean()))
    scale = scale if scale > 1e-12 else 1.0
    _, _, axes = np.linalg.svd(centered / scale, full_matrices=False)
    components = axes[:COMPONENTS]
    projected = (centered / scale) @ components.T
    upper = np.sqrt(squared_distances(projected, projected))[np.triu_indices(len(projected), 1)]
    bandwidth = float(np.median(upper)) if upper.size else 1.0
    return {"mean": np.round(mean, 6).tolist(), "scale": scale,
            "components": np.round(components, 6).tolist(),
            "bandwidth": bandwidth if bandwidth > 1e-12 else 1.0}


def squared_distances(a, b):
    """Pairwise squared Euclidean distances of the rows of `a` and `b`, without the
    (n, m, d) intermediate."""
    squared = (a ** 2).sum(1)[:, None] + (b ** 2).sum(1)[None, :] - 2 * a @ b.T
    return np.maximum(squared, 0.0)


def project(embeddings, baseline):
    """Embeddings in the baseline's scaled principal axes."""
    centered = (embeddings - np.asarray(baseline["mean"])) / baseline["scale"]
    return centered @ np.asarray(baseline["components"]).T


def mmd(x, y, bandwidth):
    """Maximum mean discrepancy between two samples with an RBF kernel: the square root of
    the unbiased estimate of MMD², 0 when it is negative. 0 for the same distribution;
    at most sqrt(2)."""
    if len(x) < 2 or len(y) < 2:
        return 0.0

    def kernel(a, b):
        return np.exp(-squared_distances(a, b) / (2 * bandwidth ** 2))

    kxx, kyy, kxy = kernel(x, x), kernel(y, y), kernel(x, y)
    n, m = len(x), len(y)
    within_x = (kxx.sum() - np.trace(kxx)) / (n * (n - 1))
    within_y = (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
    return float(np.sqrt(max(within_x + within_y - 2 * kxy.mean(), 0.0)))


def mmd_p_value(x, y, bandwidth, permutations=999, seed=0, chunk=250):
    """The permutation test's p-value of the MMD between `x` and `y`: the share of random
    splits of the pooled sample into groups of their sizes whose (biased) MMD² is at least
    the observed one, counting the observed split, so never below 1/(permutations + 1).
    The splits are weighed `chunk` at a time, to bound memory on a large window."""
    if len(x) < 2 or len(y) < 2:
        return 1.0
    pooled = np.concatenate([x, y])
    kernel = np.exp(-squared_distances(pooled, pooled) / (2 * bandwidth ** 2))
    n, total = len(x), len(pooled)
    rng = np.random.default_rng(seed)
    # Each column of a split weighs its first group 1/n, the rest -1/m.
    weights = np.where(np.arange(total) < n, 1.0 / n, -1.0 / (total - n))

    def statistics(orders):
        split = np.empty((total, len(orders)))
        np.put_along_axis(split, np.stack(orders, 1), weights[:, None], 0)
        return (split * (kernel @ split)).sum(0)

    observed = statistics([np.arange(total)])[0]
    larger = 0
    for start in range(0, permutations, chunk):
        orders = [rng.permutation(total) for _ in range(min(chunk, permutations - start))]
        larger += int((statistics(orders) >= observed - 1e-12).sum())
    return float(larger + 1) / (permutations + 1)


def ks(x, y):
    """The two-sample Kolmogorov-Smirnov distance: the largest gap between the empirical
    distribution functions, 0 to 1."""
    x, y = np.sort(np.asarray(x, dtype=float)), np.sort(np.asarray(y, dtype=float))
    if not len(x) or not len(y):
        return 0.0
    points = np.concatenate([x, y])
    cdf_x = np.searchsorted(x, points, side="right") / len(x)
    cdf_y = np.searchsorted(y, points, side="right") / len(y)
    return float(np.abs(cdf_x - cdf_y).max())


def total_variation(p, q):
    """Half the L1 distance between two distributions over class names, 0 to 1."""
    names = set(p) | set(q)
    return float(sum(abs(p.get(n, 0.0) - q.get(n, 0.0)) for n in names) / 2)


def class_distribution(labels, classes):
    counts = {c: 0 for c in classes}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    total = max(len(labels), 1)
    return {c: n / total for c, n in counts.items()}


def sample(count, size, seed=0):
    """A fixed random subset of `range(count)` of at most `size` indexes, in order."""
    rng = np.random.default_rng(seed)
    if count <= size:
        return np.arange(count)
    return np.sort(rng.choice(count, size, replace=False))
