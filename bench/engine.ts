/**
 * The structural pruning engine on full-size models: dependency analysis + channel rewrite (no scoring) of a ~553 MB
 * VGG16 and of a ResNet50, 30% of every prunable group removed at random. Each model runs in a fresh child process,
 * so its peak RSS (VmHWM) is its own. Load and encode are timed separately (they belong to the IR, issue 2).
 *
 *   npx tsx bench/engine.ts [--models bench/out/vgg16.onnx,bench/out/resnet50.onnx]
 *
 * Goal (issue 3): analysis + rewrite under 2 s each on 2 cores. The models come from bench/make_big_models.py.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));

const { values: args } = parseArgs({
  options: {
    models: { type: 'string', default: [here('./out/vgg16.onnx'), here('./out/resnet50.onnx')].join(',') },
    child: { type: 'string' },
  },
});

function peakKiB(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) : NaN;
}

async function child(path: string): Promise<void> {
  const { loadModel } = await import('../src/ir/load.js');
  const { encodeModel } = await import('../src/ir/save.js');
  const { analyze, pruneChannels } = await import('../src/passes/dependency/index.js');
  const t0 = performance.now();
  const model = loadModel(path);
  const t1 = performance.now();
  const groups = analyze(model);
  const t2 = performance.now();
  let seed = 1;
  const random = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const keep = new Map<number, number[]>();
  for (const g of groups) {
    if (!g.prunable) continue;
    const units = Array.from({ length: g.channels }, (_, i) => i).filter(() => random() >= 0.3);
    keep.set(g.id, units.length ? units : [0]);
  }
  pruneChannels(model, keep);
  const t3 = performance.now();
  const bytes = encodeModel(model).byteLength;
  const t4 = performance.now();
  console.log(JSON.stringify({
    model: path.split('/').pop(), groups: groups.length, prunable: keep.size,
    loadMs: Math.round(t1 - t0), analyzeMs: Math.round(t2 - t1), rewriteMs: Math.round(t3 - t2),
    engineMs: Math.round(t3 - t1), encodeMs: Math.round(t4 - t3), outBytes: bytes, peakRssMiB: Math.round(peakKiB() / 1024),
  }));
}

if (args.child) {
  await child(args.child);
} else {
  for (const path of args.models!.split(',')) {
    if (!existsSync(path)) {
      console.log(`${path} is missing: run /usr/bin/python3 bench/make_big_models.py --model all`);
      continue;
    }
    const out = execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', path], { encoding: 'utf8' });
    const r = JSON.parse(out.trim().split('\n').pop()!) as Record<string, number | string>;
    console.log(`${r.model}: analysis ${r.analyzeMs} ms + rewrite ${r.rewriteMs} ms = ${r.engineMs} ms (goal < 2000); ` +
      `load ${r.loadMs} ms, encode ${r.encodeMs} ms; ${r.prunable}/${r.groups} groups pruned; peak RSS ${r.peakRssMiB} MiB`);
  }
}
