/**
 * A user's own data for `npm run record -- --data …`: a CSV file with a label column, a pair of NumPy
 * `.npy` files, a pair of IDX files, or a folder of images with one sub-folder per class. Every
 * problem is reported with the file, line or column and what was expected, before anything is
 * written; then the samples are split into training and held-out data, stratified by class.
 */
import { parse as parseCsv } from 'csv-parse/sync';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import jpeg from 'jpeg-js';
import { parse as parseNpy } from 'npyjs';
import { PNG } from 'pngjs';
import { MAX_CLASSES } from '../core/format/manifest.js';
import { hashSplits, type Split } from './dataset.js';
import { parseIdx } from './idx.js';

export class DataFileError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = 'DataFileError';
  }
}

/** Samples as read, before the split: row-major inputs of `inputShape` each. */
export interface Samples {
  name: string;
  inputShape: number[];
  /** A name per input feature (a CSV's header), when the data has them. */
  featureNames?: string[];
  classNames: string[];
  inputs: Float32Array;
  labels: Uint8Array;
  count: number;
}

export interface UserDataset extends Omit<Samples, 'inputs' | 'labels' | 'count'> {
  train: Split;
  test: Split;
  sha256: string;
}

export interface UserDataOptions {
  /** A second file: the labels of `.npy` or IDX inputs. */
  labels?: string | undefined;
  /** The CSV column that holds the class. */
  labelColumn?: string | undefined;
  /** Fraction of each class held out (probes and evaluation). */
  heldOut: number;
}

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg']);

/** Reads `path` (format from its extension, or a folder of images) and splits it. */
export function loadUserData(path: string, options: UserDataOptions): UserDataset {
  const samples = readSamples(path, options);
  if (samples.classNames.length < 2) throw new DataFileError(path, `${samples.classNames.length} class; a classifier needs at least 2`);
  if (samples.classNames.length > MAX_CLASSES)
    throw new DataFileError(path, `${samples.classNames.length} classes; at most ${MAX_CLASSES}`);
  return splitSamples(samples, options.heldOut, path);
}

