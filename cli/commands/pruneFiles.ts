import type { Model } from '../../src/ir/model.js';
import { sideFileOf, stageModel, writeStaged } from '../../src/ir/save.js';
import { renderReportPage, type SavedReport } from '../../src/report/index.js';
import { genaiConfigOutput, type GenaiConfigPlan } from '../genaiConfig.js';
import { dataSources, type RunFile } from '../paths.js';
import type { PruneCliOptions } from './prune.js';

/**
 * What `prune` reads and writes, for the checks made before any work (cli/paths.ts): the sources that must exist,
 * every file it reads, and every output (the model and its side file, the report, its page, the updated
 * genai_config.json), none of which may be a file it reads or another output.
 */
export function pruneFiles(input: string, opts: PruneCliOptions): { sources: RunFile[]; reads: RunFile[]; outputs: (RunFile | undefined)[] } {
  const data = [...dataSources(opts), ...(opts.calib ? [{ path: opts.calib, what: 'the --calib source' }] : [])];
  return {
    sources: [...data, ...(opts.layerRatios ? [{ path: opts.layerRatios, what: 'the --layer-ratios file' }] : [])],
    reads: [{ path: input, what: 'the input model' }, ...data],
    outputs: [
      { path: opts.output, what: 'the output model' },
      { path: sideFileOf(opts.output), what: 'the output\'s external data file' },
      opts.report ? { path: opts.report, what: 'the report' } : undefined,
      opts.html ? { path: opts.html, what: 'the page' } : undefined,
      genaiConfigOutput(input, opts.output),
    ],
  };
}

/** Writes the model, the report, its page and the runtime config together: all of them appear, or none. */
export function writePruneOutputs(model: Model, opts: PruneCliOptions, saved: SavedReport, genaiConfig: GenaiConfigPlan['file']): void {
  writeStaged((files) => {
    stageModel(model, opts.output, { externalData: opts.externalData ? true : 'auto' }, files);
    if (opts.report) files.write(opts.report, JSON.stringify(saved, null, 2) + '\n');
    if (opts.html) files.write(opts.html, renderReportPage(saved));
    if (genaiConfig) files.write(genaiConfig.path, genaiConfig.text);
  });
}
