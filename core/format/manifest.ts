/**
 * `run.json`: what a run is, how it was made and which Arrow files hold its steps. Written
 * atomically by the recorder (temp file + rename) whenever a batch of steps is flushed.
 */
import { z } from '../zod.js';
import { configSchema, DATASETS, INITS, OPTIMIZERS } from '../config.js';
import { findingSchema } from '../diagnostics/finding.js';
import { ACTIVATIONS } from '../nn/activation.js';
import { SNAPSHOT_REASONS, type RunShape, type SnapshotReason } from './columns.js';

/**
 * 4: steps record `layerK.fractionInactive` (inactive by each activation function's rule); dead and
 * saturated neuron findings list each neuron's own first step (`neuronSteps`) and start where the
 * threshold count was reached. 3: int8 link frames (`links-layerK-NNNN.arrows`, listed per chunk as `links`, planned in
 * `linkFrames`) keep every drawn link fresh; the config has `linkAge`. 2: layers say their kind and
 * the input layer its shape; steps record `classActivation`; the classes are the dataset's, any
 * number. 1: the first format (MNIST-shaped). Versions 1–3 are still read: their run.json is
 * upgraded as it is parsed (`upgradeManifest`; findings get `neuronSteps: null`), and their files
 * lack what came later.
 */
export const SCHEMA_VERSION = 4;
/** Steps the final training loss and accuracy are averaged over (`finalTrain`). */
export const FINAL_TRAIN_STEPS = 50;
/** Classes a run can have: labels and predicted classes are uint8 columns. */
export const MAX_CLASSES = 256;
/** A run.json larger than this is refused unread: a 100,000-step run writes a few MiB. */
export const MAX_MANIFEST_BYTES = 16 * 1024 ** 2;

/** Versions this reader opens. */
export const READABLE_SCHEMA_VERSIONS = [1, 2, 3, 4] as const;

