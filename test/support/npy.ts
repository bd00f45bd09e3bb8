/** Test data as NumPy .npy files (float32 samples, int64 token ids): the writer the benchmarks use, never a copy. */
export { encodeNpy, writeNpy } from '../../bench/paper/npyWrite.js';
