/**
 * A group the engine cannot prove consistent is declined with a reason naming the node, never an internal error:
 * label arrays of different lengths meeting at a node, a prediction shape inference does not confirm (a trial
 * rewrite), a rule registered for an op that it does not describe. And the extension point: a rule registered for a
 * custom-domain op lets channels through it, checked against the masked original with the op lowered to onnxruntime.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ModelBuilder } from '../../src/ir/builder.js';
import { DataType } from '../../src/ir/dtype.js';
import { UserError } from '../../src/ir/errors.js';
import { decodeModel } from '../../src/ir/load.js';
import type { Model } from '../../src/ir/model.js';
import { encodeModel } from '../../src/ir/save.js';
import { inferShapes } from '../../src/ir/shapeInference.js';
import type { Value } from '../../src/ir/value.js';
import { analyze } from '../../src/passes/dependency/analyze.js';
import { CHANNEL_RULES, registerChannelRule } from '../../src/index.js';
import { pruneChannels } from '../../src/passes/pruneChannels.js';
import { feedsFor, relativeError, runOrt } from '../support/index.js';
import { maskedReference } from './helpers/maskedReference.js';
import { TOLERANCE } from './helpers/oracle.js';
import { randomKeep, removalsOf } from './helpers/prune.js';
import { shapeOf } from './helpers/ruleCase.js';

function graph(opset = 17) {
  const b = new ModelBuilder(opset, 3);
  const op = (name: string, type: string, inputs: (Value | null)[], attrs: Parameters<ModelBuilder['op']>[2] = {}, domain = '') => b.op(type, inputs, attrs, { name, domain });
  const conv = (name: string, x: Value, cin: number, cout: number) => op(name, 'Conv', [x, b.weight(`${name}.w`, [cout, cin, 1, 1]), b.weight(`${name}.b`, [cout])]);
  return { b, op, conv };
}

const unregister: (() => void)[] = [];
afterEach(() => { for (const u of unregister.splice(0)) u(); });

describe('declined, never an internal error', () => {
  it('a model whose nodes contradict themselves (a Concat axis out of range) is refused at analysis, naming the node', () => {
    const { b, op, conv } = graph();
    const x = b.input('x', [1, 3, 4, 4]);
    const cat = op('cat', 'Concat', [conv('a', x, 3, 9), conv('c', x, 3, 7)], { axis: 1 });
    b.output(conv('out', cat, 16, 2));
    const model = b.build();
    model.graph.nodes.find((n) => n.name === 'cat')!.setAttr('axis', 99);
    expect(() => analyze(model)).toThrow(UserError);
    expect(() => analyze(model)).toThrow("node 'cat' (Concat): axis 99 is out of range for rank 4");
  });

  it('a value_info that contradicts what its node computes is refused at analysis, naming the node', () => {
    const { b, op, conv } = graph();
    const x = b.input('x', [1, 3, 6, 6]);
    const h = conv('c1', x, 3, 4);
    b.output(conv('c3', op('relu', 'Relu', [conv('c2', h, 4, 5)]), 5, 2));
    const model = b.build();
    h.shape = [1, 4, 5, 5];
    expect(() => analyze(model)).toThrow("node 'c1' (Conv): 'c1_out0' is declared with shape [1, 4, 5, 5] but the node makes [1, 4, 6, 6]");
  });

  /** c1 → SpaceToDepth (5 channels → 20) → Relu → c2, with a registered rule for SpaceToDepth. */
  function spaceToDepth(apply: (typeof CHANNEL_RULES)[string]['apply']) {
    unregister.push(registerChannelRule('', 'SpaceToDepth', { does: 'a rule under test', apply }));
    const { b, op, conv } = graph();
    const s2d = op('s2d', 'SpaceToDepth', [conv('c1', b.input('x', [1, 3, 4, 4]), 3, 5)], { blocksize: 2 });
    b.output(conv('c2', op('relu', 'Relu', [s2d]), 20, 2));
    return analyze(b.build());
  }

  it('a rule that puts channels on an axis of another size is declined at that node', () => {
    const groups = spaceToDepth(CHANNEL_RULES.Relu!.apply);
    expect(groups[0]!.reason).toContain("SpaceToDepth 's2d': 5 channels arrive on output 0 axis 1, which has 20 positions");
  });

  it('a rule whose pruned shapes shape inference does not confirm is caught by the trial rewrite, at that node', () => {
    // Claims the 5 channels take the first 5 of the 20 positions and 15 untracked ones follow: after pruning it
    // predicts 3 + 15 positions where SpaceToDepth makes 3·4.
    const groups = spaceToDepth((ctx) => {
      const c = ctx.use(ctx.axes(0)!.get(1)!);
      const out = new Int32Array(20);
      out.set(c);
      out.set(ctx.fresh(15), 5);
      ctx.setOut(0, 1, out);
    });
    expect(shapeOf(groups)).toEqual(['c1:5!', 'c2:2!']);
    expect(groups[0]!.reason).toBe("not confirmed by shape inference: SpaceToDepth 's2d': the engine predicts [1,18,2,2] for 's2d_out0' but shape inference finds [1,12,2,2]");
  });

  it('registering a rule for a built-in op, or twice, is refused', () => {
    expect(() => registerChannelRule('', 'Relu', CHANNEL_RULES.Relu!)).toThrow(/built-in rule/);
    unregister.push(registerChannelRule('com.example', 'Swish', CHANNEL_RULES.Relu!));
    expect(() => registerChannelRule('com.example', 'Swish', CHANNEL_RULES.Relu!)).toThrow(/already registered/);
  });
});

