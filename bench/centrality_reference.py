#!/usr/bin/python3
"""Reference side of bench/centrality.ts (Debian numpy + networkx, run with /usr/bin/python3).

  generate PATH N D SEED   write structured float32 weights (rank-4 signal + noise: ~19% of pairs above tau = 0.2)
  measure PATH TAU OUT NX REPEAT
                           time numpy (normalise, W_hat W_hat^T, threshold, networkx-style power iteration) and
                           networkx.eigenvector_centrality on the same graph; write timings and scores to OUT (JSON)
"""
import json
import sys
import time

import numpy as np

EPS = 1e-8


def generate(path, n, d, seed):
    g = np.random.default_rng(seed)
    rank, noise = 4, 1.0
    w = g.standard_normal((n, rank), dtype=np.float32) @ g.standard_normal((rank, d), dtype=np.float32)
    w += np.float32(noise * np.sqrt(rank)) * g.standard_normal((n, d), dtype=np.float32)
    np.save(path, w)


def power_iteration(a, max_iter=100, tol=1e-6):
    """networkx.eigenvector_centrality's iteration, vectorised: x <- (A + I) x / ||.||, L1 change < n tol."""
    n = len(a)
    x = np.full(n, 1.0 / n)
    for it in range(1, max_iter + 1):
        last = x
        x = last + a @ last
        x /= np.linalg.norm(x) or 1
        if np.abs(x - last).sum() < n * tol:
            return x, it, True
    return x, max_iter, False


def numpy_pipeline(w, tau):
    t0 = time.perf_counter()
    wh = w / (np.linalg.norm(w, axis=1, keepdims=True) + np.float32(EPS))
    t1 = time.perf_counter()
    s = wh @ wh.T  # numpy recognises A @ A.T and uses syrk (half the multiply-adds)
    t2 = time.perf_counter()
    a = np.where(s > tau, s, 0).astype(np.float64)
    np.fill_diagonal(a, 0)
    t3 = time.perf_counter()
    x, iters, converged = power_iteration(a)
    t4 = time.perf_counter()
    times = {'normalise': t1 - t0, 'gemm': t2 - t1, 'threshold': t3 - t2, 'power': t4 - t3, 'total': t4 - t0,
             'iterations': iters, 'converged': converged}
    return a, x, times


def measure(path, tau, out, with_networkx, repeat):
    w = np.load(path)
    n = len(w)
    runs = [numpy_pipeline(w, tau) for _ in range(repeat)]
    a, x, _ = runs[-1]
    best = min((r[2] for r in runs), key=lambda t: t['total'])
    result = {
        'n': n, 'd': w.shape[1], 'edges': int(np.count_nonzero(a) // 2),
        'numpy': best, 'numpyTotals': [r[2]['total'] for r in runs],
        'numpyScores': x.tolist(),
    }
    del runs
    if with_networkx:
        import networkx as nx
        t5 = time.perf_counter()
        iu, ju = np.nonzero(np.triu(a, 1))
        g = nx.Graph()
        g.add_nodes_from(range(n))
        g.add_weighted_edges_from(zip(iu.tolist(), ju.tolist(), a[iu, ju].tolist()))
        t6 = time.perf_counter()
        del a
        try:
            c = nx.eigenvector_centrality(g, weight='weight', tol=1e-6)
            result['networkxScores'] = [c[i] for i in range(n)]
            ok = True
        except nx.PowerIterationFailedConvergence:
            ok = False
        t7 = time.perf_counter()
        result['networkx'] = {'buildGraph': t6 - t5, 'centrality': t7 - t6, 'converged': ok}
    with open(out, 'w') as f:
        json.dump(result, f)


if __name__ == '__main__':
    if sys.argv[1] == 'generate':
        generate(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    else:
        measure(sys.argv[2], float(sys.argv[3]), sys.argv[4], with_networkx=sys.argv[5] == '1', repeat=int(sys.argv[6]))
