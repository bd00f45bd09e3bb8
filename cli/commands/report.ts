import type { Command } from 'commander';
import { writeFileAtomically } from '../../src/ir/save.js';
import { loadSavedReport, renderReportPage } from '../../src/report/index.js';
import { checkOutputs } from '../paths.js';

export function registerReport(program: Command): void {
  program
    .command('report')
    .description('render a saved JSON report as one self-contained HTML page: onnx-cprune report run.json -o run.html')
    .argument('<report.json>', 'a report written by `prune --report` (never modified)')
    .requiredOption('-o, --output <file.html>', 'where to write the page (written atomically)')
    .action((path: string, opts: { output: string }) => {
      checkOutputs([{ path: opts.output, what: 'the page' }], [{ path, what: 'the report it reads' }]);
      writeFileAtomically(opts.output, renderReportPage(loadSavedReport(path)));
    });
}
