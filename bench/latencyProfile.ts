/**
 * Where the time goes inside one onnxruntime CPU run, by kernel role, with each role's MACs computed from the
 * shapes the profile records: it shows which parts of a pruned model shrink with its MACs and which do not (the
 * first conv and the classifier keep one side unpruned; pools, adds, layout reorders are memory-bound; convs whose
 * channel counts are not a multiple of MLAS's NCHWc block run without the blocked layout).
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { openSession } from '../src/runtime/session.js';
import type { ort } from '../src/runtime/ort.js';

export const ROLES = ['first conv', 'inner conv (NCHWc)', 'inner conv (plain)', 'depthwise conv', 'fc layers', 'classifier', 'layout reorders', 'other ops', 'outside kernels'] as const;
export type Role = (typeof ROLES)[number];
export const ROLE_NOTES: Record<Role, string> = {
  'first conv': 'its 3 input channels are fixed: MACs fall only with its output channels',
  'inner conv (NCHWc)': 'channels pruned on both sides, run in MLAS\'s blocked NCHWc layout',
  'inner conv (plain)': 'channels pruned on both sides, but a count not a multiple of the NCHWc block: im2col + GEMM path',
  'depthwise conv': 'one filter per channel (group = channels): memory-bound, time ∝ channels like its MACs',
  'fc layers': 'Gemm/MatMul with both sides pruned',
  classifier: 'the last Gemm: its outputs (classes) are fixed, only its inputs shrink',
  'layout reorders': 'NCHW ↔ NCHWc copies onnxruntime inserts around blocked convs',
  'other ops': 'pools, Add, Relu, Flatten: memory-bound, no MACs',
  'outside kernels': 'the run\'s wall time (model_run) not spent in any kernel: input/output copies, allocation, scheduling',
};

export interface RoleFigures { ms: number; macs: number; kernels: number }
export type Profile = Map<Role, RoleFigures>;

interface ProfileEvent {
  cat: string;
  name: string;
  dur: number;
  ts: number;
  args?: { op_name?: string; input_type_shape?: Record<string, number[]>[]; output_type_shape?: Record<string, number[]>[] };
}

/**
 * Profiles the models on `feeds` with onnxruntime's own profiler (per-kernel durations), each in a session of its
 * own, runs round-robin over the models as in the timing (`warmup` untimed rounds, then `runs` timed ones).
 * Returns per model and role the milliseconds (kernel medians, see aggregate) and MACs.
 */
export async function profileRoles(paths: string[], feeds: Record<string, ort.Tensor>, runs: number, warmup: number, threads: number): Promise<Profile[]> {
  const sessions: { session: ort.InferenceSession; prefix: string }[] = [];
  try {
    for (const [i, path] of paths.entries()) {
      const prefix = join(dirname(path), `.profile-${process.pid}-${i}-${basename(path, '.onnx')}`);
      const { session } = await openSession(path, {
        ep: 'cpu',
        sessionOptions: { enableProfiling: true, profileFilePrefix: prefix, ...(threads > 0 ? { intraOpNumThreads: threads } : {}) },
      });
      sessions.push({ session, prefix });
    }
    for (let round = 0; round < warmup + runs; round++) for (const { session } of sessions) await session.run(feeds);
    for (const { session } of sessions) session.endProfiling();
  } finally {
    for (const { session } of sessions) await session.release();
  }
  return sessions.map(({ prefix }) => aggregate(readProfile(prefix), warmup));
}

function readProfile(prefix: string): ProfileEvent[] {
  const dir = dirname(prefix);
  const file = readdirSync(dir).filter((f) => f.startsWith(basename(prefix))).sort().at(-1);
  if (!file) throw new Error(`onnxruntime wrote no profile next to ${prefix}`);
  const events = JSON.parse(readFileSync(join(dir, file), 'utf8')) as ProfileEvent[];
  rmSync(join(dir, file));
  return events;
}

/**
 * The timed runs decomposed: each kernel's median duration over the timed runs, summed by role, and the median of
 * each run's wall time not spent in kernels. Per-kernel medians drop the runs in which another process took the
 * core during that kernel, which on a loaded machine is most runs for some kernel.
 */
function aggregate(events: ProfileEvent[], warmup: number): Profile {
  const modelRuns = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').sort((a, b) => a.ts - b.ts).slice(warmup);
  if (modelRuns.length === 0) throw new Error('the profile has no timed model_run');
  const kernelsOf = (run: ProfileEvent): ProfileEvent[] => events.filter((e) => e.cat === 'Node' && e.name.endsWith('_kernel_time') && e.ts >= run.ts && e.ts + e.dur <= run.ts + run.dur);
  const perRun = modelRuns.map(kernelsOf);
  const first = perRun[0]!;
  const classifier = lastMacKernelName(first);
  const out: Profile = new Map(ROLES.map((r) => [r, { ms: 0, macs: 0, kernels: 0 }]));
  // A kernel is its name and its position among the kernels of that name (a node may run several kernels).
  first.forEach((e, k) => {
    const durations = perRun.map((run) => run[k]).filter((x): x is ProfileEvent => !!x && x.name === e.name).map((x) => x.dur / 1000);
    const f = out.get(roleOf(e, classifier))!;
    f.ms += middle(durations);
    f.macs += macsOf(e);
    f.kernels++;
  });
  const outside = perRun.map((run, i) => modelRuns[i]!.dur / 1000 - run.reduce((t, e) => t + e.dur / 1000, 0));
  out.set('outside kernels', { ms: Math.max(0, middle(outside)), macs: 0, kernels: 0 });
  return out;
}

function middle(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length ? s[(s.length - 1) >> 1]! : 0;
}

const isMac = (op: string): boolean => /Conv|Gemm|MatMul/.test(op);

function lastMacKernelName(kernels: ProfileEvent[]): string | undefined {
  return kernels.filter((e) => isMac(e.args?.op_name ?? '')).at(-1)?.name;
}

function roleOf(e: ProfileEvent, classifier: string | undefined): Role {
  const op = e.args?.op_name ?? '';
  if (op.startsWith('Reorder')) return 'layout reorders';
  if (!isMac(op)) return 'other ops';
  if (e.name === classifier) return 'classifier';
  const [x, w] = shapes(e.args?.input_type_shape);
  if (op.includes('Conv')) {
    if (x && x[1] === 3) return 'first conv';
    if (w && w[1] === 1 && w[0]! > 1 && x?.[1] === w[0]) return 'depthwise conv';
    return e.name.includes('_nchwc') ? 'inner conv (NCHWc)' : 'inner conv (plain)';
  }
  return 'fc layers';
}

/** Multiply-adds of a Conv (output elements × C/g·kH·kW) or Gemm/MatMul (M·N·K) from the profiled shapes. */
function macsOf(e: ProfileEvent): number {
  const op = e.args?.op_name ?? '';
  if (!isMac(op)) return 0;
  const [, w] = shapes(e.args?.input_type_shape);
  const [y] = shapes(e.args?.output_type_shape);
  if (!w || !y) return 0;
  const outputs = y.reduce((p, d) => p * d, 1);
  if (op.includes('Conv')) return outputs * w.slice(1).reduce((p, d) => p * d, 1);
  const x = shapes(e.args?.input_type_shape)[0]!;
  return outputs * x.at(-1)!;
}

function shapes(list: Record<string, number[]>[] | undefined): number[][] {
  return (list ?? []).map((entry) => Object.values(entry)[0] ?? []);
}
