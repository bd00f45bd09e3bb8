import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadDataset, selectIndices, subset, type Dataset } from '../../src/runtime/data/index.js';
import { DATASETS, type DatasetId } from './config.js';
import { writeNpy } from './npyWrite.js';

/**
 * Target data: the full train split (subsets are drawn from it) and the full 10 000-image test split, as the source
 * models expect them (N×1×28×28 float32, pixel / 255: the data module's default for IDX files).
 */
export interface TargetData {
  train: Dataset;
  test: Dataset;
}

const cache = new Map<DatasetId, TargetData>();

export async function targetData(id: DatasetId): Promise<TargetData> {
  let d = cache.get(id);
  if (!d) {
    const dir = DATASETS[id].dir;
    d = { train: await loadDataset(dir, { split: 'train' }), test: await loadDataset(dir, { split: 'test' }) };
    cache.set(id, d);
  }
  return d;
}

/** `shots` labelled images per class drawn from the train split by `seed` (the same draw for every arm). */
export function fewShotSubset(train: Dataset, shots: number, seed: number): Dataset {
  return subset(train, selectIndices(train.shape[0]!, train.labels, { perClass: shots, seed }));
}

/** Writes a subset as `<name>.npy` + `<name>_labels.npy` (int64) for `onnx-cprune finetune --data`; returns the path. */
export function writeSubsetNpy(ds: Dataset, dir: string, name: string): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.npy`);
  if (!existsSync(path)) {
    writeNpy(join(dir, `${name}_labels.npy`), BigInt64Array.from(ds.labels!, (l) => BigInt(l)), [ds.labels!.length]);
    writeNpy(path, ds.x, ds.shape);
  }
  return path;
}
