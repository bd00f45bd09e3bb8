#!/usr/bin/python3
"""Export full-size torchvision models to ONNX for the benchmarks (bench-only; bench/out/ is git-ignored).

    /usr/bin/python3 bench/make_big_models.py --model vgg16      # ~553 MB, about a minute on 2 cores
    /usr/bin/python3 bench/make_big_models.py --model resnet50   # ~100 MB
    /usr/bin/python3 bench/make_big_models.py --model mobilenet_v3_large   # ~22 MB
    /usr/bin/python3 bench/make_big_models.py --model efficientnet_b0      # ~21 MB
    /usr/bin/python3 bench/make_big_models.py --model all

Weights are random but seeded (no download), made non-trivial like the fixtures' (BN statistics and
every constant-valued parameter randomised): with torchvision's own init all zero biases are equal
and the exporter deduplicates them into one initializer shared through Identity nodes, which no
real trained model has. Input 1x3x224x224, TorchScript exporter, opset 14,
eval mode (the exporter fuses Conv+BatchNorm; --keep-bn exports BatchNormalization nodes instead).
An existing output is left alone unless --force is given, since the vgg16 export is slow.
"""

import argparse
import inspect
import os
import sys
import time
import warnings

import torch
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # keep fixtures/ free of __pycache__
sys.path.insert(0, os.path.join(HERE, "..", "fixtures"))
from make_fixtures import make_nontrivial  # noqa: E402
BUILDERS = {
    "vgg16": lambda: torchvision.models.vgg16(weights=None),
    "resnet50": lambda: torchvision.models.resnet50(weights=None),
    "mobilenet_v3_large": lambda: torchvision.models.mobilenet_v3_large(weights=None),
    "efficientnet_b0": lambda: torchvision.models.efficientnet_b0(weights=None),
}


def export(name, out_dir, opset, keep_bn, force):
    suffix = "_bn" if keep_bn and name != "vgg16" else ""
    path = os.path.join(out_dir, "%s%s.onnx" % (name, suffix))
    if os.path.exists(path) and not force:
        print("%s exists (%d bytes); --force to re-export" % (path, os.path.getsize(path)))
        return path
    torch.manual_seed(0)
    model = make_nontrivial(BUILDERS[name]())
    params = sum(p.numel() for p in model.parameters())
    mode = torch.onnx.TrainingMode.PRESERVE if keep_bn else torch.onnx.TrainingMode.EVAL
    warnings.filterwarnings("ignore", message="It is recommended that constant folding be turned off")
    start = time.time()
    tmp = path + ".tmp-export"
    # torch >= 2.5 has a second (dynamo) exporter, the default from 2.9: ask for the TorchScript one the benches use.
    exporter = {"dynamo": False} if "dynamo" in inspect.signature(torch.onnx.export).parameters else {}
    torch.onnx.export(model, (torch.randn(1, 3, 224, 224),), tmp, opset_version=opset, training=mode,
                      input_names=["input"], output_names=["logits"], **exporter)
    os.replace(tmp, path)
    print("%s: %d torch parameters, %d bytes, exported in %.1f s" % (path, params, os.path.getsize(path),
                                                                     time.time() - start))
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", choices=sorted(BUILDERS) + ["all"], required=True)
    parser.add_argument("--out-dir", default=os.path.join(HERE, "out"))
    parser.add_argument("--opset", type=int, default=14)
    parser.add_argument("--keep-bn", action="store_true", help="keep BatchNormalization nodes (resnet50)")
    parser.add_argument("--force", action="store_true", help="re-export even if the file exists")
    args = parser.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    names = sorted(BUILDERS) if args.model == "all" else [args.model]
    for name in names:
        export(name, args.out_dir, args.opset, args.keep_bn, args.force)


if __name__ == "__main__":
    sys.exit(main())
