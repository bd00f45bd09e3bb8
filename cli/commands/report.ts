import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { fail } from '../../src/ir/errors.js';
import { loadSavedReport, writeReportPage } from '../../src/report/index.js';
import { sameFile } from '../options.js';

export function registerReport(program: Command): void {
  program
    .command('report')
    .description('render a saved JSON report as one self-contained HTML page: onnx-cprune report run.json -o run.html')
    .argument('<report.json>', 'a report written by `prune --report` (never modified)')
    .requiredOption('-o, --output <file.html>', 'where to write the page (written atomically)')
    .action((path: string, opts: { output: string }) => {
      checkPagePath('-o', opts.output, [path]);
      writeReportPage(loadSavedReport(path), opts.output);
    });
}

/** Refuses a page path that names one of the run's other files or lies in a folder that does not exist: before any work. */
export function checkPagePath(flag: string, page: string, others: readonly string[]): void {
  if (others.some((p) => sameFile(p, page))) fail(`${flag} must name a file other than the run's input and outputs`);
  if (!existsSync(dirname(resolve(page)))) fail(`cannot write the page '${page}': its folder does not exist`);
}
