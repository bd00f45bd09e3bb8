import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from '../support/cli.js';
import type { CaseOutcome } from './runCase.js';

export interface CampaignOptions {
  firstSeed: number;
  cases: number;
  pool: 'quick' | 'all';
  /** A case running longer than this is a hang: its worker is killed and the campaign goes on after it. */
  hangMs: number;
  /** Cases per worker process before a fresh one starts (bounds memory; a hang also restarts it). */
  perWorker?: number;
  onCase?: (o: CaseOutcome) => void;
  /** The built CLI module exporting main() (default: this checkout's dist/cli/program.js), e.g. another build to compare. */
  program?: string;
  /** Only mutations whose name contains this (see mutations.ts), to hammer one class. */
  only?: string;
}

export interface CampaignResult {
  outcomes: CaseOutcome[];
  /** Outcomes that broke a promise (including hangs). */
  failures: CaseOutcome[];
  ms: number;
}

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));
/** The CLI as built by `npm run build` (npm test builds first). */
export const PROGRAM = fileURLToPath(new URL('../../dist/cli/program.js', import.meta.url));

/** Runs cases [firstSeed, firstSeed + cases) in worker processes (see worker.ts), restarting after a hang. */
export async function runCampaign(o: CampaignOptions): Promise<CampaignResult> {
  const root = mkdtempSync(join(tmpdir(), 'cprune-fuzz-'));
  const outcomes: CaseOutcome[] = [];
  const t0 = performance.now();
  try {
    let next = o.firstSeed;
    const end = o.firstSeed + o.cases;
    while (next < end) {
      const count = Math.min(o.perWorker ?? 100, end - next);
      const done = await runWorker(root, next, count, o, (outcome) => {
        outcomes.push(outcome);
        o.onCase?.(outcome);
      });
      next = done;
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return { outcomes, failures: outcomes.filter((x) => x.problems.length > 0), ms: performance.now() - t0 };
}

/** One worker over [first, first + count); resolves with the next seed to run (after a hung one, if any). */
function runWorker(root: string, first: number, count: number, o: CampaignOptions, report: (x: CaseOutcome) => void): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WORKER, root, String(first), String(count), o.pool, o.program ?? PROGRAM, ...(o.only ? [o.only] : [])], {
      stdio: ['ignore', 'pipe', 'ignore'],
      env: { ...process.env, NODE_OPTIONS: '--max-old-space-size=2048' },
    });
    let current: number | undefined;
    let next = first;
    let buffer = '';
    let timer: NodeJS.Timeout | undefined;
    const arm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        if (current === undefined) return;
        report({ seed: current, label: '(see the seed)', args: [], code: -1, stderr: '', ms: o.hangMs, problems: [`no result within ${o.hangMs} ms (hang)`] });
        next = current + 1;
        current = undefined;
        child.kill('SIGKILL');
      }, o.hangMs);
    };
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line.startsWith('@@fuzz start ')) {
          current = Number(line.slice(13));
          arm();
        } else if (line.startsWith('@@fuzz done ')) {
          const outcome = JSON.parse(line.slice(12)) as CaseOutcome;
          report(outcome);
          next = outcome.seed + 1;
          current = undefined;
          clearTimeout(timer);
        }
      }
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (current !== undefined) {
        // The worker died inside a case (out of memory, a native crash): that case failed.
        report({ seed: current, label: '(see the seed)', args: [], code: code ?? -1, stderr: '', ms: 0, problems: [`the process died (${signal ?? `exit ${code}`})`] });
        next = current + 1;
      }
      resolve(next);
    });
  });
}

/**
 * The CLI as a separate process (node dist/cli/main.js), for the sample of cases run exactly as users run them; its
 * stderr is passed on through process.stderr, where runCase captures it. A run past `hangMs` is killed.
 */
export function spawnedCli(hangMs: number): (argv: string[]) => Promise<number> {
  return async (argv) => {
    const r = runCli(argv.slice(2), { hangGuardMs: hangMs });
    process.stderr.write(r.stderr);
    if (r.timedOut) process.stderr.write(`\nkilled after ${hangMs} ms (hang)\n`);
    return r.code ?? -1;
  };
}
