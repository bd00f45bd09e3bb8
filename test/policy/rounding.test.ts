/**
 * `--round-to auto`'s decision (the multiple per provider and CPU flag set) and the rounding of kept counts in units,
 * against hand-worked cases and a brute-force reference (the nearest allowed count, enumerated).
 */
import { describe, expect, it } from 'vitest';
import { autoRoundMultiple, channelsPerUnit, keptUnitsLattice, roundKeptUnits } from '../../src/passes/policy/rounding.js';
import { cpuFeatures } from '../../src/runtime/hardware.js';

const x64 = (...flags: string[]) => ({ arch: 'x64', flags: new Set(flags) });

describe('autoRoundMultiple', () => {
  it.each([
    ['AVX-512 (Skylake-SP flags)', { ep: 'cpu', cpu: x64('sse4_2', 'avx', 'avx2', 'fma', 'avx512f', 'avx512bw', 'avx512vl') }, 16, false, /AVX-512 NCHWc block/],
    ['AVX2 + FMA (Zen 2)', { ep: 'cpu', cpu: x64('sse4_2', 'avx', 'avx2', 'fma') }, 8, false, /AVX2 NCHWc block/],
    ['no AVX (SSE only)', { ep: 'cpu', cpu: x64('sse2', 'sse4_1', 'sse4_2') }, 8, false, /SSE NCHWc block/],
    ['AVX2 without FMA', { ep: 'cpu', cpu: x64('avx', 'avx2') }, 8, false, /SSE NCHWc block/],
    ['x64 with unreadable flags (Windows)', { ep: 'cpu', cpu: { arch: 'x64' } }, 8, false, /cannot|does not show/],
    ['arm64', { ep: 'cpu', cpu: { arch: 'arm64', flags: new Set(['neon', 'asimd']) } }, 8, false, /arm64/],
    ['CUDA on an AVX-512 host', { ep: 'cuda', cpu: x64('avx2', 'fma', 'avx512f') }, 8, true, /CUDA/],
    ['CUDA without flags', { ep: 'cuda', cpu: { arch: 'x64' } }, 8, true, /tensor-core/],
  ] as const)('%s → %d', (_, target, multiple, dense, reason) => {
    const choice = autoRoundMultiple(target);
    expect(choice.multiple).toBe(multiple);
    expect(choice.dense).toBe(dense);
    expect(choice.reason).toMatch(reason);
  });

  it('reads this machine\'s flags on Linux', () => {
    const f = cpuFeatures();
    expect(f.arch).toBe(process.arch);
    if (process.platform === 'linux' && process.arch === 'x64') expect(f.flags?.has('sse2')).toBe(true);
  });
});

/** The documented rule by enumeration: the nearest of {multiples of the step in [floor, n)} ∪ {n}, ties up. */
function reference(n: number, kept: number, multiple: number, unitChannels: number, floorIn: number): number {
  const floor = Math.min(n, Math.max(1, floorIn));
  const want = Math.min(n, Math.max(floor, kept));
  const allowed = [n];
  for (let k = floor; k < n; k++) if ((k * unitChannels) % multiple === 0) allowed.push(k);
  if (allowed.length === 1) return want;
  return allowed.reduce((best, k) => (Math.abs(k - want) < Math.abs(best - want) || (Math.abs(k - want) === Math.abs(best - want) && k > best) ? k : best));
}

describe('roundKeptUnits', () => {
  it('rounds to the nearest multiple, ties to the larger count, never above n nor below the floor', () => {
    const r = (n: number, kept: number, multiple: number, floor = 1, unitChannels = 1) => roundKeptUnits(n, kept, { multiple, unitChannels, floor });
    expect(r(64, 45, 8)).toBe(48); // 0.7·64 = 44.8 → 45 → 48
    expect(r(128, 90, 8)).toBe(88); // nearest, not up
    expect(r(16, 12, 8)).toBe(16); // a tie: 8 or 16 → 16
    expect(r(16, 11, 8)).toBe(8);
    expect(r(24, 17, 16)).toBe(16);
    expect(r(20, 19, 8)).toBe(20); // the full width is allowed though not a multiple
    expect(r(6, 4, 8)).toBe(4); // narrower than the multiple: unchanged
    expect(r(64, 3, 8)).toBe(8); // never 0
    expect(r(64, 10, 8, 12)).toBe(16); // the floor (12) is never undercut: up to the next multiple
    expect(r(64, 45, 1)).toBe(45); // --round-to 1: exact
  });

  it('moves heads and conv groups in whole units so the channel count lands on the multiple', () => {
    // 12 heads of 64 channels: every head count is a multiple of 8 channels.
    expect(roundKeptUnits(12, 7, { multiple: 8, unitChannels: 64, floor: 1 })).toBe(7);
    // 32 groups of 4 channels (ResNeXt): multiples of 8 channels are even group counts.
    expect(roundKeptUnits(32, 23, { multiple: 8, unitChannels: 4, floor: 1 })).toBe(24);
    expect(roundKeptUnits(32, 21, { multiple: 16, unitChannels: 4, floor: 1 })).toBe(20);
    // 6-channel units and 16: steps of 8 units (48 channels).
    expect(roundKeptUnits(40, 27, { multiple: 16, unitChannels: 6, floor: 1 })).toBe(24);
  });

  it('agrees with the enumerated rule, and every result is on keptUnitsLattice', () => {
    const wrong: string[] = [];
    for (const n of [1, 2, 5, 7, 8, 9, 15, 16, 24, 33, 64, 100]) {
      for (const multiple of [1, 4, 8, 16]) {
        for (const unitChannels of [1, 2, 3, 4, 64]) {
          for (const floor of [0, 1, 3, 10]) {
            const o = { multiple, unitChannels, floor };
            const lattice = keptUnitsLattice(n, o);
            const at = `n ${n} m ${multiple} u ${unitChannels} floor ${floor}`;
            if (lattice.at(-1) !== n) wrong.push(`${at}: lattice ends at ${lattice.at(-1)}`);
            for (let kept = 0; kept <= n; kept++) {
              const got = roundKeptUnits(n, kept, o);
              const want = reference(n, kept, multiple, unitChannels, floor);
              if (got !== want || !lattice.includes(got)) wrong.push(`${at} kept ${kept}: ${got}, expected ${want} on [${lattice}]`);
            }
            // Lattice points are fixed points: the latency allocation's widths survive the rounding unchanged.
            for (const k of lattice) if (roundKeptUnits(n, k, o) !== k) wrong.push(`${at}: lattice point ${k} moves`);
          }
        }
      }
    }
    expect(wrong).toEqual([]);
  });
});

describe('channelsPerUnit', () => {
  it('is the common unit width, or undefined when units differ', () => {
    expect(channelsPerUnit([{ unitOf: Int32Array.from([0, 1, 2, 3]) }], 4)).toBe(1);
    expect(channelsPerUnit([{ unitOf: Int32Array.from([0, 0, 1, 1, 2, 2]) }], 3)).toBe(2);
    // Two producers each carrying some units (a Concat): both one channel per unit.
    expect(channelsPerUnit([{ unitOf: Int32Array.from([0, 1]) }, { unitOf: Int32Array.from([2, 3, 4]) }], 5)).toBe(1);
    expect(channelsPerUnit([{ unitOf: Int32Array.from([0, 0, 1]) }], 2)).toBeUndefined();
  });
});
