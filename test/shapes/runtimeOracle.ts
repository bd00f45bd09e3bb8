import { decodeModel } from '../../src/ir/load.js';
import type { Model } from '../../src/ir/model.js';
import { encodeModel } from '../../src/ir/save.js';
import { feedsFor, runOrt } from '../support/index.js';

/**
 * Runs a copy of `model` in onnxruntime with every node output exposed as a graph output (typed with the element
 * type we inferred, shape left out so the runtime is not told ours) and returns the dims each one really had.
 */
export async function runtimeDims(model: Model): Promise<Map<string, readonly number[]>> {
  const copy = decodeModel(encodeModel(model));
  const graph = copy.graph;
  for (const node of graph.nodes) {
    for (const v of node.outputs) {
      if (!v || v.isGraphOutput()) continue;
      const inferred = model.graph.find(v.name)?.elemType;
      if (inferred === undefined) continue;
      v.elemType = inferred;
      v.shape = undefined;
      graph.outputs.push(v);
    }
  }
  // Symbolic input dims: 2 for the batch axis, 64 for the others (PaddleOCR's det needs multiples of 32).
  const feeds = feedsFor(copy, { seed: 12345, unknownDim: (axis) => (axis === 0 ? 2 : 64) });
  const results = await runOrt(copy, feeds);
  return new Map(Object.entries(results).map(([name, t]) => [name, t.dims]));
}

/**
 * Checks our shapes against the runtime's: every known dim must be equal, and a symbolic dim must stand for one
 * size wherever it appears. Returns how many known dims were checked and the disagreements.
 */
export function compareWithRuntime(model: Model, actual: Map<string, readonly number[]>): { known: number; wrong: string[] } {
  const symbols = new Map<string, number>();
  const wrong = new Set<string>();
  let known = 0;
  for (const node of model.graph.nodes) {
    for (const v of node.outputs) {
      const shape = v?.shape;
      const dims = v && actual.get(v.name);
      if (!shape || !dims) continue;
      if (shape.length !== dims.length) { wrong.add(`${v.name}: [${shape}] vs [${dims}]`); continue; }
      shape.forEach((d, i) => {
        const a = dims[i]!;
        if (typeof d === 'number') {
          known++;
          if (d !== a) wrong.add(`${v.name}: [${shape}] vs [${dims}]`);
        } else if (typeof d === 'string') {
          if ((symbols.get(d) ?? a) !== a) wrong.add(`${v.name}: symbol ${d} is ${a} here, ${symbols.get(d)} elsewhere`);
          symbols.set(d, a);
        }
      });
    }
  }
  return { known, wrong: [...wrong] };
}
