"""One measured onnx.load + onnx.save with Debian's python3-onnx, the reference for bench/io.ts.

    /usr/bin/python3 bench/onnx_io.py <model.onnx> <out.onnx>   → one JSON line on stdout
"""
import json
import sys
import time

import onnx


def kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split(":")[1].split()[0])
    return 0


src, out = sys.argv[1], sys.argv[2]
rss_start = kib("VmRSS")
t0 = time.perf_counter()
model = onnx.load(src)
t1 = time.perf_counter()
rss_after_load = kib("VmRSS")
onnx.save(model, out)
t2 = time.perf_counter()
print(json.dumps({
    "load": t1 - t0, "save": t2 - t1, "total": t2 - t0, "version": onnx.__version__,
    "rssStartKiB": rss_start, "rssAfterLoadKiB": rss_after_load, "peakKiB": kib("VmHWM"),
}))
