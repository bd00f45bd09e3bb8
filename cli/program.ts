import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { UserError } from '../src/ir/errors.js';
import { registerPrune } from './commands/prune.js';
import { registerValidate } from './commands/validate.js';
import { registerDoctor } from './commands/doctor.js';
import { registerInspect } from './commands/inspect.js';
import { registerFinetune } from './commands/finetune.js';
import { registerReport } from './commands/report.js';
import { registerEvaluate } from './commands/evaluate.js';

/** The version in our package.json, found by walking up from this file (dist/cli/ when built, cli/ under tsx). */
function packageVersion(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'onnx-cprune' && pkg.version) return pkg.version;
    } catch { /* no package.json here: keep walking */ }
    if (dirname(dir) === dir) return 'unknown';
  }
}

/** The CLI: a thin shell over the library API. Exit 2 for bad input, 1 for our own bugs. */
export function buildProgram(): Command {
  const program = new Command('onnx-cprune')
    .description('Prune ONNX models by eigenvector centrality of neuron similarity graphs, validate and fine-tune them')
    .version(packageVersion())
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  registerPrune(program);
  registerValidate(program);
  registerDoctor(program);
  registerInspect(program);
  registerFinetune(program);
  registerReport(program);
  registerEvaluate(program);
  return program;
}

/**
 * Runs the CLI on `argv` (node, script, args...) and returns the exit code; it never exits the process, so tests can
 * run many commands in one process.
 */
export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end through here with exit code 0; usage errors were already printed by commander.
      return e.exitCode === 0 ? 0 : 2;
    }
    if (e instanceof UserError) {
      process.stderr.write(`onnx-cprune: ${e.message.split('\n')[0]}\n`);
      return 2;
    }
    process.stderr.write(`onnx-cprune: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
    return 1;
  }
}
