/**
 * Neural Vision's library: record your own TensorFlow.js model (docs/api.md).
 *
 *   import { Recorder } from 'neural-vision';
 *   await new Recorder({ heldOut: { x: xTest, y: yTest } }).fit(model, x, y, { epochs: 4, batchSize: 64 });
 */
export { Recorder, RecorderStep, crossEntropy } from './recorder.js';
export type { FitOptions, LibraryRunResult, RecorderOptions, StepModeOptions } from './recorder.js';
export { RecorderCallback } from './callbacks.js';
export { DataError } from './data.js';
export { UnsupportedModelError, describeModel, SUPPORTED } from './model-spec.js';
export type { ModelSpec, DenseSpec } from './model-spec.js';
/** Picks the TensorFlow.js backend as the CLI does: tfjs-node when it loads, else WebAssembly (never the slow pure-JS one unasked). */
export { selectEngine } from '../engine.js';
