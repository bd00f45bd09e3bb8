import { readFileSync, statSync, type Stats } from 'node:fs';
import { fail } from '../ir/errors.js';
import { parseSavedReport, type SavedReport } from './schema.js';

export { renderReportPage } from './html/page.js';
export {
  parseSavedReport, savedReport, REPORT_SCHEMA_VERSION, type CalibrationReport, type CalibrationRun, type FinetuneSummary, type SavedGroupReport, type SavedReport,
} from './schema.js';

/** Far above any real report (ResNet-50's is a few MB); a bigger file is not one, and would not fit in a string. */
const MAX_REPORT_BYTES = 256 << 20;

/** Reads and checks a saved JSON report; anything that is not one is exit 2 with one line. */
export function loadSavedReport(path: string): SavedReport {
  let stat: Stats;
  try {
    stat = statSync(path);
  } catch (e) {
    return fail(`cannot read the report '${path}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (!stat.isFile()) fail(`'${path}' is not a file`);
  const size = stat.size;
  if (size > MAX_REPORT_BYTES) fail(`'${path}' is ${size} bytes: too large to be an onnx-cprune report`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    if (e instanceof SyntaxError) fail(`'${path}' is not JSON (a report written by \`prune --report\`)`);
    fail(`cannot read the report '${path}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseSavedReport(json, `'${path}'`);
}
