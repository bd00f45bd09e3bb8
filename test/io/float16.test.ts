import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { bfloat16ToFloat, floatToBfloat16, floatToHalf, halfToFloat } from '../../src/ir/dtype.js';
import { describeWith, Rng, runPython, tempDir } from '../support/index.js';

/**
 * float32 ↔ float16 against numpy's astype, float32 ↔ bfloat16 against torch: every half / bfloat16 bit pattern,
 * every rounding tie between adjacent halves (and one float32 ulp either side), subnormals, overflow, inf, nan,
 * and seeded random float32 bit patterns.
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
const fromBits = (b: number): number => ((u32[0] = b >>> 0), f32[0]!);
const bitsOf = (v: number): number => ((f32[0] = v), u32[0]!);
const hex = (n: number, w: number): string => '0x' + n.toString(16).padStart(w, '0');

function testValues(): Float32Array {
  const v: number[] = [];
  for (let h = 0; h < 0x10000; h++) v.push(halfBitsToNumber(h));
  // Midpoints between adjacent finite halves (exact in float32), and the float32 values just either side.
  for (let h = 0; h < 0x7c00; h++) {
    const mid = Math.fround((halfBitsToNumber(h) + halfBitsToNumber(h + 1)) / 2);
    for (const m of [mid, -mid]) v.push(m, fromBits(bitsOf(m) + 1), fromBits(bitsOf(m) - 1));
  }
  v.push(0, -0, Infinity, -Infinity, NaN, fromBits(0x7fc00001), fromBits(0xffa00000), fromBits(0x7f800001));
  v.push(65504, 65519, 65519.99, 65520, 65536, 1e10, -1e10, 3.4e38);
  v.push(2 ** -24, 2 ** -25, 2 ** -25 * 1.5, 2 ** -26, 2 ** -14, 2 ** -15, fromBits(1), fromBits(0x007fffff), fromBits(0x80000001));
  const rng = new Rng(99);
  for (let i = 0; i < 50_000; i++) v.push(fromBits(rng.int(2 ** 32)));
  return Float32Array.from(v);
}

/** Half bit pattern → value, written independently of the code under test. */
function halfBitsToNumber(h: number): number {
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  const sign = h & 0x8000 ? -1 : 1;
  if (e === 0x1f) return m ? NaN : sign * Infinity;
  return sign * (e === 0 ? m * 2 ** -24 : (1024 + m) * 2 ** (e - 25));
}

const isHalfNaN = (h: number): boolean => (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
const isBf16NaN = (h: number): boolean => (h & 0x7f80) === 0x7f80 && (h & 0x7f) !== 0;

const dir = tempDir('f16');
let values: Float32Array;
const read16 = (name: string): Uint16Array => {
  const b = readFileSync(join(dir, name));
  return new Uint16Array(b.buffer, b.byteOffset, b.byteLength / 2);
};
const read32 = (name: string): Float32Array => {
  const b = readFileSync(join(dir, name));
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};

/** Up to 10 mismatches, formatted, so a failure shows what went wrong. */
function mismatches(n: number, ok: (i: number) => boolean, show: (i: number) => string): string[] {
  const bad: string[] = [];
  for (let i = 0; i < n && bad.length < 10; i++) if (!ok(i)) bad.push(show(i));
  return bad;
}

describeWith(['numpy'], 'conversions against numpy and torch', () => {
  beforeAll(() => {
    values = testValues();
    writeFileSync(join(dir, 'f32.bin'), new Uint8Array(values.buffer));
    runPython('float_reference.py', [dir]);
  });

  describe('float16 (numpy: python3-numpy)', () => {
    it(`float32 → float16 rounds as numpy's astype(float16)`, () => {
      const ref = read16('f16_numpy.bin');
      expect(ref.length).toBe(values.length);
      const bad = mismatches(values.length,
        (i) => (isHalfNaN(ref[i]!) ? isHalfNaN(floatToHalf(values[i]!)) : floatToHalf(values[i]!) === ref[i]),
        (i) => `${values[i]} (${hex(bitsOf(values[i]!), 8)}): ours ${hex(floatToHalf(values[i]!), 4)}, numpy ${hex(ref[i]!, 4)}`);
      expect(bad).toEqual([]);
    });

    it('float16 → float32 is exact for all 65536 bit patterns, as numpy', () => {
      const ref = read32('f16_to_f32.bin');
      const bad = mismatches(0x10000,
        (h) => (Number.isNaN(ref[h]!) ? Number.isNaN(halfToFloat(h)) : Object.is(halfToFloat(h), ref[h]!)),
        (h) => `${hex(h, 4)}: ours ${halfToFloat(h)}, numpy ${ref[h]}`);
      expect(bad).toEqual([]);
    });
  });

  describeWith(['torch'], 'bfloat16 (torch: python3-torch)', () => {
    it('float32 → bfloat16 rounds as torch', () => {
      const ref = read16('bf16_torch.bin');
      const bad = mismatches(values.length,
        (i) => (isBf16NaN(ref[i]!) ? isBf16NaN(floatToBfloat16(values[i]!)) : floatToBfloat16(values[i]!) === ref[i]),
        (i) => `${values[i]} (${hex(bitsOf(values[i]!), 8)}): ours ${hex(floatToBfloat16(values[i]!), 4)}, torch ${hex(ref[i]!, 4)}`);
      expect(bad).toEqual([]);
    });

    it('bfloat16 → float32 is exact for all 65536 bit patterns, as torch', () => {
      const ref = read32('bf16_to_f32.bin');
      const bad = mismatches(0x10000,
        (h) => (Number.isNaN(ref[h]!) ? Number.isNaN(bfloat16ToFloat(h)) : Object.is(bfloat16ToFloat(h), ref[h]!)),
        (h) => `${hex(h, 4)}: ours ${bfloat16ToFloat(h)}, torch ${ref[h]}`);
      expect(bad).toEqual([]);
    });
  });
});
