/**
 * The recording configuration: every field, its default, its allowed values and the CLI flag
 * that sets it. Config files and flags enter as `unknown` and are narrowed here before anything
 * starts; an invalid value gets a message naming the field, the value and what is allowed.
 */
import { z } from './zod.js';
import { diagnosticsSchema } from './diagnostics/thresholds.js';
import { ACTIVATIONS } from './nn/activation.js';
import { PRESET_NAMES } from './presets.js';

export const DATASETS = ['mnist-embedded', 'mnist', 'fashion-mnist'] as const;
export type DatasetName = (typeof DATASETS)[number];
export const INITS = ['he', 'xavier', 'normal', 'zeros', 'constant'] as const;
export type Init = (typeof INITS)[number];
export const OPTIMIZERS = ['sgd', 'momentum', 'adam'] as const;
export type Optimizer = (typeof OPTIMIZERS)[number];
export const ENGINES = ['auto', 'node', 'wasm', 'cpu'] as const;
export type EngineChoice = (typeof ENGINES)[number];

/** Learning rate when none is given: what trains the default network well with each optimizer. */
export const DEFAULT_LEARNING_RATE: Record<Optimizer, number> = { sgd: 0.1, momentum: 0.01, adam: 0.001 };

/** Drawn links at most 2% of the run older than the step shown (issue 19). */
export const DEFAULT_LINK_AGE = 0.02;

export const MAX_LAYER_SIZE = 4096;
export const MAX_HIDDEN_LAYERS = 8;

const BYTE_UNITS: Record<string, number> = { '': 1, b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };

/** "8MiB", "500kb", "1e6", 1000000 → bytes; anything else is left for the schema to reject. */
export function parseByteSize(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const match = /^\s*([0-9]*\.?[0-9]+(?:e[0-9]+)?)\s*([a-z]*)\s*$/i.exec(value);
  const scale = match ? BYTE_UNITS[match[2]!.toLowerCase()] : undefined;
  return match && scale !== undefined ? Math.round(Number(match[1]) * scale) : value;
}

/** Bytes for people: "512 B", "340 KiB", "12.3 MiB", "1.20 GiB". */
export function formatByteSize(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return bytes >= 1024 ? `${(bytes / 1024).toFixed(0)} KiB` : `${bytes} B`;
}

const integer = (min: number, max: number) => z.int().check(z.minimum(min), z.maximum(max));
const finite = z.number().check(z.refine(Number.isFinite, 'expected a finite number'));

export const configSchema = z.strictObject({
  dataset: z._default(z.enum(DATASETS), 'mnist-embedded'),
  /** Hidden layer sizes, input side first; the output layer (10 classes) is added. */
  layers: z._default(z.array(integer(1, MAX_LAYER_SIZE)).check(z.maxLength(MAX_HIDDEN_LAYERS)), [128, 64]),
  activation: z._default(z.enum(ACTIVATIONS), 'relu'),
  init: z._default(z.enum(INITS), 'he'),
  /** Standard deviation of `init: normal`. */
  initStd: z._default(z.pipe(finite, z.number().check(z.minimum(0))), 0.01),
  /** Value of every weight with `init: constant`. */
  initValue: z._default(finite, 0.1),
  optimizer: z._default(z.enum(OPTIMIZERS), 'sgd'),
  /** Default depends on the optimizer: DEFAULT_LEARNING_RATE. */
  learningRate: z.optional(z.pipe(finite, z.number().check(z.gt(0), z.maximum(100)))),
  /** Momentum coefficient for `optimizer: momentum`. */
  momentum: z._default(z.pipe(finite, z.number().check(z.minimum(0), z.lt(1))), 0.9),
  batchSize: z._default(integer(1, 8192), 64),
  epochs: z._default(integer(1, 10_000), 4),
  /** Stop after this many steps even if epochs remain; null for no limit. */
  maxSteps: z._default(z.nullable(integer(1, 100_000_000)), null),
  seed: z._default(integer(0, 2 ** 32 - 1), 1),
  /** Held-out evaluation every this many steps (and at the last step). */
  evalEvery: z._default(integer(1, 100_000_000), 50),
  /** Number of fixed held-out probe samples recorded every step. */
  probes: z._default(integer(0, 256), 16),
  /** Bytes of weight and weight-gradient snapshots for the whole run. */
  budget: z._default(z.pipe(z.transform(parseByteSize), integer(0, 2 ** 40)), 12 * 1024 ** 2),
  /**
   * How old a drawn link (weight or weight gradient) may be, as a fraction of the run's steps: int8
   * link frames are kept often enough for it, beside the exact snapshots; 0 keeps none.
   */
  linkAge: z._default(z.pipe(finite, z.number().check(z.minimum(0), z.maximum(1))), DEFAULT_LINK_AGE),
  engine: z._default(z.enum(ENGINES), 'auto'),
  /** The lesson preset the run started from (core/presets.ts), or null; recorded, it changes nothing by itself. */
  preset: z._default(z.nullable(z.enum(PRESET_NAMES)), null),
  /** Thresholds of the training-problem detectors (core/diagnostics/thresholds.ts). */
  diagnostics: z.prefault(diagnosticsSchema, {}),
});

