import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataType } from '../../src/ir/dtype.js';
import { UserError } from '../../src/ir/errors.js';
import { decodeModel, loadModel } from '../../src/ir/load.js';
import type { Model } from '../../src/ir/model.js';
import type { Node } from '../../src/ir/node.js';
import { encodeModel } from '../../src/ir/save.js';
import { inferShapes } from '../../src/ir/shapeInference.js';
import { opRuleFor } from '../../src/ir/shapes/rules.js';
import { FIXTURE_DIR, ortSession } from '../support/index.js';

/**
 * The signatures of the fused ops (src/ir/shapes/contrib.ts: onnxruntime's contrib ops and opset 23's) against
 * onnxruntime, which checks nodes against the same schemas: every fused graph of the fixtures loads in both, and a
 * node given an attribute its op does not take, an input past the most it takes, or an operand of a type it does
 * not allow is refused by both (ours with one line naming the node).
 */

const FUSED = join(FIXTURE_DIR, '..', 'decoders', 'fused');
const files = readdirSync(FUSED).filter((f) => f.endsWith('.onnx')).sort();

/** One node of each fused op (a domain's op with a signature of contrib.ts) in a fixture. */
function fusedNodes(m: Model): Node[] {
  const seen = new Set<string>();
  return m.graph.nodes.filter((n) => {
    const key = `${n.domain}.${n.opType}`;
    const fused = n.domain !== '' || ['Attention', 'RMSNormalization', 'RotaryEmbedding', 'SimplifiedLayerNormalization'].includes(n.opType);
    if (!fused || seen.has(key) || !opRuleFor(n.opType, n.domain)) return false;
    seen.add(key);
    return true;
  });
}

type Mutation = [string, (m: Model, n: Node) => void, (n: Node) => RegExp];
const MUTATIONS: Mutation[] = [
  ['an attribute the op does not take', (_m, n) => n.setAttr('not_an_attribute', 1), (n) => new RegExp(`has an attribute 'not_an_attribute', which ${n.opType} does not take`)],
  ['a listed attribute of the wrong type', (_m, n) => n.setAttr(Object.keys(opRuleFor(n.opType, n.domain)!.signature.attrs)[0]!, 'text'),
    (n) => new RegExp(`attribute '.*' is of type string but ${n.opType} takes`)],
  ['one input more than the op takes', (_m, n) => {
    const max = opRuleFor(n.opType, n.domain)!.signature.inputs[1];
    n.setInputs([...n.inputs, ...Array.from({ length: max - n.inputs.length + 1 }, () => n.input(0)!)]);
  }, (n) => new RegExp(`\\(${n.opType}\\) has \\d+ inputs; ${n.opType} takes`)],
  ['an int32 first operand', (m, n) => {
    const cast = m.graph.addNode('Cast', [n.input(0)!], [`${n.name}_as_int32`], { before: n });
    cast.setAttr('to', DataType.INT32);
    n.setInput(0, cast.output(0));
  }, () => /input 0 '.*_as_int32' is int32 but must be/],
];

async function ortLoads(bytes: Uint8Array): Promise<true | string> {
  try {
    await (await ortSession(bytes)).release();
    return true;
  } catch (e) {
    return (e as Error).message.split('\n')[0]!;
  }
}

describe('fused-op signatures agree with onnxruntime', () => {
  it.each(files)('%s: loads here and in onnxruntime', async (file) => {
    const m = loadModel(join(FUSED, file));
    expect(fusedNodes(m).length).toBeGreaterThan(0);
    expect(await ortLoads(encodeModel(m))).toBe(true);
  });

  const attributed = (n: Node): boolean => Object.keys(opRuleFor(n.opType, n.domain)!.signature.attrs).length > 0;
  const cases = files.flatMap((file) => fusedNodes(loadModel(join(FUSED, file))).flatMap((n) => MUTATIONS.filter(([what]) => attributed(n) || !what.includes('listed')).map(([what, mutate, message]) => ({
    file, op: `${n.domain || 'ai.onnx'}.${n.opType}`, name: n.name, what, mutate, message,
    unchecked: what.startsWith('an attribute') && opRuleFor(n.opType, n.domain)!.signature.uncheckedAttributes === true,
  }))));
  it.each(cases.filter((c) => !c.unchecked))('$file $op: $what is refused here and by onnxruntime', async ({ file, name, mutate, message }) => {
    const m = loadModel(join(FUSED, file));
    const node = m.graph.nodes.find((n) => n.name === name)!;
    const expected = message(node);
    mutate(m, node);
    const bytes = encodeModel(m);
    // Counts and attributes are checked at load, operand types by the first shape inference (before any analysis).
    const ours = (): unknown => inferShapes(decodeModel(bytes));
    expect(ours).toThrow(UserError);
    expect(ours).toThrow(new RegExp(`node '${escape(name)}'.*${expected.source}`));
    expect(await ortLoads(bytes)).not.toBe(true);
  });

  // SimplifiedLayerNormalization's schema in onnxruntime allows attributes it does not list.
  it.each(cases.filter((c) => c.unchecked))('$file $op: $what is accepted here and by onnxruntime', async ({ file, name, mutate }) => {
    const m = loadModel(join(FUSED, file));
    mutate(m, m.graph.nodes.find((n) => n.name === name)!);
    const bytes = encodeModel(m);
    expect(() => inferShapes(decodeModel(bytes))).not.toThrow();
    expect(await ortLoads(bytes)).toBe(true);
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
