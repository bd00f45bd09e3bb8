#!/usr/bin/python3
"""Dense reference for the blocked similarity of a coupled group (test/scoring/blocked.test.ts).

Generates two producers of n channels in k clusters of geometric sizes (the same membership in both, numpy, from a
seed: similarities near 0.8 within a cluster, near 0 across, so none lies near tau), and computes with numpy +
networkx only, as networkx_reference.py does: the 'concat' vectors (each producer's rows normalised, concatenated,
renormalised), the full n x n similarity matrix in float64, the thresholded graph and networkx's eigenvector
centrality. Input (stdin, JSON): {"n", "dims": [d1, d2], "k", "clustered" (fraction of channels in clusters),
"spread", "seed", "tau"}. Prints the producers' rows, the edge count and the centrality as JSON.
"""
import json
import sys

import numpy as np

from networkx_reference import concat_rows, nx_eigenvector, similarity_graph


def main():
    a = json.load(sys.stdin)
    g = np.random.default_rng(a['seed'])
    # Cluster c holds a share proportional to 1.15^c of the clustered channels (the largest component dominates, so
    # networkx converges in tens of iterations); the rest are noise, isolated (a sparse graph networkx builds quickly).
    k = a['k']
    share = 1.15 ** np.arange(k)
    member = g.choice(k, a['n'], p=share / share.sum())
    noise = g.random(a['n']) >= a['clustered']
    producers = []
    for d in a['dims']:
        centres = np.concatenate([g.standard_normal((k, d)), np.zeros((1, d))])
        producers.append((centres[np.where(noise, k, member)] + a['spread'] * g.standard_normal((a['n'], d))).astype(np.float32))
    graph = similarity_graph(concat_rows(producers), a['tau'])
    print(json.dumps({
        'producers': [{'n': p.shape[0], 'd': p.shape[1], 'rows': p.ravel().tolist()} for p in producers],
        'edges': graph.number_of_edges(),
        'networkx': nx_eigenvector(graph),
    }))


main()