export const RUN_STATUSES = ['recording', 'complete', 'interrupted', 'failed'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

const count = z.int().check(z.minimum(0));

const isCount = (value: unknown) => Number.isInteger(value) && (value as number) >= 0;
const isReason = (value: unknown) => (SNAPSHOT_REASONS as readonly unknown[]).includes(value);

/**
 * A file of the run: a plain name inside the run folder. A name with a path separator, "." or "..",
 * or a NUL would let a run.json point a reader (npm run check, the viewer) outside its folder.
 */
export function isRunFileName(value: unknown): value is string {
  return typeof value === 'string' && /^[^/\\\0]+$/.test(value) && value !== '.' && value !== '..';
}

const fileName = z.custom<string>(isRunFileName, { error: 'expected a file name inside the run folder (no "/", "\\", ".." or NUL)' });

const weightFileSchema = z.object({
  layer: z.int().check(z.minimum(1)),
  file: fileName,
  // The two lists run.json holds a value per snapshot in (thousands in a long run) are checked in one
  // pass each: a schema per element costs the viewer's first paint ~1 µs each.
  /** Steps of the snapshots in this file, in order. */
  steps: z.custom<number[]>((value) => Array.isArray(value) && value.every(isCount), {
    error: 'expected a list of whole numbers ≥ 0',
  }),
  reasons: z.custom<SnapshotReason[]>((value) => Array.isArray(value) && value.every(isReason), {
    error: `expected a list of ${SNAPSHOT_REASONS.map((reason) => `"${reason}"`).join(', ')}`,
  }),
});

const linkFileSchema = z.object({
  layer: z.int().check(z.minimum(1)),
  file: fileName,
  /** Steps of the link frames in this file, in order. */
  steps: z.custom<number[]>((value) => Array.isArray(value) && value.every(isCount), {
    error: 'expected a list of whole numbers ≥ 0',
  }),
});

const chunkSchema = z.object({
  index: count,
  file: fileName,
  firstStep: count,
  /** Steps whole in the file as of this manifest; more may follow while `complete` is false. */
  stepCount: count,
  complete: z.boolean(),
  weights: z.array(weightFileSchema),
  /** Link frame files of this chunk (schemaVersion 3+; older runs are read with none). */
  links: z.array(linkFileSchema),
});

/** The link frames' plan (core/snapshots.ts: planLinkFrames). */
const linkFramesSchema = z.object({
  /** Steps a drawn link lags the step shown, at most: floor(config.linkAge × plannedSteps). */
  maxAge: count,
  /** Per dense layer (index 0 = layer 1): the stride of its link frames, or 0 where its weight snapshots are fresh enough. */
  strides: z.array(count),
  /** Bytes the link frames take at most over the planned run: their own allowance, beside `config.budget`. */
  plannedBytes: count,
});

const evalSchema = z.object({ step: count, loss: z.nullable(z.number()), accuracy: z.number() });

const inputLayerSchema = z.object({
  index: z.literal(0),
  kind: z.literal('input'),
  size: z.int().check(z.minimum(1)),
  /** The shape of one sample, row-major: [28, 28] for an MNIST digit, [features] for a table row. */
  shape: z.array(z.int().check(z.minimum(1))).check(z.minLength(1)),
});

const denseLayerSchema = z.object({
  index: z.int().check(z.minimum(1)),
  kind: z.literal('dense'),
  size: z.int().check(z.minimum(1)),
  activation: z.enum([...ACTIVATIONS, 'softmax']),
  /** The rate of the Dropout after this layer's activation, in training only; absent when there is none. */
  dropout: z.optional(z.number().check(z.gt(0), z.lt(1))),
});

/** Ways a user's own model is recorded (docs/api.md). */
export const SOURCE_MODES = ['fit', 'callbacks', 'step'] as const;

const sourceSchema = z.object({
  /** `fit`: the recorder's own fit; `callbacks`: the user's model.fit with the recorder's callbacks; `step`: the user's own loop. */
  mode: z.enum(SOURCE_MODES),
  /** The model's name. */
  model: z.string(),
  /** The optimizer's class and settings, e.g. "AdamOptimizer (learningRate 0.001, beta1 0.9, beta2 0.999, epsilon 1e-7)". */
  optimizer: z.string(),
  /** The loss the model was compiled with, or "user" when the user's own loop computes it. */
  loss: z.string(),
  /** Recorded columns this mode cannot know, each with why; the viewer shows them as unavailable. */
  absent: z.array(z.object({ quantity: z.string(), reason: z.string() })),
});

export const manifestSchema = z.object({
  /** The format version this run was recorded in; older runs are upgraded as they are read. */
  schemaVersion: z.union([z.literal(1), z.literal(2), z.literal(3), z.literal(4)]),
  name: z.string().check(z.minLength(1)),
  status: z.enum(RUN_STATUSES),
  /** Why the run stopped, for any status but complete; also set when training diverged. */
  message: z.optional(z.string()),
  createdAt: z.string(),
  updatedAt: z.string(),
  /**
   * How the run was configured. For a run of a user's own model (`source`), `dataset` is "user" (the
   * data is `dataset`), `init` is "model" when the weights were the model's own, and `optimizer`
   * "other" when the model's optimizer is none of the three the built-in trainer has (`source.optimizer`
   * names it).
   */
  config: z.extend(configSchema, {
    learningRate: z.number(),
    // The config's defaults stay: runs written before a field existed are read with its default.
    init: z._default(z.enum([...INITS, 'model']), 'he'),
    dataset: z._default(z.enum([...DATASETS, 'user']), 'mnist-embedded'),
    optimizer: z._default(z.enum([...OPTIMIZERS, 'other']), 'sgd'),
  }),
  /** Who trained the network when it was not the built-in trainer: a user's own TensorFlow.js model (recorder/library/). */
  source: z.optional(sourceSchema),
  /** Layer 0 is the input; the last layer is the softmax output. */
  layers: z.tuple([inputLayerSchema], denseLayerSchema).check(z.minLength(2, 'expected the input layer and at least the output layer')),
  dataset: z.object({
    name: z.string(),
    trainCount: count,
    testCount: count,
    inputShape: z.array(z.int().check(z.minimum(1))),
    classNames: z.array(z.string()),
    /** A name per input feature (a CSV's header), for inputs that are not images; absent otherwise. */
    featureNames: z.optional(z.array(z.string())),
    /** SHA-256 of the split's pixel and label bytes. */
    sha256: z.string(),
  }),
  engine: z.object({
    name: z.enum(['node', 'wasm', 'cpu']),
    simd: z.optional(z.boolean()),
    threads: z.optional(z.int()),
    versions: z.record(z.string(), z.string()),
  }),
  /** A command that records the same run again. */
  reproduce: z.string(),
  plannedSteps: count,
  /** Steps whole on disk, over all chunks, as of this manifest. */
  stepCount: count,
  /** Steps per chunk file (the last chunk may hold fewer). */
  chunkSteps: z.int().check(z.minimum(1)),
  /** Weight snapshot stride per dense layer (index 0 = layer 1). */
  weightStrides: z.array(z.int().check(z.minimum(1))),
  /** Int8 link frames that keep drawn links at most `maxAge` steps old; null when none are recorded (`linkAge` 0, older runs). */
  linkFrames: z.nullable(linkFramesSchema),
  chunks: z.array(chunkSchema),
  probes: z.nullable(z.object({ file: fileName, count })),
  finalEval: z.nullable(evalSchema),
  /**
   * Training loss and batch accuracy at the end of what was recorded: their means over the last
   * FINAL_TRAIN_STEPS steps (a single batch is noisy), kept current while recording; null in runs
   * recorded before it (schemaVersion < 4) and before the first step.
   */
  finalTrain: z._default(z.nullable(z.object({ steps: count, loss: z.nullable(z.number()), accuracy: z.number() })), null),
  /** First step whose loss was NaN or infinite, if training diverged. */
  divergedAtStep: z.nullable(count),
  /**
   * Training problems the recorder's detectors found (core/diagnostics/), by first step; updated
   * whenever run.json is written, final when the run ends. Absent in runs recorded before them.
   */
  findings: z._default(z.array(findingSchema), []),
});

export type RunManifest = z.infer<typeof manifestSchema>;
export type InputLayer = z.infer<typeof inputLayerSchema>;
export type DenseLayer = z.infer<typeof denseLayerSchema>;
export type ChunkEntry = z.infer<typeof chunkSchema>;
export type WeightFileEntry = z.infer<typeof weightFileSchema>;
export type LinkFileEntry = z.infer<typeof linkFileSchema>;
export type LinkFramesPlan = z.infer<typeof linkFramesSchema>;

/**
 * The run's dropout in words for headers: "dropout 0.1 after layer 1", "dropout 0.5 after layers 1, 2",
 * "dropout 0.5 after layer 1, 0.1 after layer 2"; '' when no layer drops units.
 */
export function dropoutLabel(layers: RunManifest['layers']): string {
  const byRate = new Map<number, number[]>();
  for (const layer of layers.slice(1) as DenseLayer[]) {
    if (layer.dropout === undefined) continue;
    const rate = Number(layer.dropout.toPrecision(4));
    byRate.set(rate, [...(byRate.get(rate) ?? []), layer.index]);
  }
  const parts = [...byRate].map(([rate, indices]) => `${rate} after layer${indices.length > 1 ? 's' : ''} ${indices.join(', ')}`);
  return parts.length > 0 ? `dropout ${parts.join(', ')}` : '';
}

/**
 * The step columns a run does not record, each with why (a user's model.fit seen through callbacks
 * has no batch rows); empty for the built-in recorder.
 */
export function absentOf(manifest: Pick<RunManifest, 'source'>): ReadonlyMap<string, string> {
  return new Map(manifest.source?.absent.map((entry) => [entry.quantity, entry.reason]) ?? []);
}

export function unknownSchemaVersionMessage(found: unknown): string {
  const versions = READABLE_SCHEMA_VERSIONS.join(', ').replace(/, (\d+)$/, ' and $1');
  return `unknown schemaVersion ${JSON.stringify(found)}; this version of Neural Vision reads schemaVersion ${versions}`;
}

/**
 * An older run.json in today's shape. Version 1: its layers get their kind and the input its shape
 * (the dataset's), the activation "input" goes. Versions 1 and 2: no link frames (`linkFrames` null,
 * every chunk's `links` empty, `config.linkAge` 0). Anything else it lacks fails validation as usual.
 */
export function upgradeManifest(input: Record<string, unknown>): Record<string, unknown> {
  if (input.schemaVersion !== 1 && input.schemaVersion !== 2) return input;
  let upgraded = input;
  if (input.schemaVersion === 1 && Array.isArray(input.layers)) {
    const dataset = input.dataset as { inputShape?: unknown } | undefined;
    const layers = input.layers.map((layer: unknown, index) => {
      if (layer === null || typeof layer !== 'object') return layer;
      if (index === 0) {
        const { activation: _activation, ...rest } = layer as Record<string, unknown>;
        return { ...rest, kind: 'input', shape: dataset?.inputShape };
      }
      return { ...layer, kind: 'dense' };
    });
    upgraded = { ...upgraded, layers };
  }
  const isObject = (value: unknown): value is Record<string, unknown> =>
    value !== null && typeof value === 'object' && !Array.isArray(value);
  const chunks = Array.isArray(input.chunks)
    ? input.chunks.map((chunk: unknown) => (isObject(chunk) ? { links: [], ...chunk } : chunk))
    : input.chunks;
  const config = isObject(input.config) ? { linkAge: 0, ...input.config } : input.config;
  return { linkFrames: null, ...upgraded, chunks, config };
}

/** Narrows a parsed `run.json`; the error names the file and every field that is wrong. */
export function parseManifest(file: string, input: unknown): RunManifest {
  if (input !== null && typeof input === 'object' && 'schemaVersion' in input) {
    if (!(READABLE_SCHEMA_VERSIONS as readonly unknown[]).includes(input.schemaVersion))
      throw new ManifestError(file, [unknownSchemaVersionMessage(input.schemaVersion)]);
    input = upgradeManifest(input as Record<string, unknown>);
  }
  // Each run.json is checked once: generating zod's compiled fast path would cost more than it saves
  // (several ms on the viewer's first paint).
  let result;
  try {
    result = manifestSchema.safeParse(input, { jitless: true });
  } catch (error) {
    // zod gathers each array's problems with push(...issues): tens of thousands of wrong items overflow the stack.
    if (error instanceof RangeError) throw new ManifestError(file, ['document: too many wrong fields to list them (tens of thousands)']);
    throw error;
  }
  if (!result.success) {
    throw new ManifestError(
      file,
      result.error.issues.map((issue) => `${issue.path.length ? `field "${issue.path.join('.')}"` : 'document'}: ${issue.message}`),
    );
  }
  const manifest = result.data;
  const problems = shapeProblems(manifest);
  if (problems.length > 0) throw new ManifestError(file, problems);
  return manifest;
}

/** What zod cannot see field by field: the layers' order, the input's shape, the output's classes. */
function shapeProblems(manifest: RunManifest): string[] {
  const problems: string[] = [];
  const input = manifest.layers[0];
  const inputValues = input.shape.reduce((product, size) => product * size, 1);
  if (inputValues !== input.size)
    problems.push(`field "layers.0.shape": ${input.shape.join('×')} is ${inputValues} values, the layer has ${input.size}`);
  manifest.layers.forEach((layer, index) => {
    if (layer.index !== index) problems.push(`field "layers.${index}.index": expected ${index}, found ${layer.index}`);
  });
  // Readers size a weights or links file from the layers it names.
  const denseLayers = manifest.layers.length - 1;
  manifest.chunks.forEach((chunk, index) =>
    (['weights', 'links'] as const).forEach((kind) =>
      chunk[kind].forEach((entry, position) => {
        if (entry.layer > denseLayers)
          problems.push(`field "chunks.${index}.${kind}.${position}.layer": ${entry.layer}, the run has ${denseLayers} dense layers`);
      }),
    ),
  );
  manifest.findings.forEach(({ neurons, neuronSteps }, index) => {
    // Readers take neuronSteps[i] as the step of neurons[i].
    if (neuronSteps !== null && neuronSteps.length !== (neurons?.length ?? 0))
      problems.push(`field "findings.${index}.neuronSteps": ${neuronSteps.length} steps for ${neurons?.length ?? 0} neurons`);
  });
  if (manifest.linkFrames && manifest.linkFrames.strides.length !== denseLayers)
    problems.push(`field "linkFrames.strides": ${manifest.linkFrames.strides.length} strides for ${denseLayers} dense layers`);
  const output = manifest.layers[manifest.layers.length - 1]!;
  const classes = manifest.dataset.classNames.length;
  // Labels and predicted classes are stored as uint8.
  if (classes > MAX_CLASSES) problems.push(`field "dataset.classNames": ${classes} classes, at most ${MAX_CLASSES} are supported`);
  if (output.size !== classes)
    problems.push(
      `field "layers.${output.index}.size": the output layer has ${output.size} neurons for ${classes} classes (dataset.classNames)`,
    );
  return problems;
}

export class ManifestError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file}: ${problems.join('; ')}`);
    this.name = 'ManifestError';
  }
}

/** The run shape that decides column widths, from a manifest. */
export function runShapeOf(manifest: RunManifest): RunShape {
  return {
    inputSize: manifest.layers[0].size,
    layerSizes: manifest.layers.slice(1).map((layer) => layer.size),
    batchSize: manifest.config.batchSize,
    probeCount: manifest.probes?.count ?? 0,
    classCount: manifest.dataset.classNames.length,
    schemaVersion: manifest.schemaVersion,
  };
}
