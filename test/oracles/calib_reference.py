#!/usr/bin/python3
"""numpy / networkx / python-onnx reference for the calibration statistics, the activation-aware criteria and bias
compensation, computed from activations dumped to .npy (all samples at once) and weights read from the ONNX file.

    /usr/bin/python3 calib_reference.py < spec.json

spec (JSON on stdin): {
  units, activeEps, threshold,
  sites: [{file, axis, unitOf}],                       activations [N, ...], channel axis, unit of each position
  consumers: [{model, weight, inAxis, outAxis, site,   the consumer's weight initializer and axes, the site it reads
               conv?: {pads, strides, dilations}}],    Conv consumers: geometry for the compensation reference
  removed: [units]                                     for the compensation reference
  eigenvector: false                                   skip networkx's centrality (not needed for compensation)
}
Prints JSON: per-site sums, per-unit mean / meanAbs / l2 / activeFraction, the full Gram, wanda, flap,
activation-eigenvector (networkx), and per consumer the expected bias correction (alpha included).
"""

import json
import sys

import networkx as nx
import numpy as np
import onnx
from onnx import numpy_helper


def load_weight(path, name):
    model = onnx.load(path)
    for t in model.graph.initializer:
        if t.name == name:
            return numpy_helper.to_array(t).astype(np.float64)
    raise SystemExit(f"no initializer {name} in {path}")


def by_input(w, in_axis, out_axis):
    """The weight as [K, O, rest]."""
    rest = [a for a in range(w.ndim) if a not in (in_axis, out_axis)]
    t = np.transpose(w, [in_axis, out_axis] + rest)
    return t.reshape(t.shape[0], t.shape[1], -1)


def conv_mean_contribution(mean_map, w, pads, strides, dilations):
    """The mean over output positions of conv(mean_map, w) with zero padding: [O]."""
    c, h, wd = mean_map.shape
    o, ci, kh, kw = w.shape
    assert ci == c
    pt, pl, pb, pr = pads
    padded = np.zeros((c, h + pt + pb, wd + pl + pr))
    padded[:, pt:pt + h, pl:pl + wd] = mean_map
    sh, sw = strides
    dh, dw = dilations
    oh = (h + pt + pb - dh * (kh - 1) - 1) // sh + 1
    ow = (wd + pl + pr - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((o, oh, ow))
    for y in range(oh):
        for x in range(ow):
            patch = padded[:, y * sh: y * sh + dh * (kh - 1) + 1: dh, x * sw: x * sw + dw * (kw - 1) + 1: dw]
            out[:, y, x] = np.tensordot(w, patch, axes=([1, 2, 3], [0, 1, 2]))
    return out.reshape(o, -1).mean(axis=1)


def main():
    spec = json.load(sys.stdin)
    n = spec["units"]
    sites = []
    for s in spec["sites"]:
        x = np.load(s["file"]).astype(np.float64)
        unit_of = np.array(s["unitOf"])
        moved = np.moveaxis(x, s["axis"], -1)            # [N, ..., K]
        flat = moved.reshape(-1, moved.shape[-1])         # [N * rest, K]
        per_sample = moved.reshape(x.shape[0], -1, moved.shape[-1])
        sites.append(dict(x=x, axis=s["axis"], unitOf=unit_of, flat=flat, perSample=per_sample))
    samples = sites[0]["x"].shape[0]

    out = dict(sites=[])
    sq = np.zeros(n)
    tot = np.zeros(n)
    tot_abs = np.zeros(n)
    cnt = np.zeros(n)
    max_abs = np.zeros((samples, n))
    gram = np.zeros((n, n))
    for s in sites:
        f = s["flat"]
        out["sites"].append(dict(count=f.shape[0], sum=f.sum(0).tolist(), sumAbs=np.abs(f).sum(0).tolist(),
                                 sumSq=(f * f).sum(0).tolist()))
        vectors = []
        for u in range(n):
            cols = np.nonzero(s["unitOf"] == u)[0]
            tot[u] += f[:, cols].sum()
            tot_abs[u] += np.abs(f[:, cols]).sum()
            sq[u] += (f[:, cols] ** 2).sum()
            cnt[u] += f.shape[0] * len(cols)
            if len(cols):
                max_abs[:, u] = np.maximum(max_abs[:, u], np.abs(s["perSample"][:, :, cols]).reshape(samples, -1).max(1))
            vectors.append(f[:, cols].reshape(-1) if len(cols) else None)
        width = max(len(v) for v in vectors if v is not None)
        vectors = [np.zeros(width) if v is None else v for v in vectors]
        gram += np.array([[a @ b for b in vectors] for a in vectors])
    rms = np.sqrt(np.where(cnt > 0, sq / np.maximum(cnt, 1), 0))
    active = (max_abs > spec["activeEps"] * rms.max()).mean(0)
    out.update(mean=(tot / cnt).tolist(), meanAbs=(tot_abs / cnt).tolist(), l2=np.sqrt(sq).tolist(),
               activeFraction=active.tolist(), gram=gram.tolist(), samples=samples)

    # Activation similarity graph and networkx's eigenvector centrality.
    norm = np.sqrt(np.diag(gram)) + 1e-8
    cos = gram / np.outer(norm, norm)
    g = nx.Graph()
    g.add_nodes_from(range(n))
    for i in range(n):
        for j in range(i + 1, n):
            if cos[i, j] > spec["threshold"]:
                g.add_edge(i, j, weight=cos[i, j])
    out["edges"] = g.number_of_edges()
    if g.number_of_edges() and spec.get("eigenvector", True):
        c = nx.eigenvector_centrality(g, weight="weight", max_iter=100, tol=1e-6)
        out["activationEigenvector"] = [c[i] for i in range(n)]

    wanda = np.zeros(n)
    flap = np.zeros(n)
    deltas = []
    removed = set(spec.get("removed", []))
    for c in spec["consumers"]:
        s = sites[c["site"]]
        w = load_weight(c["model"], c["weight"])
        ko = by_input(w, c["inAxis"], c["outAxis"])     # [K, O, R]
        f = s["flat"]
        norm_x = np.sqrt((f * f).sum(0))
        var_x = f.var(0, ddof=1)
        for k, u in enumerate(s["unitOf"]):
            if u < 0:
                continue
            wanda[u] += norm_x[k] * np.abs(ko[k]).sum()
            flap[u] += var_x[k] * (ko[k] ** 2).sum()
        mask = np.array([u in removed for u in s["unitOf"]])
        if "conv" in c:
            mean_map = s["x"].mean(0) * mask[:, None, None]
            delta = conv_mean_contribution(mean_map, w, c["conv"]["pads"], c["conv"]["strides"], c["conv"]["dilations"])
        else:
            delta = np.einsum("k,kor->o", f.mean(0) * mask, ko)
        deltas.append((c.get("alpha", 1.0) * delta).tolist())
    out.update(wanda=wanda.tolist(), flap=flap.tolist(), deltas=deltas)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
