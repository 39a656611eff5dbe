/** MNIST and Fashion-MNIST from the standard IDX files in `datasets/<name>/`, plain or gzip-compressed. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DatasetName } from '../core/config.js';
import { DIGIT_CLASSES, FASHION_CLASSES, hashSplits, type Dataset, type Split } from './dataset.js';
import { IdxError, parseIdx } from './idx.js';

export const IDX_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

export class MissingDatasetError extends Error {
  constructor(
    readonly dataset: string,
    readonly missing: string[],
  ) {
    super(
      `dataset "${dataset}" is not installed: missing ${missing.join(', ')} (plain or .gz). ` +
        `Run \`npm run datasets:download -- ${dataset}\` where there is internet, or copy the four IDX files there by hand.`,
    );
    this.name = 'MissingDatasetError';
  }
}

function findFile(directory: string, base: string): string | undefined {
  return [join(directory, base), join(directory, `${base}.gz`)].find((path) => existsSync(path));
}

function readSplit(imagesFile: string, labelsFile: string): Split {
  const images = parseIdx(imagesFile, readFileSync(imagesFile), 3);
  const labels = parseIdx(labelsFile, readFileSync(labelsFile), 1);
  const [count, rows, columns] = images.dims as [number, number, number];
  if (rows !== 28 || columns !== 28) throw new IdxError(imagesFile, `images are ${rows}×${columns}, expected 28×28`);
  if (labels.dims[0] !== count) {
    throw new IdxError(labelsFile, `holds ${labels.dims[0]} labels but ${imagesFile} holds ${count} images; expected the same count`);
  }
  const badLabel = labels.data.findIndex((label) => label > 9);
  if (badLabel >= 0) throw new IdxError(labelsFile, `label ${labels.data[badLabel]} at index ${badLabel}, expected 0–9`);
  const scaled = new Float32Array(images.data.length);
  for (let index = 0; index < scaled.length; index++) scaled[index] = images.data[index]! / 255;
  return { images: scaled, labels: new Uint8Array(labels.data), count };
}

export function loadIdxDataset(name: Exclude<DatasetName, 'mnist-embedded'>, root: string): Dataset {
  const directory = join(root, name);
  const paths = Object.fromEntries(Object.entries(IDX_FILES).map(([key, base]) => [key, findFile(directory, base)])) as Record<
    keyof typeof IDX_FILES,
    string | undefined
  >;
  const missing = Object.entries(paths)
    .filter(([, path]) => path === undefined)
    .map(([key]) => join(directory, IDX_FILES[key as keyof typeof IDX_FILES]));
  if (missing.length > 0) throw new MissingDatasetError(name, missing);
  const train = readSplit(paths.trainImages!, paths.trainLabels!);
  const test = readSplit(paths.testImages!, paths.testLabels!);
  return {
    name,
    inputShape: [28, 28],
    classNames: name === 'fashion-mnist' ? FASHION_CLASSES : DIGIT_CLASSES,
    train,
    test,
    sha256: hashSplits(train, test),
  };
}