describe('registerChannelRule: custom-domain ops', () => {
  /** conv → com.example.Swish → com.example.ChannelScale(·, s) → conv → conv, with declared output shapes. */
  function customModel(): Model {
    const { b, op, conv } = graph();
    const custom = (name: string, type: string, inputs: Value[]) => {
      // Shape inference has no rule for these ops: their outputs are declared, as exporters do.
      const v = op(name, type, inputs, {}, 'com.example');
      v.shape = [1, 7, 5, 5];
      v.elemType = DataType.FLOAT;
      b.graph.valueInfo.push(v);
      return v;
    };
    const h = conv('c1', b.input('x', [1, 3, 5, 5]), 3, 7);
    const s = custom('scale', 'ChannelScale', [custom('swish', 'Swish', [h]), b.weight('s', [7, 1, 1])]);
    b.output(conv('c3', conv('c2', s, 7, 6), 6, 2));
    return b.build();
  }

  /** The custom ops replaced by what they compute: Swish = Mul(x, Sigmoid(x)), ChannelScale = Mul(x, s). */
  function lowered(bytes: Uint8Array): Uint8Array {
    const m = decodeModel(bytes);
    for (const node of m.graph.nodes.filter((n) => n.domain === 'com.example')) {
      const x = node.input(0)!;
      const other = node.opType === 'Swish' ? m.graph.addNode('Sigmoid', [x], ['swish_sigmoid'], { before: node }).output(0) : node.input(1)!;
      node.domain = '';
      node.opType = 'Mul';
      node.setInputs([x, other]);
    }
    inferShapes(m);
    return encodeModel(m);
  }

  it('decline the groups through them until rules are registered (the README example); then prune and match the masked original', async () => {
    const bytes = encodeModel(customModel());
    expect(analyze(decodeModel(bytes))[0]!.reason).toBe("op com.example.Swish (node 'swish') is not in the rule table");

    unregister.push(registerChannelRule('com.example', 'Swish', CHANNEL_RULES.Relu!));
    unregister.push(registerChannelRule('com.example', 'ChannelScale', {
      does: 'per-channel scale: channels pass, the scale vector is sliced',
      apply: (ctx) => {
        const c = ctx.axes(0)?.get(1);
        if (!c) return;
        ctx.slice(1, 0, c);
        ctx.passAll(0);
      },
    }));
    const model = decodeModel(bytes);
    const groups = analyze(model);
    expect(shapeOf(groups)).toEqual(['c1:7', 'c2:6', 'c3:2!']);
    const keep = randomKeep(groups, 0.4, 5);
    pruneChannels(model, keep);
    expect(model.graph.nodes.filter((n) => n.domain === 'com.example').map((n) => n.output(0).shape)).toEqual([[1, 4, 5, 5], [1, 4, 5, 5]]);
    expect(model.graph.initializers.find((v) => v.name === 's')!.initializer!.dims).toEqual([4, 1, 1]);

    const original = lowered(bytes);
    const feeds = feedsFor(decodeModel(original), { seed: 2 });
    const reference = await maskedReference(original, removalsOf(groups, keep), feeds);
    const [a, r] = await Promise.all([runOrt(lowered(encodeModel(model)), feeds), runOrt(reference, feeds)]);
    const out = Object.keys(r)[0]!;
    expect(relativeError(a[out]!, r[out]!)).toBeLessThanOrEqual(TOLERANCE);
  });
});
