/**
 * `run.json`: what a run is, how it was made and which Arrow files hold its steps. Written
 * atomically by the recorder (temp file + rename) whenever a batch of steps is flushed.
 */
import { z } from '../zod.js';
import { configSchema } from '../config.js';
import { findingSchema } from '../diagnostics/finding.js';
import { ACTIVATIONS } from '../nn/activation.js';
import { SNAPSHOT_REASONS, type SnapshotReason } from './columns.js';

export const SCHEMA_VERSION = 1;

export const RUN_STATUSES = ['recording', 'complete', 'interrupted', 'failed'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

const count = z.int().check(z.minimum(0));

const isCount = (value: unknown) => Number.isInteger(value) && (value as number) >= 0;
const isReason = (value: unknown) => (SNAPSHOT_REASONS as readonly unknown[]).includes(value);

const weightFileSchema = z.object({
  layer: z.int().check(z.minimum(1)),
  file: z.string(),
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

const chunkSchema = z.object({
  index: count,
  file: z.string(),
  firstStep: count,
  /** Steps whole in the file as of this manifest; more may follow while `complete` is false. */
  stepCount: count,
  complete: z.boolean(),
  weights: z.array(weightFileSchema),
});

const evalSchema = z.object({ step: count, loss: z.nullable(z.number()), accuracy: z.number() });

export const manifestSchema = z.object({
  schemaVersion: z.literal(SCHEMA_VERSION),
  name: z.string().check(z.minLength(1)),
  status: z.enum(RUN_STATUSES),
  /** Why the run stopped, for any status but complete; also set when training diverged. */
  message: z.optional(z.string()),
  createdAt: z.string(),
  updatedAt: z.string(),
  config: z.extend(configSchema, { learningRate: z.number() }),
  /** Layer 0 is the input; the last layer is the softmax output. */
  layers: z
    .array(
      z.object({
        index: count,
        size: z.int().check(z.minimum(1)),
        activation: z.enum([...ACTIVATIONS, 'input', 'softmax']),
      }),
    )
    .check(z.minLength(2, 'expected the input layer and at least the output layer')),
  dataset: z.object({
    name: z.string(),
    trainCount: count,
    testCount: count,
    inputShape: z.array(z.int().check(z.minimum(1))),
    classNames: z.array(z.string()),
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
  chunks: z.array(chunkSchema),
  probes: z.nullable(z.object({ file: z.string(), count })),
  finalEval: z.nullable(evalSchema),
  /** First step whose loss was NaN or infinite, if training diverged. */
  divergedAtStep: z.nullable(count),
  /**
   * Training problems the recorder's detectors found (core/diagnostics/), by first step; updated
   * whenever run.json is written, final when the run ends. Absent in runs recorded before them.
   */
  findings: z._default(z.array(findingSchema), []),
});

export type RunManifest = z.infer<typeof manifestSchema>;
export type ChunkEntry = z.infer<typeof chunkSchema>;
export type WeightFileEntry = z.infer<typeof weightFileSchema>;

export function unknownSchemaVersionMessage(found: unknown): string {
  return `unknown schemaVersion ${JSON.stringify(found)}; this version of Neural Vision reads schemaVersion ${SCHEMA_VERSION}`;
}

/** Narrows a parsed `run.json`; the error names the file and every field that is wrong. */
export function parseManifest(file: string, input: unknown): RunManifest {
  if (input !== null && typeof input === 'object' && 'schemaVersion' in input && input.schemaVersion !== SCHEMA_VERSION) {
    throw new ManifestError(file, [unknownSchemaVersionMessage(input.schemaVersion)]);
  }
  // Each run.json is checked once: generating zod's compiled fast path would cost more than it saves
  // (several ms on the viewer's first paint).
  const result = manifestSchema.safeParse(input, { jitless: true });
  if (!result.success) {
    throw new ManifestError(
      file,
      result.error.issues.map((issue) => `${issue.path.length ? `field "${issue.path.join('.')}"` : 'document'}: ${issue.message}`),
    );
  }
  return result.data;
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
export function runShapeOf(manifest: RunManifest) {
  return {
    inputSize: manifest.layers[0]!.size,
    layerSizes: manifest.layers.slice(1).map((layer) => layer.size),
    batchSize: manifest.config.batchSize,
    probeCount: manifest.probes?.count ?? 0,
  };
}
