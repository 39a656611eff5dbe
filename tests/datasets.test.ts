import { createServer } from 'node:http';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { loadEmbeddedMnist } from '../datasets/embedded.js';
import { downloadDataset } from '../datasets/download.js';
import { IDX_FILES, loadIdxDataset, MissingDatasetError } from '../datasets/idx-dataset.js';
import { encodeIdx, parseIdx } from '../datasets/idx.js';
import { tempDir } from './helpers.js';

function images(count: number, size = 28): Uint8Array {
  return Uint8Array.from({ length: count * size * size }, (_, index) => (index * 37) % 256);
}
const labels = (count: number) => Uint8Array.from({ length: count }, (_, index) => index % 10);

function writeDataset(root: string, name: string, options: { gzip?: boolean; testLabels?: Uint8Array } = {}): string {
  const directory = join(root, name);
  mkdirSync(directory, { recursive: true });
  const write = (base: string, bytes: Uint8Array) =>
    options.gzip ? writeFileSync(join(directory, `${base}.gz`), gzipSync(bytes)) : writeFileSync(join(directory, base), bytes);
  write(IDX_FILES.trainImages, encodeIdx([30, 28, 28], images(30)));
  write(IDX_FILES.trainLabels, encodeIdx([30], labels(30)));
  write(IDX_FILES.testImages, encodeIdx([12, 28, 28], images(12)));
  write(IDX_FILES.testLabels, encodeIdx([options.testLabels?.length ?? 12], options.testLabels ?? labels(12)));
  return directory;
}

describe('IDX parsing', () => {
  it('reads plain and gzip files and scales pixels to [0, 1]', () => {
    for (const gzip of [false, true]) {
      const root = tempDir('idx');
      writeDataset(root, 'mnist', { gzip });
      const dataset = loadIdxDataset('mnist', root);
      expect(dataset.train.count).toBe(30);
      expect(dataset.test.count).toBe(12);
      expect(dataset.train.images[1]).toBeCloseTo(37 / 255, 6);
      expect(Array.from(dataset.test.labels.subarray(0, 3))).toEqual([0, 1, 2]);
      expect(dataset.sha256).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it.each([
    ['wrong magic number', () => encodeIdx([4], labels(4)), 3, 'wrong magic number 0x00000801, expected 0x00000803'],
    [
      'truncated data',
      () => encodeIdx([4, 28, 28], images(4)).subarray(0, 1000),
      3,
      'is truncated: dimensions 4×28×28 need 3152 bytes, the file has 1000',
    ],
    ['truncated header', () => encodeIdx([4, 28, 28], images(4)).subarray(0, 9), 3, 'is truncated inside its header (9 of 16 bytes)'],
    ['trailing bytes', () => new Uint8Array([...encodeIdx([2], labels(2)), 7]), 1, 'has 1 bytes after the data its dimensions 2 describe'],
    ['broken gzip', () => new Uint8Array([0x1f, 0x8b, 1, 2, 3]), 1, 'is gzip-compressed but cannot be decompressed'],
  ])('names the file and what was expected: %s', (_, make, dims, message) => {
    expect(() => parseIdx('some/file', make(), dims)).toThrowError(`some/file: ${message}`);
  });

  it('refuses mismatched counts, wrong image sizes and out-of-range labels', () => {
    const root = tempDir('idx-bad');
    const directory = writeDataset(root, 'fashion-mnist', { testLabels: labels(11) });
    expect(() => loadIdxDataset('fashion-mnist', root)).toThrowError(
      `${join(directory, IDX_FILES.testLabels)}: holds 11 labels but ${join(directory, IDX_FILES.testImages)} holds 12 images; expected the same count`,
    );
    writeDataset(root, 'fashion-mnist', { testLabels: Uint8Array.from([...labels(11), 12]) });
    expect(() => loadIdxDataset('fashion-mnist', root)).toThrowError(/label 12 at index 11, expected 0–9/);
    writeFileSync(join(directory, IDX_FILES.testImages), encodeIdx([12, 20, 20], images(12, 20)));
    writeDataset(root, 'fashion-mnist');
    writeFileSync(join(directory, IDX_FILES.testImages), encodeIdx([12, 20, 20], images(12, 20)));
    expect(() => loadIdxDataset('fashion-mnist', root)).toThrowError(/images are 20×20, expected 28×28/);
  });

  it('says how to get a dataset that is not there', () => {
    const root = tempDir('idx-missing');
    expect(() => loadIdxDataset('mnist', root)).toThrowError(MissingDatasetError);
    expect(() => loadIdxDataset('mnist', root)).toThrowError(/npm run datasets:download -- mnist/);
  });
});

describe('the embedded digits', () => {
  it('split deterministically, stratified by digit, with every class in both splits', () => {
    const dataset = loadEmbeddedMnist();
    expect(dataset.train.count + dataset.test.count).toBe(10_000);
    expect(dataset.test.count).toBeGreaterThan(900);
    const counts = new Array(10).fill(0);
    dataset.test.labels.forEach((label) => counts[label]++);
    expect(counts.every((count) => count >= 80)).toBe(true);
    expect(Array.from(dataset.test.labels.subarray(0, 10))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(loadEmbeddedMnist().sha256).toBe(dataset.sha256);
  });
});

describe('datasets:download', () => {
  it('fetches the four files from a mirror, checks them and keeps existing ones without --force', async () => {
    const served = tempDir('mirror');
    writeDataset(served, 'files', { gzip: true });
    const requests: string[] = [];
    const server = createServer((request, response) => {
      requests.push(request.url ?? '');
      try {
        response.end(readFileSync(join(served, 'files', (request.url ?? '').slice(1))));
      } catch {
        response.statusCode = 404;
        response.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const mirror = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    try {
      const root = tempDir('download');
      const log: string[] = [];
      await downloadDataset('mnist', { mirror, root, log: (line) => log.push(line) });
      expect(requests).toHaveLength(4);
      expect(loadIdxDataset('mnist', root).train.count).toBe(30);
      await downloadDataset('mnist', { mirror, root, log: (line) => log.push(line) });
      expect(requests).toHaveLength(4);
      expect(log.at(-1)).toMatch(/exists; keeping it \(--force to download again\)/);
      await expect(downloadDataset('fashion-mnist', { mirror: `${mirror}missing/`, root, log: () => undefined })).rejects.toThrowError(
        /could not download .*HTTP 404.*copy train-images-idx3-ubyte\.gz/,
      );
    } finally {
      server.close();
    }
  });
});
