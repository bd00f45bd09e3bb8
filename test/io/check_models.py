"""Runs Debian python3-onnx's checker on each model path given; prints one JSON object {path: "ok" | error}.

Run with /usr/bin/python3 (the system interpreter that has python3-onnx), e.g.
    /usr/bin/python3 test/io/check_models.py a.onnx b.onnx
"""
import json
import sys

import onnx

results = {}
for path in sys.argv[1:]:
    try:
        onnx.checker.check_model(onnx.load(path))
        results[path] = "ok"
    except Exception as e:  # the checker's verdict, whatever its exception type
        results[path] = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
print(json.dumps(results))
