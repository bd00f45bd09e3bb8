#!/usr/bin/python3
"""Independent reference for the kept sets of `onnx-cprune prune`, run by test/prune/reference.test.ts.

Reads the weights straight from the ONNX file with python-onnx (Gemm honouring transB, MatMul's constant [K, N]
operand by columns, Conv's flattened C/g*kH*kW filters) and, for each requested group and threshold, computes with
numpy + networkx only (the similarity graph, per-component definition and selection rule come from
networkx_reference.py beside it, the scoring goldens' reference):
  * networkx.eigenvector_centrality(G, weight='weight') with networkx's own defaults (max_iter=100, tol=1e-6), as the
    CLI runs it; None when networkx raises PowerIterationFailedConvergence;
  * the unweighted variant (every edge weight 1) and, for coupled groups, the 'average' coupling (mean of the
    per-producer centralities);
  * l2 norms of the raw vectors (the documented fallback for a graph with no edge above tau);
  * the kept set for the ratio by the documented rule (lowest scores removed, ties: lower index first), from
    networkx's scores when it converged, the per-component definition when it did not, l2 when the graph is empty.

Usage: prune_reference.py MODEL.onnx < SPEC_JSON   SPEC = {"ratio": p, "taus": [...], "groups": [[producer names]]}
Prints one JSON document on stdout.
"""
import json
import sys

import networkx as nx
import numpy as np
import onnx
from onnx import numpy_helper

from networkx_reference import concat_rows, per_component, select, similarity_graph, unit_rows


def channel_rows(model, node_name):
    """Row j = the weight vector of output channel j of this node (paper section 3.1)."""
    inits = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    node = next(n for n in model.graph.node if n.name == node_name)
    w = inits[node.input[1]].astype(np.float32)
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
    if node.op_type == 'Gemm':
        return w if attrs.get('transB', 0) else w.T
    if node.op_type == 'MatMul':
        return w.T
    if node.op_type == 'Conv':
        return w.reshape(w.shape[0], -1)
    raise SystemExit(f'{node_name}: unsupported producer {node.op_type}')


def eigenvector(g, weight):
    try:
        c = nx.eigenvector_centrality(g, weight=weight)
    except nx.PowerIterationFailedConvergence:
        return None
    return [c[i] for i in range(len(g))]


def case(producers, tau, ratio):
    u = unit_rows(producers[0]) if len(producers) == 1 else concat_rows(producers)
    g = similarity_graph(u, tau)
    l2 = np.sqrt(sum((p.astype(np.float64) ** 2).sum(axis=1) for p in producers))
    edges = g.number_of_edges()
    ev = eigenvector(g, 'weight') if edges else None
    pc, components = per_component(g)
    reference = l2 if edges == 0 else np.array(ev if ev is not None else pc)
    out = {
        'tau': tau, 'edges': edges, 'components': components,
        'networkx': ev, 'perComponent': pc, 'l2': l2.tolist(),
        'keep': select(reference, ratio),
        'unweighted': eigenvector(similarity_graph(u, tau, weighted=False), None) if edges else None,
    }
    if len(producers) > 1:
        per = [eigenvector(similarity_graph(unit_rows(p), tau), 'weight') for p in producers]
        out['average'] = np.mean(per, axis=0).tolist() if all(p is not None for p in per) else None
    return out


def main():
    model = onnx.load(sys.argv[1])
    spec = json.load(sys.stdin)
    result = []
    for names in spec['groups']:
        producers = [channel_rows(model, n) for n in names]
        result.append({'producers': names, 'cases': [case(producers, tau, spec['ratio']) for tau in spec['taus']]})
    json.dump(result, sys.stdout)


if __name__ == '__main__':
    main()
