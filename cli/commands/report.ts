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
      checkPagePath('-o', opts.output, { files: [path], are: 'the report it reads' });
      writeReportPage(loadSavedReport(path), opts.output);
    });
}

/** Refuses a page path that names one of the command's other files or lies in a folder that does not exist: before any work. */
export function checkPagePath(flag: string, page: string, others: { files: readonly string[]; are: string }): void {
  if (others.files.some((p) => sameFile(p, page))) fail(`${flag} must name a file other than ${others.are}`);
  if (!existsSync(dirname(resolve(page)))) fail(`cannot write the page '${page}': its folder does not exist`);
}
