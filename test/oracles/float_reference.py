"""Reference float16 / bfloat16 conversions for test/io/float16.test.ts.

Usage: /usr/bin/python3 float_reference.py DIR   -> prints the names of the files written, as JSON
Reads DIR/f32.bin (little-endian float32 values) and writes, all little-endian:
  DIR/f16_numpy.bin       uint16: numpy's astype(float16) of each value (round to nearest even)
  DIR/f16_to_f32.bin      float32: numpy's astype(float32) of every one of the 65536 half bit patterns
  DIR/bf16_torch.bin      uint16: torch's .to(bfloat16) of each value      (only when torch imports)
  DIR/bf16_to_f32.bin     float32: torch's .to(float32) of every bfloat16 bit pattern (only when torch imports)
"""
import json
import os
import sys

import numpy as np

d = sys.argv[1]
x = np.fromfile(os.path.join(d, "f32.bin"), dtype="<f4")
with np.errstate(over="ignore"):  # values beyond the half range become inf, which is what we compare
    x.astype("<f2").view("<u2").tofile(os.path.join(d, "f16_numpy.bin"))
np.arange(65536, dtype="<u2").view("<f2").astype("<f4").tofile(os.path.join(d, "f16_to_f32.bin"))

try:
    import torch
except ImportError:
    print(json.dumps(["f16_numpy.bin", "f16_to_f32.bin"]))
    sys.exit(0)
t = torch.from_numpy(x.copy()).to(torch.bfloat16)
t.view(torch.int16).numpy().view("<u2").tofile(os.path.join(d, "bf16_torch.bin"))
patterns = torch.from_numpy(np.arange(65536, dtype=np.uint16).view(np.int16).copy()).view(torch.bfloat16)
patterns.to(torch.float32).numpy().astype("<f4").tofile(os.path.join(d, "bf16_to_f32.bin"))
print(json.dumps(["f16_numpy.bin", "f16_to_f32.bin", "bf16_torch.bin", "bf16_to_f32.bin"]))
