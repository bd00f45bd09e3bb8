import { decodeModel } from '../../../src/ir/load.js';
import { encodeModel } from '../../../src/ir/save.js';
import { inferShapes } from '../../../src/ir/shapeInference.js';

/**
 * The model with the inputs of output-producing Sigmoid / Softmax nodes added as outputs (`<name>`): a saturating
 * function turns float noise in large logits into large relative changes (PaddleOCR's detector outputs sigmoid
 * values below 2e-7 on random images), so the oracle compares the logits, which decide those outputs.
 */
export function withLogits(bytes: Uint8Array): { bytes: Uint8Array; logits: string[] } {
  const m = decodeModel(bytes);
  inferShapes(m);
  const logits: string[] = [];
  for (const out of [...m.graph.outputs]) {
    const p = out.producer();
    const x = p && ['Sigmoid', 'Softmax', 'LogSoftmax'].includes(p.opType) ? p.input(0) : undefined;
    if (!x || m.graph.outputs.includes(x)) continue;
    m.graph.outputs.push(x);
    logits.push(x.name);
  }
  return { bytes: logits.length ? encodeModel(m) : bytes, logits };
}
