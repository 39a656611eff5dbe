/**
 * Generates data to record your own runs on with `npm run record -- --data …`:
 *
 * - `blobs.csv`: 20 named features and a `label` column of 3 classes (Gaussian blobs, 600 rows);
 * - `shapes/`: 32×32 RGB images in one sub-folder per class (circle, square, stripes; 120 each).
 *
 *   npx tsx examples/make-data.ts [--out examples/data]
 *   npm run record -- --data examples/data/blobs.csv --layers 32,16
 *   npm run record -- --data examples/data/shapes --layers 64,32
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PNG } from 'pngjs';
import { createRandom, type Random } from '../core/random.js';

const FEATURES = 20;
export const BLOB_CLASSES = ['setosa-like', 'versicolor-like', 'virginica-like'];
export const SHAPE_CLASSES = ['circle', 'square', 'stripes'];

/** A normal sample (Box–Muller) from the seeded generator. */
function normal(random: Random): number {
  const u = Math.max(random.next(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.next());
}

/** The CSV text: a header `f01…f20,label`, then `rows` rows, each class's centre 2 apart in a few features. */
export function blobsCsv(rows = 600, seed = 7): string {
  const random = createRandom(seed);
  const header = [...Array.from({ length: FEATURES }, (_, index) => `f${String(index + 1).padStart(2, '0')}`), 'label'];
  const lines = [header.join(',')];
  for (let row = 0; row < rows; row++) {
    const label = row % BLOB_CLASSES.length;
    const cells = Array.from({ length: FEATURES }, (_, feature) => {
      const centre = feature % BLOB_CLASSES.length === label && feature < 9 ? 2 : 0;
      return (centre + normal(random)).toFixed(4);
    });
    lines.push([...cells, BLOB_CLASSES[label]].join(','));
  }
  return `${lines.join('\n')}\n`;
}

/** A 32×32 RGBA image of `shape` in a random colour at a random place. */
export function shapeImage(shape: string, random: Random, size = 32): Uint8Array {
  const rgba = new Uint8Array(size * size * 4);
  const colour = [80 + random.next() * 175, 80 + random.next() * 175, 80 + random.next() * 175];
  const cx = 10 + random.next() * 12;
  const cy = 10 + random.next() * 12;
  const r = 5 + random.next() * 4;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const inside =
        shape === 'circle'
          ? (x - cx) ** 2 + (y - cy) ** 2 < r * r
          : shape === 'square'
            ? Math.abs(x - cx) < r && Math.abs(y - cy) < r
            : Math.floor((x + y + cx) / 4) % 2 === 0;
      const offset = 4 * (y * size + x);
      for (let channel = 0; channel < 3; channel++) rgba[offset + channel] = inside ? colour[channel]! : 20;
      rgba[offset + 3] = 255;
    }
  }
  return rgba;
}

export function writeShapes(folder: string, perClass = 120, seed = 11): void {
  const random = createRandom(seed);
  for (const shape of SHAPE_CLASSES) {
    mkdirSync(join(folder, shape), { recursive: true });
    for (let index = 0; index < perClass; index++) {
      const png = new PNG({ width: 32, height: 32 });
      png.data = Buffer.from(shapeImage(shape, random));
      writeFileSync(join(folder, shape, `${String(index).padStart(3, '0')}.png`), PNG.sync.write(png));
    }
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { out: { type: 'string', default: join(import.meta.dirname, 'data') } } });
  mkdirSync(values.out, { recursive: true });
  writeFileSync(join(values.out, 'blobs.csv'), blobsCsv());
  writeShapes(join(values.out, 'shapes'));
  console.log(`wrote ${join(values.out, 'blobs.csv')} and ${join(values.out, 'shapes')}/`);
}
