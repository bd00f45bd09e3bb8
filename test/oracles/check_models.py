"""Runs Debian python3-onnx's checker on each model path given; prints one JSON object {path: "ok" | error}.
With --full first, the full check (the checker's own shape inference too).

Run with /usr/bin/python3 (the system interpreter that has python3-onnx), e.g.
    /usr/bin/python3 test/oracles/check_models.py [--full] a.onnx b.onnx
"""
import json
import sys

import onnx

args = sys.argv[1:]
full = bool(args) and args[0] == "--full"
results = {}
for path in args[1:] if full else args:
    try:
        onnx.checker.check_model(onnx.load(path), full_check=full)
        results[path] = "ok"
    except Exception as e:  # the checker's verdict, whatever its exception type
        results[path] = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
print(json.dumps(results))
