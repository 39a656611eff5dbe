/** Datasets as the trainer sees them: 28×28 images scaled to [0, 1], labels 0–9, a train and a test split. */
import { createHash } from 'node:crypto';
import type { DatasetName } from '../core/config.js';

export interface Split {
  /** count × 784 pixels in [0, 1], row-major images. */
  images: Float32Array;
  labels: Uint8Array;
  count: number;
}

export interface Dataset {
  name: DatasetName;
  inputShape: [number, number];
  classNames: string[];
  train: Split;
  test: Split;
  /** SHA-256 over both splits' pixels and labels: two runs with the same hash saw the same data. */
  sha256: string;
}

export const DIGIT_CLASSES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
export const FASHION_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

export function hashSplits(train: Split, test: Split): string {
  const hash = createHash('sha256');
  for (const split of [train, test]) {
    hash.update(new Uint8Array(split.images.buffer, split.images.byteOffset, split.images.byteLength));
    hash.update(split.labels);
  }
  return hash.digest('hex');
}