export type ConfigInput = z.input<typeof configSchema>;
export type Config = Omit<z.output<typeof configSchema>, 'learningRate'> & { learningRate: number };

/** The CLI flag for each config field, for messages. */
export const CONFIG_FLAGS: Record<keyof Config, string> = {
  dataset: '--dataset',
  layers: '--layers',
  activation: '--activation',
  init: '--init',
  initStd: '--init-std',
  initValue: '--init-value',
  optimizer: '--optimizer',
  learningRate: '--lr',
  momentum: '--momentum',
  batchSize: '--batch-size',
  epochs: '--epochs',
  maxSteps: '--max-steps',
  seed: '--seed',
  evalEvery: '--eval-every',
  probes: '--probes',
  budget: '--budget',
  linkAge: '--link-age',
  engine: '--engine',
  preset: '--preset',
  diagnostics: '--diagnostics',
};

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
  }
}

function valueAt(input: unknown, path: PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/** Names the field (and its flag), shows the value that was given and what is allowed. */
export function describeConfigIssue(issue: z.core.$ZodIssue, input: unknown, source: string): string {
  const field = issue.path.map(String).join('.');
  const topField = String(issue.path[0] ?? '');
  const flag = CONFIG_FLAGS[topField as keyof Config];
  const where = issue.path.length === 0 ? source : `${source}: field "${field}"${flag ? ` (${flag})` : ''}`;
  if (issue.code === 'unrecognized_keys') {
    const within = issue.path.length === 0 ? '' : ` in "${field}"`;
    return `${source}: unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((key) => `"${key}"`).join(', ')}${within}; allowed: ${allowedFieldsAt(issue.path).join(', ')}`;
  }
  const given = formatGiven(valueAt(input, issue.path));
  return `${where}: got ${given}, expected ${expectation(issue, topField)}`;
}

/** Field names of the (nested) config object at `path`. */
function allowedFieldsAt(path: PropertyKey[]): string[] {
  let schema: z.ZodMiniType = configSchema;
  for (const key of path) {
    schema = withoutDefault(schema);
    if (!(schema instanceof z.ZodMiniObject)) return [];
    schema = schema.shape[String(key)] as z.ZodMiniType;
  }
  schema = withoutDefault(schema);
  return schema instanceof z.ZodMiniObject ? Object.keys(schema.shape) : [];
}

function withoutDefault(schema: z.ZodMiniType): z.ZodMiniType {
  while (schema instanceof z.ZodMiniPrefault || schema instanceof z.ZodMiniDefault) schema = schema._zod.def.innerType as z.ZodMiniType;
  return schema;
}

/** What was given, as JSON cut short: two levels deep, ten items a level, 120 characters (a file may nest thousands deep). */
function formatGiven(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = preview(value, 2);
  return text.length > 120 ? `${text.slice(0, 119)}…` : text;
}

function preview(value: unknown, depth: number): string {
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? String(value);
  if (depth === 0) return Array.isArray(value) ? '[…]' : '{…}';
  const items: [string | undefined, unknown][] = Array.isArray(value) ? value.map((item) => [undefined, item]) : Object.entries(value);
  const shown = items.slice(0, 10).map(([key, item]) => `${key === undefined ? '' : `${JSON.stringify(key)}:`}${preview(item, depth - 1)}`);
  if (items.length > 10) shown.push('…');
  return Array.isArray(value) ? `[${shown.join(',')}]` : `{${shown.join(',')}}`;
}

function expectation(issue: z.core.$ZodIssue, field: string): string {
  if (field === 'budget' && issue.code === 'invalid_type') return 'a byte size such as 8MiB, 500kB or 1000000';
  switch (issue.code) {
    case 'invalid_value':
      return `one of ${issue.values.map((value) => JSON.stringify(value)).join(', ')}`;
    case 'invalid_type':
      return issue.expected === 'int' ? 'an integer' : `a value of type ${issue.expected}`;
    case 'too_small':
      return issue.origin === 'array' ? `at least ${issue.minimum} items` : `a number ${issue.inclusive ? '≥' : '>'} ${issue.minimum}`;
    case 'too_big':
      return issue.origin === 'array' ? `at most ${issue.maximum} items` : `a number ${issue.inclusive ? '≤' : '<'} ${issue.maximum}`;
    default:
      return issue.message.replace(/^Invalid input: /, '').replace(/^expected /, '');
  }
}

/** Validates a merged config (file values overridden by flags) and fills in every default. */
export function resolveConfig(input: unknown, source = 'config'): Config {
  const result = configSchema.safeParse(input);
  if (!result.success) throw new ConfigError(result.error.issues.map((issue) => describeConfigIssue(issue, input, source)));
  const parsed = result.data;
  return { ...parsed, learningRate: parsed.learningRate ?? DEFAULT_LEARNING_RATE[parsed.optimizer] };
}

/** Steps in one epoch: the last partial batch is dropped, so every step sees `batchSize` samples. */
export function stepsPerEpoch(trainCount: number, batchSize: number): number {
  return Math.floor(trainCount / batchSize);
}
