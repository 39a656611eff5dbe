/**
 * Fuzz targets: what reads untrusted input — chunk files, run.json, config files and values — fed
 * mutations of valid input and arbitrary values. Every input must end as either accepted or
 * refused with the error type that names the file or field (RunFormatError, ManifestError,
 * ConfigError); any other exception is a bug. Shared by the suite (tests/fuzz.test.ts) and the long
 * run (bench/fuzz.ts).
 */
import fc from 'fast-check';
import { stringify as toYaml } from 'yaml';
import { ConfigError, resolveConfig } from '../../core/config.js';
import { stepColumns, type ColumnSpec, columnWidth, FILE_NAMES, linkColumns } from '../../core/format/columns.js';
import {
  decodeStream,
  encodeBatchMessage,
  encodeSchemaMessage,
  RunFormatError,
  STREAM_END,
  type BatchValues,
} from '../../core/format/ipc.js';
import { concatBytes } from '../helpers.js';
import { ManifestError } from '../../core/format/manifest.js';
import { openRun } from '../../core/format/reader.js';
import { parseConfigText } from '../../recorder/config-file.js';

export type Verdict = 'accepted' | 'refused';

export interface FuzzTarget<T> {
  name: string;
  inputs: fc.Arbitrary<T>;
  /** Accepts or refuses the input; throws only on a bug. */
  run: (input: T) => Verdict | Promise<Verdict>;
}

/** Errors that are a clear refusal of bad input. */
function refusal(error: unknown, ...expected: (abstract new (...args: never[]) => Error)[]): Verdict {
  if (expected.some((type) => error instanceof type)) return 'refused';
  throw error;
}

// Version 1's columns: the regression tests in tests/fuzz.test.ts pin byte offsets into a chunk of this shape.
const SHAPE = { inputSize: 16, layerSizes: [6, 4, 3], batchSize: 4, probeCount: 2, classCount: 3, schemaVersion: 1 };
export const STEP_COLUMNS = stepColumns(SHAPE);
/** Version 2's columns: the same with each layer's mean activations by class, whose items may be null. */
export const STEP_COLUMNS_V2 = stepColumns({ ...SHAPE, schemaVersion: 2 });
/** A links file of the same network's layer 2: int8 codes and their scales (format 3). */
export const LINK_COLUMNS = linkColumns(6, 4);

/** A valid chunk of `rows` steps of `columns`, one record batch per 10 rows, as a recorder appends them. */
export function validChunk(rows = 20, columns: readonly ColumnSpec[] = STEP_COLUMNS): Uint8Array {
  const parts = [encodeSchemaMessage(columns)];
  for (let start = 0; start < rows; start += 10) {
    const count = Math.min(10, rows - start);
    const slice: BatchValues = {};
    for (const spec of columns) slice[spec.name] = columnValues(spec, count, start);
    parts.push(encodeBatchMessage(columns, slice, count));
  }
  return concatBytes(...parts, STREAM_END);
}

function columnValues(spec: ColumnSpec, rows: number, first = 0): BatchValues[string] {
  const length = rows * columnWidth(spec);
  if (spec.type === 'utf8') return Array.from({ length: rows }, (_, row) => `row ${first + row}`);
  if (spec.name === 'step') return Int32Array.from({ length: rows }, (_, row) => first + row);
  const pattern = (index: number) => (first * 7 + index) % 97;
  const numbers =
    spec.type === 'float32'
      ? Float32Array.from({ length }, (_, index) => pattern(index))
      : spec.type === 'int32'
        ? Int32Array.from({ length }, (_, index) => pattern(index))
        : spec.type === 'int8'
          ? Int8Array.from({ length }, (_, index) => pattern(index) - 48)
          : Uint8Array.from({ length }, (_, index) => pattern(index));
  if (spec.nullable === 'item')
    return { values: Float32Array.from(numbers), valid: Uint8Array.from({ length }, (_, index) => (index % 3 ? 1 : 0)) };
  return spec.nullable ? { values: Float32Array.from(numbers), valid: Uint8Array.from({ length: rows }, (_, row) => row % 2) } : numbers;
}

