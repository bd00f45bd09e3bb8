import { describe, expect, it } from 'vitest';
import { ModelBuilder } from '../../src/ir/builder.js';
import { DataType } from '../../src/ir/dtype.js';
import { analyze } from '../../src/passes/dependency/analyze.js';
import { channelVectors, rowsAlong } from '../../src/passes/channelVectors.js';

const seq = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('channelVectors', () => {
  it('reads each producer kind along its output-channel axis', () => {
    const b = new ModelBuilder(17);
    const x = b.input('x', [1, 2, 3, 3]);
    const conv = b.op('Conv', [x, b.weight('cw', [3, 2, 1, 2], seq(12))], {}, { name: 'conv' });
    const up = b.op('ConvTranspose', [conv, b.weight('tw', [3, 2, 1, 1], seq(6))], {}, { name: 'up' });
    const flat = b.op('Flatten', [b.op('GlobalAveragePool', [up])]);
    const g1 = b.op('Gemm', [flat, b.weight('g1', [2, 4], seq(8))], {}, { name: 'gemmN' });
    const g2 = b.op('Gemm', [g1, b.weight('g2', [3, 4], seq(12))], { transB: 1 }, { name: 'gemmT' });
    // float16 storage behind a Cast, as exporters write it (MatMul takes operands of one type).
    const mmWeight = b.op('Cast', [b.weight('mm', [3, 2], seq(6), 0.5, DataType.FLOAT16)], { to: DataType.FLOAT });
    const mm = b.op('MatMul', [g2, mmWeight], {}, { name: 'mm' });
    b.output(mm);
    const vectors = analyze(b.build()).map((g) => channelVectors(g)[0]!);
    const [conv0, up0, gemmN, gemmT, mm0] = vectors;
    expect([conv0!.n, conv0!.d, [...conv0!.rows().slice(0, 4)]]).toEqual([3, 4, [0, 1, 2, 3]]);
    // ConvTranspose [C=3, O=2]: output channel 1 is W[:, 1].
    expect([up0!.n, up0!.d, [...up0!.rows().slice(3)]]).toEqual([2, 3, [1, 3, 5]]);
    // Gemm without transB: B is [K=2, N=4], output j is column j.
    expect([gemmN!.n, gemmN!.d, [...gemmN!.rows().slice(2, 4)]]).toEqual([4, 2, [1, 5]]);
    // transB: B is [N=3, K=4], output j is row j.
    expect([gemmT!.n, gemmT!.d, [...gemmT!.rows().slice(4, 8)]]).toEqual([3, 4, [4, 5, 6, 7]]);
    // MatMul [d=3, n=2] stored as float16 (exact for small integers): column j.
    expect([mm0!.n, mm0!.d, [...mm0!.rows()]]).toEqual([2, 3, [0, 2, 4, 1, 3, 5]]);
    expect([...conv0!.unitOf]).toEqual([0, 1, 2]);
  });

  it('rowsAlong moves any axis to the front', () => {
    expect([...rowsAlong(Float32Array.from(seq(24)), [2, 3, 4], 1).rows.slice(0, 8)]).toEqual([0, 1, 2, 3, 12, 13, 14, 15]);
  });
});
