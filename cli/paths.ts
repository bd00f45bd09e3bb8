import { accessSync, constants, statSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fail } from '../src/ir/errors.js';
import { loadModel } from '../src/ir/load.js';
import type { Model } from '../src/ir/model.js';
import { sameFile } from '../src/ir/save.js';

/** A file a command will read or write, and what it is for the messages. */
export interface RunFile {
  path: string;
  what: string;
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/** Data sources (--data, --labels, --layer-ratios) must exist before any work starts. */
export function checkSources(sources: readonly (RunFile | undefined)[]): void {
  for (const s of sources) {
    if (s && !statOrUndefined(s.path)) fail(`${s.what} '${s.path}' does not exist`);
  }
}

/**
 * Checks every output before anything is computed or written, so a run never fails after writing part of its
 * results: each must go into an existing, writable folder, must not be a directory or other non-file, must be
 * distinct from the others, and must not be any file the run reads (the input model, its external data files,
 * the data), however it is spelled or linked.
 */
export function checkOutputs(outputs: readonly (RunFile | undefined)[], reads: readonly RunFile[]): void {
  const planned = outputs.filter((o): o is RunFile => o !== undefined);
  planned.forEach((o, i) => {
    for (const r of reads) {
      if (sameFile(o.path, r.path))
        fail(r.what === 'the input model' && o.what === 'the output model'
          ? 'the output path is the input model: refusing to overwrite the input'
          : `${o.what} '${o.path}' is ${r.what} ('${r.path}'): refusing to overwrite it`);
    }
    for (const other of planned.slice(0, i)) if (sameFile(o.path, other.path)) fail(`${o.what} and ${other.what} are the same file '${o.path}'`);
    const folder = dirname(resolve(o.path));
    const dir = statOrUndefined(folder);
    if (!dir) fail(`cannot write ${o.what} '${o.path}': its folder does not exist`);
    if (!dir.isDirectory()) fail(`cannot write ${o.what} '${o.path}': '${folder}' is not a folder`);
    try {
      accessSync(folder, constants.W_OK);
    } catch {
      fail(`cannot write ${o.what} '${o.path}': the folder '${folder}' is not writable`);
    }
    const existing = statOrUndefined(o.path);
    if (existing?.isDirectory()) fail(`cannot write ${o.what} '${o.path}': it is a directory`);
    if (existing && !existing.isFile()) fail(`cannot write ${o.what} '${o.path}': it exists and is not a regular file`);
  });
}

/** The data a command reads: --data and --labels, when given. */
export function dataSources(o: { data?: string | undefined; labels?: string | undefined }): RunFile[] {
  return [
    ...(o.data ? [{ path: o.data, what: 'the --data source' }] : []),
    ...(o.labels ? [{ path: o.labels, what: 'the --labels file' }] : []),
  ];
}

/**
 * Loads the input model between two checks of the outputs: before reading it (against the files named on the
 * command line), and after (against the external data files it turned out to read).
 */
export function loadModelFor(input: string, reads: readonly RunFile[], outputs: readonly (RunFile | undefined)[]): Model {
  checkOutputs(outputs, reads);
  const model = loadModel(input);
  checkOutputs(outputs, [...reads, ...model.sourceFiles.map((path) => ({ path, what: 'an external data file of the input' }))]);
  return model;
}
