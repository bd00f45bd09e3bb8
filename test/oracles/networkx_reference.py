#!/usr/bin/python3
"""Independent reference for the centrality scoring (paper section 3.1-3.3), run by test/scoring/goldens.test.ts.

Generates deterministic weight matrices (numpy, from seeds), and for each case and threshold tau computes with
numpy + networkx only:
  * S = W_hat W_hat^T with w_hat = w / (||w||_2 + eps), in float64 from the float32 weights;
  * the weighted graph: edge i<j with weight S_ij when S_ij > tau (strict);
  * networkx.eigenvector_centrality(G, weight='weight', max_iter=1000, tol=1e-6) (None when it fails to converge),
    the unweighted variant, and networkx.degree_centrality;
  * the per-component definition (each component's principal eigenpair from numpy.linalg.eigh, scaled by
    lambda_c / lambda_max, whole vector unit L2 norm);
  * kept sets by the documented selection rule (mantissa truncated to 23 bits, ties: lower index removed first).
Coupled groups: 'concat' = concatenate each channel's normalised vectors over producers and renormalise;
'average' = mean of the per-producer networkx centralities.
Prints one JSON document on stdout.
"""
import json
import sys

import networkx as nx
import numpy as np

EPS = 1e-8
TAUS = [0.0, 0.2, 0.5, 0.8]
# Thresholding must not hinge on rounding: every |S_ij - tau| must exceed this (else pick other seeds).
MARGIN = 1e-6


def gaussian(n, d, seed):
    return np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)


def low_rank(n, d, rank, noise, seed):
    """Low-rank structure plus noise: ~20% of pairs above tau = 0.2, ~2% above 0.5 (so isolated nodes appear)."""
    g = np.random.default_rng(seed)
    w = g.standard_normal((n, rank)) @ g.standard_normal((rank, d)) + noise * np.sqrt(rank) * g.standard_normal((n, d))
    return w.astype(np.float32)


def clusters(n, d, k, spread, seed, equal):
    """k tight clusters (of equal sizes, or random ones): at tau = 0.8 the graph falls apart into many components,
    and with equal sizes their top eigenvalues are so close that networkx's power iteration fails."""
    g = np.random.default_rng(seed)
    centres = g.standard_normal((k, d))
    member = np.arange(n) % k if equal else g.integers(0, k, n)
    return (centres[member] + spread * g.standard_normal((n, d))).astype(np.float32)


def bridged(m, d, spread, seed):
    """Two equal clusters and one channel similar to both: connected, but the top two eigenvalues are so close that
    networkx needs more than its default 100 iterations."""
    g = np.random.default_rng(seed)
    c = g.standard_normal((2, d))
    bridge = (c[0] + c[1])[None, :] + 0.05 * g.standard_normal((1, d))
    return np.concatenate([c[0] + spread * g.standard_normal((m, d)), bridge,
                           c[1] + spread * g.standard_normal((m, d))]).astype(np.float32)


def with_dead_and_duplicates(w, seed):
    """Zero rows (dead channels: isolated at every tau >= 0) and exact duplicates (score ties)."""
    g = np.random.default_rng(seed)
    w = w.copy()
    rows = g.choice(len(w), 12, replace=False)
    w[rows[:4]] = 0
    w[rows[4:8]] = w[rows[8:12]]
    return w


def unit_rows(w):
    w = w.astype(np.float64)
    return w / (np.linalg.norm(w, axis=1, keepdims=True) + EPS)


def concat_rows(producers):
    u = np.concatenate([unit_rows(p) for p in producers], axis=1)
    return u / (np.linalg.norm(u, axis=1, keepdims=True) + EPS)


def similarity_graph(u, tau, weighted=True):
    s = u @ u.T
    n = len(s)
    iu, ju = np.triu_indices(n, 1)
    live = (np.abs(u).sum(axis=1) > 0)[iu] & (np.abs(u).sum(axis=1) > 0)[ju]  # a zero row's S is exactly 0 everywhere
    gap = np.abs(s[iu, ju] - tau)[live].min() if live.any() else 1
    if gap <= MARGIN:
        raise SystemExit(f'a similarity lies within {gap:g} of tau = {tau}: choose another seed')
    g = nx.Graph()
    g.add_nodes_from(range(n))
    keep = s[iu, ju] > tau
    for i, j, v in zip(iu[keep], ju[keep], s[iu, ju][keep]):
        if weighted:
            g.add_edge(int(i), int(j), weight=float(v))
        else:
            g.add_edge(int(i), int(j))
    return g