function readSamples(path: string, options: UserDataOptions): Samples {
  let isFolder: boolean;
  try {
    isFolder = statSync(path).isDirectory();
  } catch (error) {
    throw new DataFileError(path, `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  if (isFolder) return readImageFolder(path);
  const extension = extname(path).toLowerCase();
  if (extension === '.csv') return readCsv(path, options.labelColumn ?? 'label');
  if (!options.labels) throw new DataFileError(path, 'a .npy or IDX file of inputs needs its labels file too (--labels)');
  if (extension === '.npy') return readNpyPair(path, options.labels);
  return readIdxPair(path, options.labels);
}

/** Distinct labels in a natural order (numbers by value, then text), as class names. */
function classesOf(values: string[]): string[] {
  const distinct = [...new Set(values)];
  return distinct.sort((a, b) => {
    const [x, y] = [Number(a), Number(b)];
    if (a.trim() !== '' && b.trim() !== '' && Number.isFinite(x) && Number.isFinite(y)) return x - y;
    return a < b ? -1 : a > b ? 1 : 0;
  });
}

function readCsv(file: string, labelColumn: string): Samples {
  let rows: string[][];
  try {
    rows = parseCsv(readFileSync(file, 'utf8'), { skip_empty_lines: true, trim: true, bom: true }) as string[][];
  } catch (error) {
    const found = error as { code?: string; lines?: number; message: string; record?: unknown[] };
    if (found.code === 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH')
      throw new DataFileError(
        file,
        `line ${found.lines}: ${found.record?.length} cells, the header has ${headerLength(file)}; every row needs one cell per column`,
      );
    throw new DataFileError(file, `not readable as CSV (${found.message})`);
  }
  const [header, ...body] = rows;
  if (!header || body.length === 0) throw new DataFileError(file, 'needs a header row and at least one row of data');
  const labelIndex = header.indexOf(labelColumn);
  if (labelIndex < 0)
    throw new DataFileError(
      file,
      `no column "${labelColumn}" in the header (${header.join(', ')}); name the class column with --label-column`,
    );
  const featureNames = header.filter((_, index) => index !== labelIndex);
  const classNames = classesOf(body.map((row) => row[labelIndex]!));
  const classOf = new Map(classNames.map((name, index) => [name, index]));
  const inputs = new Float32Array(body.length * featureNames.length);
  body.forEach((row, sample) => {
    let feature = 0;
    row.forEach((cell, column) => {
      if (column === labelIndex) return;
      const value = cell === '' ? Number.NaN : Number(cell);
      if (!Number.isFinite(value))
        throw new DataFileError(file, `line ${sample + 2}, column "${header[column]}": ${JSON.stringify(cell)} is not a finite number`);
      inputs[sample * featureNames.length + feature++] = value;
    });
  });
  return {
    name: basename(file),
    inputShape: [featureNames.length],
    featureNames,
    classNames,
    inputs,
    labels: Uint8Array.from(body, (row) => classOf.get(row[labelIndex]!)!),
    count: body.length,
  };
}

/** The header's cell count, for a message about a ragged row. */
function headerLength(file: string): number {
  const [header] = parseCsv(readFileSync(file, 'utf8'), { to_line: 1, bom: true }) as string[][];
  return header?.length ?? 0;
}

function checkLabels(file: string, labels: ArrayLike<number>, count: number): { labels: Uint8Array; classNames: string[] } {
  if (labels.length !== count) throw new DataFileError(file, `${labels.length} labels for ${count} samples; expected one label per sample`);
  let largest = 0;
  for (let index = 0; index < labels.length; index++) {
    const label = labels[index]!;
    if (!(Number.isInteger(label) && label >= 0 && label < MAX_CLASSES))
      throw new DataFileError(file, `label ${label} of sample ${index} is not a class index 0–${MAX_CLASSES - 1}`);
    largest = Math.max(largest, label);
  }
  return { labels: Uint8Array.from(labels), classNames: Array.from({ length: largest + 1 }, (_, index) => String(index)) };
}

function checkFinite(file: string, inputs: Float32Array, sampleSize: number): void {
  const bad = inputs.findIndex((value) => !Number.isFinite(value));
  if (bad >= 0)
    throw new DataFileError(
      file,
      `sample ${Math.floor(bad / sampleSize)}, feature ${bad % sampleSize} is ${inputs[bad]}; every input value must be a finite number`,
    );
}

function readNpy(file: string) {
  const bytes = readFileSync(file);
  try {
    return parseNpy(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  } catch (error) {
    throw new DataFileError(file, `not a NumPy .npy file (${(error as Error).message})`);
  }
}

function readNpyPair(inputsFile: string, labelsFile: string): Samples {
  const inputs = readNpy(inputsFile);
  const labels = readNpy(labelsFile);
  if (inputs.fortranOrder) throw new DataFileError(inputsFile, 'is in Fortran order; save it C-ordered (np.ascontiguousarray)');
  if (inputs.shape.length < 2) throw new DataFileError(inputsFile, `shape (${inputs.shape.join(', ')}); expected (samples, features…)`);
  if (labels.shape.length !== 1)
    throw new DataFileError(labelsFile, `shape (${labels.shape.join(', ')}); expected (samples,) class indices`);
  if (!/^[iuf]/.test(inputs.dtype)) throw new DataFileError(inputsFile, `dtype ${inputs.dtype}; expected numbers (float or integer)`);
  const [count, ...shape] = inputs.shape as [number, ...number[]];
  const values = Float32Array.from(inputs.data as unknown as ArrayLike<number | bigint>, Number);
  checkFinite(inputsFile, values, values.length / count);
  const labelValues = Array.from(labels.data as unknown as ArrayLike<number | bigint>, Number);
  return { name: basename(inputsFile), inputShape: shape, inputs: values, count, ...checkLabels(labelsFile, labelValues, count) };
}

function readIdxPair(inputsFile: string, labelsFile: string): Samples {
  const raw = readFileSync(inputsFile);
  const dims = (raw[0] === 0x1f && raw[1] === 0x8b ? 3 : raw[3]) ?? 3;
  const images = parseIdx(inputsFile, raw, dims);
  const labels = parseIdx(labelsFile, readFileSync(labelsFile), 1);
  const [count, ...shape] = images.dims as [number, ...number[]];
  const inputs = Float32Array.from(images.data, (value) => value / 255);
  return { name: basename(inputsFile), inputShape: shape, inputs, count, ...checkLabels(labelsFile, labels.data, count) };
}

/** One image as grey [h, w] or RGB [h, w, 3] values in [0, 1]. */
function decodeImage(file: string): { shape: number[]; values: Float32Array } {
  const bytes = readFileSync(file);
  let width: number;
  let height: number;
  let rgba: Uint8Array;
  try {
    if (extname(file).toLowerCase() === '.png') ({ width, height, data: rgba } = PNG.sync.read(bytes));
    else ({ width, height, data: rgba } = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true }));
  } catch (error) {
    throw new DataFileError(file, `cannot be decoded as an image (${(error as Error).message})`);
  }
  const pixels = width * height;
  let grey = true;
  for (let pixel = 0; pixel < pixels && grey; pixel++)
    grey = rgba[4 * pixel] === rgba[4 * pixel + 1] && rgba[4 * pixel] === rgba[4 * pixel + 2];
  const channels = grey ? 1 : 3;
  const values = new Float32Array(pixels * channels);
  for (let pixel = 0; pixel < pixels; pixel++)
    for (let channel = 0; channel < channels; channel++) values[pixel * channels + channel] = rgba[4 * pixel + channel]! / 255;
  return { shape: grey ? [height, width] : [height, width, 3], values };
}

function readImageFolder(folder: string): Samples {
  const classNames = readdirSync(folder, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.'))
    .map((entry) => entry.name)
    .sort();
  if (classNames.length === 0)
    throw new DataFileError(folder, 'no sub-folders; put the images of each class in a sub-folder named after it');
  const images: { file: string; label: number; shape: number[]; values: Float32Array }[] = [];
  classNames.forEach((name, label) => {
    const files = readdirSync(join(folder, name))
      .filter((file) => IMAGE_EXTENSIONS.has(extname(file).toLowerCase()))
      .sort();
    if (files.length === 0) throw new DataFileError(join(folder, name), 'no images (.png, .jpg, .jpeg); every class needs at least one');
    for (const file of files) images.push({ file: join(folder, name, file), label, ...decodeImage(join(folder, name, file)) });
  });
  // One shape for all: RGB when any image has colour (grey ones are widened), the size of the first.
  const rgb = images.some((image) => image.shape.length === 3);
  const [height, width] = images[0]!.shape as [number, number];
  const shape = rgb ? [height, width, 3] : [height, width];
  const size = height * width * (rgb ? 3 : 1);
  const inputs = new Float32Array(images.length * size);
  images.forEach((image, index) => {
    const [h, w] = image.shape as [number, number];
    if (h !== height || w !== width)
      throw new DataFileError(
        image.file,
        `${w}×${h} pixels; ${images[0]!.file} is ${width}×${height}, and every image must be the same size`,
      );
    if (rgb && image.shape.length === 2)
      for (let pixel = 0; pixel < h * w; pixel++) inputs.fill(image.values[pixel]!, index * size + 3 * pixel, index * size + 3 * pixel + 3);
    else inputs.set(image.values, index * size);
  });
  return {
    name: basename(folder),
    inputShape: shape,
    classNames,
    inputs,
    labels: Uint8Array.from(images, (image) => image.label),
    count: images.length,
  };
}

/**
 * Holds out `fraction` of each class (at least one sample of every class with two or more), taking
 * evenly spaced samples in file order, so that the split is the same on every run.
 */
export function splitSamples(samples: Samples, fraction: number, path: string): UserDataset {
  const size = samples.inputs.length / Math.max(1, samples.count);
  const byClass = samples.classNames.map(() => [] as number[]);
  samples.labels.forEach((label, index) => byClass[label]!.push(index));
  const held = new Uint8Array(samples.count);
  byClass.forEach((indices, label) => {
    if (indices.length === 0) throw new DataFileError(path, `class "${samples.classNames[label]}" has no samples`);
    const count = indices.length < 2 ? 0 : Math.max(1, Math.round(indices.length * fraction));
    for (let taken = 0; taken < count; taken++) held[indices[Math.floor(((taken + 0.5) * indices.length) / count)]!] = 1;
  });
  const take = (wanted: number): Split => {
    const chosen = Array.from(held.keys()).filter((index) => held[index] === wanted);
    const images = new Float32Array(chosen.length * size);
    chosen.forEach((index, row) => images.set(samples.inputs.subarray(index * size, (index + 1) * size), row * size));
    return { images, labels: Uint8Array.from(chosen, (index) => samples.labels[index]!), count: chosen.length };
  };
  const train = take(0);
  const test = take(1);
  const { inputs: _inputs, labels: _labels, count: _count, ...described } = samples;
  return { ...described, train, test, sha256: hashSplits(train, test) };
}
