// The package's entry for plain Node: the library is TypeScript, loaded through tsx's scoped loader
// (it does not change how the rest of the importing program is loaded).
import { tsImport } from 'tsx/esm/api';

const library = await tsImport('./index.ts', import.meta.url);

export const {
  Recorder,
  RecorderStep,
  RecorderCallback,
  crossEntropy,
  DataError,
  UnsupportedModelError,
  describeModel,
  SUPPORTED,
  selectEngine,
} = library;