def nx_eigenvector(g, weight='weight'):
    try:
        c = nx.eigenvector_centrality(g, weight=weight, max_iter=1000, tol=1e-6)
    except nx.PowerIterationFailedConvergence:
        return None
    return [c[i] for i in range(len(g))]


def per_component(g):
    n = len(g)
    scores = np.zeros(n)
    parts = []
    for comp in nx.connected_components(g):
        nodes = sorted(comp)
        if len(nodes) < 2:
            parts.append((0.0, nodes, np.zeros(1)))
            continue
        a = nx.to_numpy_array(g, nodelist=nodes, weight='weight')
        vals, vecs = np.linalg.eigh(a)
        v = vecs[:, -1]
        if v.sum() < 0:
            v = -v
        parts.append((vals[-1], nodes, v))
    top = max(p[0] for p in parts)
    for lam, nodes, v in parts:
        if len(nodes) > 1:
            scores[nodes] = (lam / top if top > 0 else 1) * v
    norm = np.linalg.norm(scores)
    return (scores / norm if norm > 0 else scores).tolist(), len(parts)


def truncate_mantissa(x):
    bits = np.asarray(x, dtype=np.float64).view(np.uint64) & np.uint64(~((1 << 29) - 1) & (2**64 - 1))
    return bits.view(np.float64)


def select(scores, ratio, keep='central'):
    n = len(scores)
    kept = max(n - int(np.floor(ratio * n + 1e-9)), 1)
    key = truncate_mantissa(scores) * (1 if keep == 'central' else -1)
    order = sorted(range(n), key=lambda i: (key[i], i))
    return sorted(order[n - kept:])


def graph_case(name, u, tau):
    g = similarity_graph(u, tau)
    ev = nx_eigenvector(g)
    pc, ncomp = per_component(g)
    reference = ev if ev is not None else pc
    out = {
        'name': name, 'tau': tau, 'n': len(u),
        'edges': g.number_of_edges(),
        'components': ncomp,
        'isolated': sum(1 for v in g if g.degree(v) == 0),
        'networkx': ev,
        'networkxUnweighted': nx_eigenvector(similarity_graph(u, tau, weighted=False), weight=None) if g.number_of_edges() else None,
        'perComponent': pc,
        'degree': [nx.degree_centrality(g)[i] for i in range(len(g))],
    }
    if g.number_of_edges():
        out['keepCentral'] = select(np.array(reference), 0.3)
        out['keepPeripheral'] = select(np.array(reference), 0.5, 'peripheral')
    return out


def main():
    single = {
        'gaussian': gaussian(120, 48, 11),
        'lowrank': low_rank(200, 96, 4, 1.0, 2),
        'dead': with_dead_and_duplicates(low_rank(90, 40, 3, 0.8, 5), 6),
        'clusters': clusters(150, 64, 25, 0.45, 1, equal=True),
        'clusters-uneven': clusters(150, 64, 25, 0.45, 3, equal=False),
        'bridged': bridged(40, 64, 0.5, 0),
    }
    coupled = {'coupled': [low_rank(100, 40, 3, 0.8, 7), low_rank(100, 72, 3, 0.8, 7)[:, ::-1].copy()]}
    cases, weights = [], {}
    for name, w in single.items():
        weights[name] = [{'n': w.shape[0], 'd': w.shape[1], 'rows': [float(x) for x in w.ravel()]}]
        for tau in TAUS:
            cases.append(graph_case(name, unit_rows(w), tau))
    for name, ws in coupled.items():
        weights[name] = [{'n': w.shape[0], 'd': w.shape[1], 'rows': [float(x) for x in w.ravel()]} for w in ws]
        for tau in (0.2, 0.5):
            concat = graph_case(name, concat_rows(ws), tau)
            concat['coupling'] = 'concat'
            cases.append(concat)
            per = [nx_eigenvector(similarity_graph(unit_rows(w), tau)) for w in ws]
            cases.append({'name': name, 'tau': tau, 'coupling': 'average', 'n': ws[0].shape[0],
                          'networkx': np.mean(per, axis=0).tolist() if all(p is not None for p in per) else None})
    everything = {**{k: [w] for k, w in single.items()}, **coupled}
    l1 = {k: sum(np.abs(w.astype(np.float64)).sum(axis=1) for w in ws).tolist() for k, ws in everything.items()}
    l2 = {k: np.sqrt(sum((w.astype(np.float64) ** 2).sum(axis=1) for w in ws)).tolist() for k, ws in everything.items()}
    json.dump({'weights': weights, 'cases': cases, 'l1': l1, 'l2': l2},
              sys.stdout)


if __name__ == '__main__':
    main()
