/** The one data module: validation uses it now, fine-tuning later. */
export { loadDataset } from './loadDataset.js';
export { subset, shuffledSplit, sampleSize, selectIndices } from './select.js';
export { imagesToTensor, resizeBilinear } from './preprocess.js';
export { parseIdx, readIdx, type IdxArray } from './idx.js';
export { parseNpy, readNpy, type NpyArray } from './npy.js';
export { IMAGENET_MEAN, IMAGENET_STD, type Dataset, type DatasetOptions, type RawImages } from './types.js';
