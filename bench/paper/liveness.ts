import { DataType } from '../../src/ir/dtype.js';
import { loadModel } from '../../src/ir/load.js';
import type { Value } from '../../src/ir/value.js';
import type { Dataset } from '../../src/runtime/data/index.js';
import { features } from './evaluate.js';

/**
 * Which neurons of each dense layer ever fire (ReLU output > 0) on some data, by dense node name. A neuron that
 * never fires on the target data passes no signal and, behind a frozen trunk, gets no gradient either: keeping it
 * is as good as pruning it. Layers are the Gemm/MatMul nodes whose only consumer is a Relu.
 */
export async function firingNeurons(modelFile: string, data: Dataset): Promise<Map<string, boolean[]>> {
  const out = new Map<string, boolean[]>();
  const names = loadModel(modelFile).graph.nodes.filter((n) => (n.opType === 'Gemm' || n.opType === 'MatMul') && reluAfter(n.output(0)!) !== undefined).map((n) => n.name);
  for (const name of names) {
    const model = loadModel(modelFile);
    const relu = reluAfter(model.graph.nodes.find((n) => n.name === name)!.output(0)!)!;
    relu.elemType ??= DataType.FLOAT; // an inner value has no type recorded; outputs need one
    model.graph.outputs = [relu];
    model.graph.eliminateDeadCode();
    const acts = await features(model, data);
    const width = acts.shape[1]!;
    const fires = new Array<boolean>(width).fill(false);
    for (let i = 0; i < acts.x.length; i++) if (acts.x[i]! > 0) fires[i % width] = true;
    out.set(name, fires);
  }
  return out;
}

/** The output of the Relu that is `v`'s only consumer, if that is how `v` is used. */
function reluAfter(v: Value): Value | undefined {
  const uses = v.uses();
  return uses.length === 1 && uses[0]!.node.opType === 'Relu' ? uses[0]!.node.output(0) : undefined;
}
