import { describe, expect, it } from 'vitest';
import { fixturePath, runCli } from '../support/index.js';

/** The built CLI's stdout, which must succeed silently. */
function cli(...args: string[]): string {
  const r = runCli(args);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r.stdout;
}

describe('onnx-cprune inspect --groups', () => {
  it('prints every group with its chain and the declined ones with their reason; --json gives the same', () => {
    const text = cli('inspect', fixturePath('mlp'), '--groups');
    expect(text).toContain('3 channel groups: 2 prunable, 1 declined');
    expect(text).toContain('#0 dense 64 ch  params 52352  MACs 52288  prunable\n   /1/Gemm → /2/Relu → /3/Gemm.in');
    expect(text).toContain("reason: its channels reach the graph output 'logits'");
    const json = JSON.parse(cli('inspect', fixturePath('mlp'), '--groups', '--json')) as { groups: unknown[]; params: number };
    expect(json.params).toBeGreaterThan(0);
    expect(json.groups).toEqual([
      { id: 0, kind: 'dense', producers: ['/1/Gemm'], channels: 64, members: '/1/Gemm → /2/Relu → /3/Gemm.in', prunable: true, params: 52352, macs: 52288 },
      { id: 1, kind: 'dense', producers: ['/3/Gemm'], channels: 33, members: '/3/Gemm → /4/Relu → /5/Gemm.in', prunable: true, params: 2475, macs: 2442 },
      { id: 2, kind: 'dense', producers: ['/5/Gemm'], channels: 10, members: '/5/Gemm', prunable: false, reason: "its channels reach the graph output 'logits'", params: 340, macs: 330 },
    ]);
  });
});
