#!/usr/bin/env python3
"""Reference fixture for the patch network's forward pass, computed with PyTorch.

    python3 scripts/reference/patch_network_reference.py Tests/DetectionTests/Fixtures

A network of the shape scripts/train_patch_network.py trains, with random weights and random
batch-normalisation statistics, on a 12^3 input: the file is written by the training script's
own `export` (batch normalisation folded into the convolutions), and PyTorch's forward pass
of the unfolded network in eval mode on a few random HU cubes gives the expected logits. So
the Swift test checks the folding, the file format and the forward pass together against an
independent implementation.

Needs numpy and PyTorch (CPU).
"""
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from train_patch_network import build_network, export, window  # noqa: E402

SIZE = 12


def main():
    out_dir = sys.argv[1]
    torch.manual_seed(7)
    rng = np.random.default_rng(7)
    net = build_network()
    with torch.no_grad():
        # Larger than PyTorch's initial weights, so the logit depends strongly on the input.
        for layer in list(net.convs) + [net.fc, net.out]:
            layer.weight.mul_(4.0)
        for norm in net.norms:
            norm.weight.uniform_(0.5, 1.5)
            norm.bias.uniform_(-0.2, 0.2)
            norm.running_mean.uniform_(-0.3, 0.3)
            norm.running_var.uniform_(0.5, 2.0)
    net.eval()
    combination = {"weight": 0.7, "offset": -1.1, "tree_score_floor": 0.002}
    network_path = os.path.join(out_dir, "patch_network_reference_net.json")
    export(net, combination, {"source": "scripts/reference/patch_network_reference.py, random weights"},
           network_path, patch_size=SIZE)
    cubes = rng.normal(-700, 300, (4, SIZE, SIZE, SIZE)).astype(np.float32)
    cubes[1, 3:9, 3:9, 3:9] = 40          # a bright block
    cubes[2] = np.linspace(-1100, 500, SIZE ** 3, dtype=np.float32).reshape(SIZE, SIZE, SIZE)
    with torch.no_grad():
        logits = net(torch.from_numpy(window(cubes))).numpy()
    doc = {"size": SIZE, "cubes_hu": [[float(v) for v in c.ravel()] for c in cubes],
           "logits": [float(v) for v in logits], "torch": torch.__version__}
    with open(os.path.join(out_dir, "patch_network_reference.json"), "w") as f:
        json.dump(doc, f)
        f.write("\n")
    print("logits", logits)


if __name__ == "__main__":
    main()
