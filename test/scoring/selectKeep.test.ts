import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/ir/errors.js';
import { randomScores, selectKeep } from '../../src/passes/scoring/index.js';

const s = (...v: number[]): Float64Array => Float64Array.from(v);

describe('selectKeep', () => {
  it('removes ⌊p·n⌋ lowest scores, lists sorted ascending', () => {
    expect(selectKeep(s(0.5, 0.1, 0.9, 0.3, 0.7), { ratio: 0.4 })).toEqual({ keep: [0, 2, 4], removed: [1, 3] });
    // ⌊0.29·100⌋ is 29 even though 0.29·100 = 28.999999999999996 in floating point.
    expect(selectKeep(randomScores(100, 1), { ratio: 0.29 }).removed.length).toBe(29);
  });

  it("'peripheral' removes the highest scores instead", () => {
    expect(selectKeep(s(0.5, 0.1, 0.9, 0.3, 0.7), { ratio: 0.4, keep: 'peripheral' })).toEqual({ keep: [0, 1, 3], removed: [2, 4] });
  });

  it('breaks ties by index, lower index removed first, in both directions', () => {
    expect(selectKeep(s(1, 1, 1, 1), { ratio: 0.5 }).removed).toEqual([0, 1]);
    expect(selectKeep(s(2, 1, 2, 1), { ratio: 0.75 }).removed).toEqual([0, 1, 3]);
    expect(selectKeep(s(2, 1, 2, 1), { ratio: 0.25, keep: 'peripheral' }).removed).toEqual([0]);
    // Differences below float32 precision are ties (solver noise must not decide), larger ones are not.
    expect(selectKeep(s(0.25 + 1e-12, 0.25), { ratio: 0.5 }).removed).toEqual([0]);
    expect(selectKeep(s(0.25 + 1e-6, 0.25), { ratio: 0.5 }).removed).toEqual([1]);
    // Tiny (underflowing-in-float32) residual scores still rank by value.
    expect(selectKeep(s(3e-50, 1e-50), { ratio: 0.5 }).removed).toEqual([1]);
  });

  it('never removes every channel, honours minChannels, rounds the kept count to the nearest multiple of roundTo', () => {
    expect(selectKeep(s(3, 2, 1), { ratio: 1 }).keep).toEqual([0]);
    expect(selectKeep(s(5, 4, 3, 2, 1), { ratio: 0.8, minChannels: 3 }).keep).toEqual([0, 1, 2]);
    expect(selectKeep(s(5, 4, 3, 2, 1), { ratio: 0.8, minChannels: 9 }).keep).toEqual([0, 1, 2, 3, 4]);
    const scores = randomScores(40, 7);
    expect(selectKeep(scores, { ratio: 0.3, roundTo: 8 }).keep.length).toBe(32); // 28 kept → 24 or 32: a tie, up
    expect(selectKeep(scores, { ratio: 0.35, roundTo: 8 }).keep.length).toBe(24); // 26 kept → 24 (nearest)
    expect(selectKeep(randomScores(12, 7), { ratio: 0.25, roundTo: 2, unitChannels: 4 }).keep.length).toBe(9); // units of 4 channels: any count is a multiple of 2
    expect(selectKeep(scores, { ratio: 0.05, roundTo: 8 }).keep.length).toBe(40); // 38 → 40 (not above n)
    expect(selectKeep(randomScores(10, 7), { ratio: 0.1, roundTo: 8 }).keep.length).toBe(10); // 9 → 16 → capped at 10
    expect(selectKeep(s(), { ratio: 0.5 })).toEqual({ keep: [], removed: [] });
  });

  it('rejects bad options as user errors', () => {
    expect(() => selectKeep(s(1), { ratio: 1.5 })).toThrow(UserError);
    expect(() => selectKeep(s(1), { ratio: 0.5, roundTo: 0 })).toThrow(UserError);
    expect(() => selectKeep(s(1), { ratio: 0.5, minChannels: -1 })).toThrow(UserError);
  });
});

describe('randomScores', () => {
  it('is reproducible per seed and differs across seeds', () => {
    expect(randomScores(50, 3)).toEqual(randomScores(50, 3));
    expect(randomScores(50, 3)).not.toEqual(randomScores(50, 4));
    expect([...randomScores(1000, 1)].every((x) => x >= 0 && x < 1)).toBe(true);
  });
});
