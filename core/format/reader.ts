/**
 * Reading a run: the other half of the recorder's RunWriter (recorder/writer/run-writer.ts). Works
 * on any byte source (files in Node, fetch in the browser) and never needs the whole run in memory
 * at once: chunks are read one at a time, in order, as a viewer streams them. Their columns are read
 * by quantity (`values.get('loss')`), typed by the vocabulary.
 */
import { FILE_NAMES, linkColumns, probeColumns, stepColumns, weightColumns, type RunShape } from './columns.js';
import { decodeStream, RunFormatError, type DecodedStream } from './decode.js';
import { ManifestError, parseManifest, runShapeOf, type RunManifest } from './manifest.js';
import { TypedColumns } from './typed-columns.js';

/** What every decoded file says besides its values. */
interface Decoded {
  rows: number;
  /** True when the file ends inside a message: a writer was stopped mid-write or the file was cut. */
  truncated: boolean;
  truncation?: string;
}

/** Where a run's files come from. `read` rejects when the file does not exist. */
export interface RunSource {
  /** Human-readable place of the run, used in messages (a folder or a URL). */
  label: string;
  read(file: string): Promise<Uint8Array>;
}

export interface StepChunk extends Decoded {
  index: number;
  firstStep: number;
  /** Problems that did not stop reading: short files, steps out of order. */
  problems: string[];
  values: TypedColumns<'steps'>;
}

export interface WeightChunk extends Decoded {
  layer: number;
  problems: string[];
  values: TypedColumns<'weights'>;
}

export interface LinkChunk extends Decoded {
  layer: number;
  problems: string[];
  values: TypedColumns<'links'>;
}

export interface ProbeSamples extends Decoded {
  values: TypedColumns<'probes'>;
}

function typed<F extends 'steps' | 'weights' | 'links' | 'probes'>(decoded: DecodedStream): Decoded & { values: TypedColumns<F> } {
  const { columns, ...rest } = decoded;
  return { ...rest, values: new TypedColumns<F>(columns) };
}

export interface RunReader {
  manifest: RunManifest;
  shape: RunShape;
  readSteps(chunkIndex: number): Promise<StepChunk>;
  /**
   * The whole record batches in the first bytes of a chunk (a prefix fetched early to paint
   * sooner); the rest of the chunk comes from `readSteps`. Being cut short is expected here.
   */
  decodeStepsPrefix(chunkIndex: number, prefix: Uint8Array): StepChunk;
  readWeights(chunkIndex: number, layer: number): Promise<WeightChunk | undefined>;
  /** The int8 link frames of dense layer `layer` in a chunk; undefined where the chunk has none. */
  readLinks(chunkIndex: number, layer: number): Promise<LinkChunk | undefined>;
  readProbes(): Promise<ProbeSamples | undefined>;
}

export async function openRun(source: RunSource): Promise<RunReader> {
  const manifestFile = `${source.label}/${FILE_NAMES.manifest}`;
  let text: string;
  try {
    text = new TextDecoder().decode(await source.read(FILE_NAMES.manifest));
  } catch (error) {
    throw new RunFormatError(manifestFile, 'cannot be read (does the run exist?)', { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ManifestError(manifestFile, [`not valid JSON (${(error as Error).message})`]);
  }
  const manifest = parseManifest(manifestFile, json);
  const shape = runShapeOf(manifest);
  const steps = stepColumns(shape);
  const where = (file: string) => `${source.label}/${file}`;

  const readFile = async (file: string): Promise<Uint8Array> => {
    try {
      return await source.read(file);
    } catch (error) {
      throw new RunFormatError(where(file), 'is listed in run.json but cannot be read', { cause: error });
    }
  };

  return {
    manifest,
    shape,
    async readSteps(chunkIndex) {
      const entry = manifest.chunks[chunkIndex];
      if (!entry) throw new RangeError(`${manifestFile}: no chunk ${chunkIndex} (the run has ${manifest.chunks.length})`);
      const decoded = decodeStream(where(entry.file), await readFile(entry.file), steps);
      const problems = checkChunk(where(entry.file), decoded, entry.firstStep, entry.stepCount, entry.complete);
      return { ...typed<'steps'>(decoded), index: chunkIndex, firstStep: entry.firstStep, problems };
    },
    decodeStepsPrefix(chunkIndex, prefix) {
      const entry = manifest.chunks[chunkIndex];
      if (!entry) throw new RangeError(`${manifestFile}: no chunk ${chunkIndex} (the run has ${manifest.chunks.length})`);
      const decoded = decodeStream(where(entry.file), prefix, steps);
      return { ...typed<'steps'>(decoded), index: chunkIndex, firstStep: entry.firstStep, problems: [] };
    },
    async readWeights(chunkIndex, layer) {
      const entry = manifest.chunks[chunkIndex]?.weights.find((weights) => weights.layer === layer);
      if (!entry) return undefined;
      const fanIn = manifest.layers[layer - 1]!.size;
      const fanOut = manifest.layers[layer]!.size;
      const decoded = decodeStream(where(entry.file), await readFile(entry.file), weightColumns(fanIn, fanOut));
      const problems = listedRowsProblems(where(entry.file), decoded, entry.steps, 'snapshots');
      return { ...typed<'weights'>(decoded), layer, problems };
    },
    async readLinks(chunkIndex, layer) {
      const entry = manifest.chunks[chunkIndex]?.links.find((links) => links.layer === layer);
      if (!entry) return undefined;
      const fanIn = manifest.layers[layer - 1]!.size;
      const fanOut = manifest.layers[layer]!.size;
      const decoded = decodeStream(where(entry.file), await readFile(entry.file), linkColumns(fanIn, fanOut));
      return { ...typed<'links'>(decoded), layer, problems: listedRowsProblems(where(entry.file), decoded, entry.steps, 'link frames') };
    },
    async readProbes() {
      if (!manifest.probes) return undefined;
      return typed<'probes'>(
        decodeStream(where(manifest.probes.file), await readFile(manifest.probes.file), probeColumns(shape.inputSize)),
      );
    },
  };
}

/** A weights or links file against the steps run.json lists for it: as many rows, the same steps. */
function listedRowsProblems(file: string, decoded: DecodedStream, listed: readonly number[], what: string): string[] {
  if (decoded.rows < listed.length)
    return [`${file}: run.json lists ${listed.length} ${what}, the file holds ${decoded.rows}${decoded.truncated ? ' (cut short)' : ''}`];
  const steps = decoded.columns.step as Int32Array;
  const row = listed.findIndex((step, index) => steps[index] !== step);
  return row < 0 ? [] : [`${file}: row ${row} holds step ${steps[row]}, run.json lists step ${listed[row]}`];
}

function checkChunk(file: string, decoded: DecodedStream, firstStep: number, listedSteps: number, complete: boolean): string[] {
  const problems: string[] = [];
  const stepValues = decoded.columns.step as Int32Array;
  for (let row = 0; row < decoded.rows; row++) {
    if (stepValues[row] !== firstStep + row) {
      problems.push(`${file}: row ${row} holds step ${stepValues[row]}, expected step ${firstStep + row}`);
      break;
    }
  }
  if (decoded.rows < listedSteps) {
    problems.push(`${file}: run.json lists ${listedSteps} steps, the file holds ${decoded.rows}${decoded.truncated ? ' (cut short)' : ''}`);
  } else if (decoded.truncated && complete) {
    problems.push(`${file}: ends inside a record batch (${decoded.truncation ?? 'cut short'})`);
  }
  return problems;
}
