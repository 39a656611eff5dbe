import { fileURLToPath } from 'node:url';
import type { DatasetName } from '../core/config.js';
import type { Dataset } from './dataset.js';
import { loadEmbeddedMnist } from './embedded.js';
import { loadIdxDataset } from './idx-dataset.js';

export type { Dataset, Split } from './dataset.js';

/** Where `datasets/<name>/` folders live. */
export const DATASETS_ROOT = fileURLToPath(new URL('.', import.meta.url));

export function loadDataset(name: DatasetName, root = DATASETS_ROOT): Dataset {
  return name === 'mnist-embedded' ? loadEmbeddedMnist() : loadIdxDataset(name, root);
}
