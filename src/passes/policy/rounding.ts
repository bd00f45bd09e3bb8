/**
 * `--round-to auto`: the channel multiple the target execution provider runs fastest, and rounding a group's kept
 * count to it in the group's own units.
 *
 * Why a multiple matters (measured, bench/results/latency.md): onnxruntime's CPU provider rewrites convs into MLAS's
 * blocked NCHWc layout, whose block is 16 floats with AVX-512 and 8 with AVX2 (and with SSE, MLAS's baseline x86
 * kernels). A conv whose input channel count is not a multiple of the block (and not below it), and a depthwise or
 * grouped conv whose channels are not, falls back to the plain NCHW path (im2col + GEMM, or one GEMM per group) with
 * layout copies around it: 1.4–1.9× slower per layer. On CUDA, cuDNN's tensor-core kernels want multiples of 8.
 * (Also tried: rounding groups of 128+ channels to 32, MLAS's 4-block filter set — a lone 1×1 conv producing 104
 * channels costs about what 128 cost — but whole MobileNetV2 and EfficientNet-B0 ran no faster for it, so no.)
 */

/** What the CPU offers, as the runtime reads it (Linux: /proc/cpuinfo's flags). */
export interface CpuFeatures {
  /** process.arch: 'x64', 'arm64', … */
  readonly arch: string;
  /** Lower-case feature flags (avx2, fma, avx512f, …); undefined when this OS gives no way to read them. */
  readonly flags?: ReadonlySet<string>;
}

export interface RoundingTarget {
  readonly ep: 'cpu' | 'cuda';
  readonly cpu: CpuFeatures;
}

/** A channel multiple, which groups it applies to and, for the report, why it was chosen. */
export interface RoundingChoice {
  readonly multiple: number;
  /** Whether dense (Gemm/MatMul) groups are rounded too; conv groups always are. */
  readonly dense: boolean;
  readonly reason: string;
}

/**
 * The multiple `--round-to auto` uses. CPU x64: 16 with AVX-512F (MLAS's NCHWc block), 8 with AVX2 + FMA or with only
 * SSE (MLAS's baseline NCHWc kernels also use 8-channel blocks); x64 without readable flags (an OS other than Linux
 * or macOS): 8, the block of every x64 CPU without AVX-512 — give --round-to 16 on AVX-512 machines. Other CPUs
 * (arm64): 8, not measured: multiples of 8 keep GEMM register tiles full. CUDA: 8 (tensor cores).
 * On the CPU only conv groups are rounded: MLAS's GEMM showed no gain from multiples of 8 or 16 for Gemm/MatMul
 * widths (K and N of 4096×2867 vs 2864/2872/2880 at batch 1 and 8, 1280×893 vs 888/896: within timing noise), so
 * rounding dense groups would only cost accuracy there; on CUDA both kinds are.
 */
export function autoRoundMultiple(target: RoundingTarget): RoundingChoice {
  if (target.ep === 'cuda') return { multiple: 8, dense: true, reason: 'CUDA: tensor-core kernels want multiples of 8' };
  const cpu = (multiple: number, reason: string): RoundingChoice => ({ multiple, dense: false, reason: `${reason}; conv groups only` });
  const { arch, flags } = target.cpu;
  if (arch !== 'x64' && arch !== 'ia32') return cpu(8, `${arch} CPU: no NCHWc layout known here, 8 keeps GEMM tiles full (not measured)`);
  if (!flags) return cpu(8, 'x64 CPU whose features this OS does not show: 8, the NCHWc block without AVX-512');
  if (flags.has('avx512f')) return cpu(16, 'AVX-512 NCHWc block');
  if (flags.has('avx2') && flags.has('fma')) return cpu(8, 'AVX2 NCHWc block');
  return cpu(8, 'SSE NCHWc block (no AVX2)');
}

/**
 * How many units a group of `units` units keeps when `kept` were asked for and the kept channel count should be a
 * multiple of `multiple` channels. Each unit spans `unitChannels` channels (1 for plain conv/dense channels; a whole
 * head or conv group otherwise), so the count moves in steps of multiple / gcd(multiple, unitChannels) units. The
 * result is the nearest of: the multiples of that step in [floor, units], and `units` itself (the original width);
 * ties go to the larger count. `floor` (min-channels in units, at least 1) is never undercut. When no multiple lies
 * in [floor, units) the request is returned unchanged: a group narrower than the multiple runs the same either way.
 */
export function roundKeptUnits(units: number, kept: number, o: { multiple: number; unitChannels: number; floor: number }): number {
  const floor = Math.min(units, Math.max(1, o.floor));
  const want = Math.min(units, Math.max(floor, kept));
  if (o.multiple <= 1) return want;
  const step = o.multiple / gcd(o.multiple, o.unitChannels);
  const lowest = Math.ceil(floor / step) * step;
  if (lowest >= units) return want;
  const below = Math.max(lowest, Math.floor(want / step) * step);
  const above = Math.min(units, Math.ceil(want / step) * step);
  return want - below < above - want ? below : above;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/**
 * How many channels each unit of a group spans in every producer that carries it (1 for plain channels; a head's or
 * a conv group's width otherwise). Undefined when units differ in width: no unit count lands every tensor on a
 * multiple, so such a group is not rounded.
 */
export function channelsPerUnit(producers: readonly { readonly unitOf: Int32Array }[], units: number): number | undefined {
  let width: number | undefined;
  for (const p of producers) {
    const count = new Int32Array(units);
    for (const u of p.unitOf) count[u]!++;
    for (const c of count) {
      if (c === 0) continue; // a unit this producer does not carry (one side of a Concat)
      if (width === undefined) width = c;
      else if (c !== width) return undefined;
    }
  }
  return width ?? 1;
}

/**
 * Every kept count roundKeptUnits can return for a group, ascending: the multiples of its step from the floor up, and
 * the full width (every count from the floor when it rounds nothing). `--target-latency` moves groups along it.
 */
export function keptUnitsLattice(units: number, o: { multiple: number; unitChannels: number; floor: number }): number[] {
  const floor = Math.min(units, Math.max(1, o.floor));
  const step = o.multiple <= 1 ? 1 : o.multiple / gcd(o.multiple, o.unitChannels);
  const lowest = Math.ceil(floor / step) * step;
  const out: number[] = [];
  if (step === 1 || lowest >= units) {
    for (let k = floor; k <= units; k++) out.push(k);
    return out;
  }
  for (let k = lowest; k < units; k += step) out.push(k);
  out.push(units);
  return out;
}
