#!/usr/bin/python3
"""Torch reference for `evaluate --perplexity`: the mean next-token NLL of a decoder over token windows.

    /usr/bin/python3 perplexity_reference.py < {"config": <manifest config>, "seed": int, "ids": "windows.npy"}

The model is the family's torch module (fixtures/decoders/decoder_modules.py) rebuilt from its config and seed; each
window [T] is one sequence; positions 1..T-1 are predicted from those before them. Prints {"nll", "predictions"}.
"""

import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "fixtures", "decoders"))
import decoder_modules as dm  # noqa: E402

spec = json.load(sys.stdin)
model = dm.build(dm.Config.from_json(spec["config"]), spec["seed"])
ids = torch.from_numpy(np.load(spec["ids"]).astype(np.int64))
with torch.no_grad():
    logits = model(ids)[:, :-1].double()
    nll = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1), reduction="sum").item()
count = ids[:, 1:].numel()
json.dump(dict(nll=nll / count, predictions=count), sys.stdout)