/** Byte-level mutations of a valid file: cuts, flipped bytes, insertions, overwritten ranges, or noise. */
export function mutatedBytes(base: Uint8Array): fc.Arbitrary<Uint8Array> {
  const position = fc.nat({ max: base.length });
  return fc.oneof(
    position.map((at) => base.slice(0, at)),
    fc.array(fc.tuple(fc.nat({ max: base.length - 1 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 12 }).map((flips) => {
      const copy = base.slice();
      for (const [at, value] of flips) copy[at] = value;
      return copy;
    }),
    fc
      .tuple(position, fc.uint8Array({ minLength: 1, maxLength: 64 }))
      .map(([at, bytes]) => concatBytes(base.subarray(0, at), bytes, base.subarray(at))),
    fc.tuple(position, position, fc.integer({ min: 0, max: 255 })).map(([from, to, value]) => {
      const copy = base.slice();
      copy.fill(value, Math.min(from, to), Math.max(from, to));
      return copy;
    }),
    // A 32-bit field (a length, an offset, a count) set to an extreme value.
    fc
      .tuple(fc.nat({ max: Math.max(0, base.length - 4) }), fc.constantFrom(0, 1, 0x7fffffff, 0xffffffff, 0x80000000))
      .map(([at, value]) => {
        const copy = base.slice();
        new DataView(copy.buffer).setUint32(at, value, true);
        return copy;
      }),
    fc.uint8Array({ maxLength: 2048 }),
  );
}

export function chunkTarget(columns: readonly ColumnSpec[] = STEP_COLUMNS, base = validChunk(20, columns)): FuzzTarget<Uint8Array> {
  const kind = columns === STEP_COLUMNS_V2 ? 'format 2, item nulls' : columns === LINK_COLUMNS ? 'format 3 links, int8' : 'format 1';
  return {
    name: `chunk decoder (decodeStream, ${kind})`,
    inputs: mutatedBytes(base),
    run: (bytes) => {
      try {
        const decoded = decodeStream('fuzz.arrows', bytes, columns);
        // What it returns must be consistent: every column holds `rows` rows, and its validity one byte per row or item.
        for (const spec of columns) {
          const values = decoded.columns[spec.name]!;
          const length = Array.isArray(values) ? values.length : 'valid' in values ? values.values.length : values.length;
          const expected = spec.type === 'utf8' ? decoded.rows : decoded.rows * columnWidth(spec);
          if (length !== expected) throw new Error(`column ${spec.name}: ${length} values for ${decoded.rows} rows`);
          const valid = !Array.isArray(values) && 'valid' in values ? values.valid.length : undefined;
          if (valid !== undefined && valid !== (spec.nullable === 'item' ? expected : decoded.rows))
            throw new Error(`column ${spec.name}: ${valid} validity bytes for ${decoded.rows} rows`);
        }
        return 'accepted';
      } catch (error) {
        return refusal(error, RunFormatError);
      }
    },
  };
}

/** JSON-level mutations of an object: a value somewhere replaced by anything, or a key removed. */
export function mutatedJson(base: unknown): fc.Arbitrary<unknown> {
  const paths = jsonPaths(base);
  const replace = fc.tuple(fc.constantFrom(...paths), fc.anything({ maxDepth: 2 })).map(([path, value]) => setAt(base, path, value, false));
  const remove = fc.constantFrom(...paths.filter((path) => path.length > 0)).map((path) => setAt(base, path, undefined, true));
  return fc.oneof(replace, remove, fc.anything({ maxDepth: 3 }));
}

function jsonPaths(value: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(prefix);
  if (Array.isArray(value)) value.slice(0, 3).forEach((item, index) => jsonPaths(item, [...prefix, index], out));
  else if (value !== null && typeof value === 'object')
    for (const [key, item] of Object.entries(value)) jsonPaths(item, [...prefix, key], out);
  return out;
}

function setAt(base: unknown, path: (string | number)[], value: unknown, remove: boolean): unknown {
  if (path.length === 0) return value;
  const copy = structuredClone(base) as Record<string | number, unknown>;
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  const last = path.at(-1)!;
  if (remove) {
    if (Array.isArray(node)) node.splice(Number(last), 1);
    else delete node[last];
  } else node[last] = value;
  return copy;
}

/** run.json: JSON mutations and text mutations, read by `openRun` as the viewer does. */
/** @param base.files the run's other files by name (weights, links), read where run.json lists them */
export function manifestTarget(base: { manifest: unknown; chunk: Uint8Array; files?: Record<string, Uint8Array> }): FuzzTarget<string> {
  const text = JSON.stringify(base.manifest);
  const textMutations = fc.oneof(
    fc.nat({ max: text.length }).map((at) => text.slice(0, at)),
    fc
      .tuple(fc.nat({ max: text.length - 1 }), fc.string({ minLength: 1, maxLength: 4 }))
      .map(([at, insert]) => text.slice(0, at) + insert + text.slice(at + 1)),
  );
  return {
    name: 'run.json validator (openRun)',
    inputs: fc.oneof(
      mutatedJson(base.manifest).map((value) => JSON.stringify(value) ?? 'undefined'),
      textMutations,
    ),
    run: async (manifestText) => {
      const files: Record<string, Uint8Array> = {
        ...base.files,
        [FILE_NAMES.manifest]: new TextEncoder().encode(manifestText),
        [FILE_NAMES.steps(0)]: base.chunk,
      };
      try {
        const reader = await openRun({
          label: 'fuzz',
          read: async (file) => {
            const bytes = files[file];
            if (!bytes) throw new Error(`no ${file}`);
            return bytes;
          },
        });
        // A manifest that passed validation must be safe to read chunks, snapshots and link frames from.
        for (let index = 0; index < Math.min(2, reader.manifest.chunks.length); index++) {
          const chunk = reader.manifest.chunks[index]!;
          const reads = [
            () => reader.readSteps(index),
            ...chunk.weights.map((entry) => () => reader.readWeights(index, entry.layer)),
            ...chunk.links.map((entry) => () => reader.readLinks(index, entry.layer)),
          ];
          for (const read of reads) {
            try {
              await read();
            } catch (error) {
              refusal(error, RunFormatError);
            }
          }
        }
        return 'accepted';
      } catch (error) {
        return refusal(error, ManifestError, RunFormatError);
      }
    },
  };
}

const CONFIG_EXAMPLE = { layers: [128, 64], activation: 'relu', init: 'he', optimizer: 'sgd', learningRate: 0.1, batchSize: 64, epochs: 4 };

/** Config values (as a file would give them) and config file texts, YAML and JSON. */
export function configTarget(): FuzzTarget<{ kind: 'value'; value: unknown } | { kind: 'text'; path: string; text: string }> {
  const yaml = toYaml(CONFIG_EXAMPLE);
  const json = JSON.stringify(CONFIG_EXAMPLE);
  const mutateText = (text: string) =>
    fc.oneof(
      fc.nat({ max: text.length }).map((at) => text.slice(0, at)),
      fc
        .tuple(fc.nat({ max: text.length - 1 }), fc.string({ minLength: 1, maxLength: 6 }))
        .map(([at, insert]) => text.slice(0, at) + insert + text.slice(at + 1)),
      fc.string({ maxLength: 200 }),
    );
  return {
    name: 'config (parseConfigText + resolveConfig)',
    inputs: fc.oneof(
      mutatedJson(CONFIG_EXAMPLE).map((value) => ({ kind: 'value' as const, value })),
      mutateText(yaml).map((text) => ({ kind: 'text' as const, path: 'fuzz.yaml', text })),
      mutateText(json).map((text) => ({ kind: 'text' as const, path: 'fuzz.json', text })),
    ),
    run: (input) => {
      try {
        const value = input.kind === 'value' ? input.value : parseConfigText(input.path, input.text);
        resolveConfig(value, 'fuzz');
        return 'accepted';
      } catch (error) {
        return refusal(error, ConfigError);
      }
    },
  };
}

export interface FuzzCounts {
  inputs: number;
  accepted: number;
  refused: number;
  /** Exceptions other than the clear refusals: bugs. */
  unexpected: { input: unknown; error: string }[];
  /** Inputs that took longer than `slowMs` (a hang would stop the run; its outer timeout catches that). */
  slow: number;
}

/** Runs `count` generated inputs through a target and counts the outcomes. */
export async function fuzz<T>(target: FuzzTarget<T>, count: number, seed: number, slowMs = 1000): Promise<FuzzCounts> {
  const counts: FuzzCounts = { inputs: 0, accepted: 0, refused: 0, unexpected: [], slow: 0 };
  for (const input of fc.sample(target.inputs, { numRuns: count, seed })) {
    const started = performance.now();
    try {
      counts[await target.run(input)]++;
    } catch (error) {
      counts.unexpected.push({ input, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
    }
    if (performance.now() - started > slowMs) counts.slow++;
    counts.inputs++;
  }
  return counts;
}
