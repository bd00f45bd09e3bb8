/**
 * The one test-support module: oracles (declare, probe, skip), python oracle scripts, onnxruntime runs, temp
 * folders, seeded randomness, the built CLI and the fixtures. See test/support/README.md.
 */
export { alsoWith, describeWith, has, itWith, needs } from './skip.js';
export { CHROMIUM, FASHION_MNIST, LIBONNX_TESTDATA } from './oracles.js';
export { onnxCheck, runPython } from './python.js';
export { bitIdentical, feedsFor, floats, ort, ortSession, relativeError, runOrt, type Feeds, type Outputs } from './ort.js';
export { tempDir, withTempDir } from './temp.js';
export { Rng, seededBytes, seededNormal } from './random.js';
export { encodeNpy, writeNpy } from './npy.js';
export { captureOutput, CLI, runCli, type CliResult } from './cli.js';
export { Browser, type WatchedPage } from './browser.js';
export { FIXTURE_DIR, FIXTURES, fixtureBytes, fixtureFeeds, fixtureModels, fixturePath, MANIFEST, PADDLEOCR_MODELS, paddleModels, type ManifestEntry } from './fixtures.js';
