/** `--data`: CSV, .npy pairs, IDX pairs and image folders read as the user wrote them, and bad files refused by file, line and column. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dump } from 'npyjs';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { createRandom } from '../core/random.js';
import { encodeIdx } from '../datasets/idx.js';
import { loadUserData } from '../datasets/user-data.js';
import { BLOB_CLASSES, blobsCsv, shapeImage, SHAPE_CLASSES, writeShapes } from '../examples/make-data.js';
import { tempDir } from './helpers.js';

const folder = tempDir('user-data');
const write = (name: string, text: string | Uint8Array) => {
  const path = join(folder, name);
  writeFileSync(path, text);
  return path;
};
const png = (path: string, width: number, height: number, rgba: Uint8Array) => {
  const image = new PNG({ width, height });
  image.data = Buffer.from(rgba);
  writeFileSync(path, PNG.sync.write(image));
};

describe('a CSV file', () => {
  it('gives its features by name, its classes from the label column, and holds out a stratified tenth', () => {
    const data = loadUserData(write('blobs.csv', blobsCsv(600)), { heldOut: 0.1 });
    expect(data.inputShape).toEqual([20]);
    expect(data.featureNames).toEqual(Array.from({ length: 20 }, (_, index) => `f${String(index + 1).padStart(2, '0')}`));
    expect(data.classNames).toEqual([...BLOB_CLASSES].sort());
    expect(data.train.count + data.test.count).toBe(600);
    expect(data.test.count).toBe(60);
    for (let label = 0; label < 3; label++) expect(data.test.labels.filter((value) => value === label)).toHaveLength(20);
    // The first row's features, in order (the first row is class 0 of the file, "setosa-like").
    const first = blobsCsv(600).split('\n')[1]!.split(',');
    expect(Array.from(data.train.images.subarray(0, 20), (value) => value.toFixed(4))).toEqual(
      first.slice(0, 20).map((cell) => Number(cell).toFixed(4)),
    );
  });

  it('sorts numeric labels by value', () => {
    const data = loadUserData(write('numbers.csv', 'a,b,class\n1,2,10\n3,4,9\n5,6,10\n7,8,9\n'), { heldOut: 0.5, labelColumn: 'class' });
    expect(data.classNames).toEqual(['9', '10']);
  });

  it.each([
    ['ragged.csv', 'a,b,label\n1,2,x\n3,y\n', {}, /ragged\.csv: line 3: 2 cells, the header has 3; every row needs one cell per column/],
    ['words.csv', 'a,b,label\n1,2,x\n3,four,y\n', {}, /words\.csv: line 3, column "b": "four" is not a finite number/],
    ['nan.csv', 'a,b,label\n1,NaN,x\n3,4,y\n', {}, /nan\.csv: line 2, column "b": "NaN" is not a finite number/],
    ['empty-cell.csv', 'a,b,label\n1,,x\n3,4,y\n', {}, /empty-cell\.csv: line 2, column "b": "" is not a finite number/],
    [
      'nolabel.csv',
      'a,b,kind\n1,2,x\n3,4,y\n',
      {},
      /nolabel\.csv: no column "label" in the header \(a, b, kind\); name the class column with --label-column/,
    ],
    ['one-class.csv', 'a,label\n1,x\n2,x\n', {}, /one-class\.csv: 1 class; a classifier needs at least 2/],
  ])('%s is refused by line and column', (name, text, options, message) => {
    expect(() => loadUserData(write(name, text), { heldOut: 0.1, ...options })).toThrow(message);
  });
});

describe('an image folder', () => {
  it('reads 32×32 RGB images, a class per sub-folder', () => {
    writeShapes(join(folder, 'shapes'), 10);
    const data = loadUserData(join(folder, 'shapes'), { heldOut: 0.2 });
    expect(data.inputShape).toEqual([32, 32, 3]);
    expect(data.classNames).toEqual([...SHAPE_CLASSES].sort());
    expect(data.train.count).toBe(24);
    expect(data.test.count).toBe(6);
    const first = shapeImage(SHAPE_CLASSES[0]!, createRandom(11));
    // circle/000.png is the first image of the first class (classes sorted: circle, square, stripes).
    expect(Math.round(data.train.images[0]! * 255)).toBe(first[0]);
  });

  it('reads grey images as [height, width]', () => {
    for (const name of ['a', 'b']) {
      mkdirSync(join(folder, 'grey', name), { recursive: true });
      for (let index = 0; index < 3; index++)
        png(join(folder, 'grey', name, `${index}.png`), 8, 6, new Uint8Array(8 * 6 * 4).fill(name === 'a' ? 40 : 200));
    }
    const data = loadUserData(join(folder, 'grey'), { heldOut: 0.34 });
    expect(data.inputShape).toEqual([6, 8]);
    expect(data.train.images[0]).toBeCloseTo(40 / 255, 6);
  });

  it('refuses an empty class folder and an image of another size, naming them', () => {
    mkdirSync(join(folder, 'empty', 'cat'), { recursive: true });
    mkdirSync(join(folder, 'empty', 'dog'), { recursive: true });
    png(join(folder, 'empty', 'cat', '0.png'), 4, 4, new Uint8Array(64));
    expect(() => loadUserData(join(folder, 'empty'), { heldOut: 0.1 })).toThrow(
      /empty\/dog: no images \(\.png, \.jpg, \.jpeg\); every class needs at least one/,
    );
    mkdirSync(join(folder, 'sizes', 'cat'), { recursive: true });
    mkdirSync(join(folder, 'sizes', 'dog'), { recursive: true });
    png(join(folder, 'sizes', 'cat', '0.png'), 4, 4, new Uint8Array(64));
    png(join(folder, 'sizes', 'dog', '0.png'), 5, 4, new Uint8Array(80));
    expect(() => loadUserData(join(folder, 'sizes'), { heldOut: 0.1 })).toThrow(
      /sizes\/dog\/0\.png: 5×4 pixels; .*sizes\/cat\/0\.png is 4×4, and every image must be the same size/,
    );
  });
});

describe('.npy and IDX pairs', () => {
  it('reads NumPy inputs of any shape with integer labels', () => {
    const inputs = write(
      'x.npy',
      new Uint8Array(
        dump(
          Float32Array.from({ length: 4 * 6 }, (_, index) => index / 10),
          [4, 2, 3],
        ),
      ),
    );
    const labels = write('y.npy', new Uint8Array(dump(Int32Array.from([0, 1, 2, 1]), [4])));
    const data = loadUserData(inputs, { heldOut: 0.25, labels });
    expect(data.inputShape).toEqual([2, 3]);
    expect(data.classNames).toEqual(['0', '1', '2']);
    expect(data.train.count + data.test.count).toBe(4);
  });

  it('refuses NaN in .npy inputs and labels that do not match the samples', () => {
    const inputs = write('nan-x.npy', new Uint8Array(dump(Float32Array.from([0, 1, Number.NaN, 3]), [2, 2])));
    const labels = write('nan-y.npy', new Uint8Array(dump(Int32Array.from([0, 1]), [2])));
    expect(() => loadUserData(inputs, { heldOut: 0.5, labels })).toThrow(
      /nan-x\.npy: sample 1, feature 0 is NaN; every input value must be a finite number/,
    );
    const three = write('three-y.npy', new Uint8Array(dump(Int32Array.from([0, 1, 1]), [3])));
    const good = write('good-x.npy', new Uint8Array(dump(Float32Array.from([0, 1, 2, 3]), [2, 2])));
    expect(() => loadUserData(good, { heldOut: 0.5, labels: three })).toThrow(/three-y\.npy: 3 labels for 2 samples/);
    expect(() => loadUserData(good, { heldOut: 0.5 })).toThrow(
      /good-x\.npy: a \.npy or IDX file of inputs needs its labels file too \(--labels\)/,
    );
  });

  it('reads IDX images scaled to [0, 1] with their labels', () => {
    const images = write(
      'images-idx3-ubyte',
      encodeIdx(
        [4, 2, 2],
        Uint8Array.from({ length: 16 }, (_, index) => index * 16),
      ),
    );
    const labels = write('labels-idx1-ubyte', encodeIdx([4], Uint8Array.from([0, 1, 0, 1])));
    const data = loadUserData(images, { heldOut: 0.5, labels });
    expect(data.inputShape).toEqual([2, 2]);
    expect(data.classNames).toEqual(['0', '1']);
    expect(data.train.images[1]).toBeCloseTo(16 / 255, 6);
  });
});
