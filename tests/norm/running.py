"""Running statistics of batch normalization after three training steps,
computed independently with numpy (PyTorch's conventions: the batch's biased
variance to normalize, n/(n - 1) to update the running variance, momentum
0.1), for tests/batch_norm.rs. Run it to regenerate running.json:

    python3 tests/norm/running.py > tests/norm/running.json
"""
import json
import math

import numpy as np

BATCH = 4
STEPS = 3
MOMENTUM = 0.1


def batch(step, per_sample):
    """The batch of a step, as tests/batch_norm.rs makes it."""
    size = int(np.prod(per_sample))
    x = np.empty((BATCH, size))
    for b in range(BATCH):
        for i in range(size):
            x[b, i] = math.sin(0.37 * (step * 97 + b * 13 + i)) * (1 + step) + 0.5 * step
    return x.reshape((BATCH,) + per_sample)


def running(per_sample, axes):
    features = per_sample[0] if len(per_sample) == 3 else per_sample[-1]
    mean, var = np.zeros(features), np.ones(features)
    for step in range(STEPS):
        x = batch(step, per_sample)
        n = x.size // features
        mean = (1 - MOMENTUM) * mean + MOMENTUM * x.mean(axis=axes)
        var = (1 - MOMENTUM) * var + MOMENTUM * x.var(axis=axes) * n / (n - 1)
    return {"mean": mean.tolist(), "var": var.tolist()}


print(json.dumps({
    "vector": running((5,), (0,)),
    "rows": running((3, 2), (0, 1)),
    "images": running((2, 3, 3), (0, 2, 3)),
}, indent=1))
