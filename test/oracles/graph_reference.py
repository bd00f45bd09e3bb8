#!/usr/bin/python3
"""Independent reference for what a report keeps of a similarity graph (src/passes/scoring/graphSummary.ts), run by
test/report/graphSummary.test.ts. Reads {cases: [{name, n, d, rows, tau}]} on stdin; for each case builds the
graph with numpy + networkx only (w_hat = w / (||w|| + 1e-8), S = W_hat W_hat^T in float64, edge i<j when S_ij > tau)
and prints {name: {degrees, edges: [[i, j, S_ij], ...] every edge, strongest first (ties by (i, j)), total}}.
"""
import json
import sys

import networkx as nx
import numpy as np


def main():
    cases = json.load(sys.stdin)["cases"]
    out = {}
    for c in cases:
        w = np.asarray(c["rows"], dtype=np.float32).astype(np.float64).reshape(c["n"], c["d"])
        w_hat = w / (np.linalg.norm(w, axis=1, keepdims=True) + 1e-8)
        s = w_hat @ w_hat.T
        g = nx.Graph()
        g.add_nodes_from(range(c["n"]))
        for i in range(c["n"]):
            for j in range(i + 1, c["n"]):
                if s[i, j] > c["tau"]:
                    g.add_edge(i, j, weight=float(s[i, j]))
        edges = sorted(((i, j, d["weight"]) for i, j, d in g.edges(data=True)), key=lambda e: (-e[2], min(e[0], e[1]), max(e[0], e[1])))
        out[c["name"]] = {
            "degrees": [g.degree(i) for i in range(c["n"])],
            "edges": [[min(i, j), max(i, j), wt] for i, j, wt in edges],
            "total": g.number_of_edges(),
        }
    json.dump(out, sys.stdout)


main()
