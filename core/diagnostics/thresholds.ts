/**
 * Thresholds of the training-problem detectors: the `diagnostics` object of the config, set by a
 * config file or by `--diagnostics '<json>'`. Every field has a default chosen so that the
 * default run (784-128-64-10, ReLU, SGD 0.1, 560 steps) has no finding and every lesson preset
 * has its own; the rules they feed are in the detectors' files and in docs/diagnostics.md.
 */
import { z } from '../zod.js';

const steps = z.int().check(z.minimum(1), z.maximum(1_000_000));
const fraction = z.number().check(z.gt(0), z.maximum(1));
const positive = z.number().check(z.gt(0));

export const diagnosticsSchema = z.strictObject({
  vanishingGradient: z.prefault(
    z.strictObject({
      /** Layer k's ‖∂L/∂W‖ below `ratio` × layer k+1's is far below it (0.1: one order of magnitude). */
      ratio: z._default(fraction, 0.1),
      /** ‖∂L/∂W‖ below this is near zero; it counts while some later layer's gradient norm is not. */
      nearZero: z._default(positive, 1e-6),
      /** Consecutive steps the rule must hold. */
      minSteps: z._default(steps, 20),
    }),
    {},
  ),
  explodingGradient: z.prefault(
    z.strictObject({
      /** Growth over the smallest running mean seen so far (100: two orders of magnitude). */
      growthFactor: z._default(z.number().check(z.gt(1)), 100),
      /** …and the loss must also be at least this many nats (chance on 10 classes is 2.3). */
      minLoss: z._default(positive, 10),
      /** …or a layer's ‖∂L/∂W‖ at least this (the default run's stay below 3). */
      minGradNorm: z._default(positive, 10),
      /** Consecutive steps the rule must hold; an overflow to ±Infinity counts at once. */
      minSteps: z._default(steps, 2),
    }),
    {},
  ),
  deadNeurons: z.prefault(
    z.strictObject({
      /** Steps a ReLU-family neuron must stay inactive on every batch sample and every probe to count as dead. */
      minSteps: z._default(steps, 20),
      /** Fraction of a layer's neurons that must be dead for a finding (at least one neuron). */
      minFraction: z._default(fraction, 0.1),
    }),
    {},
  ),
  saturation: z.prefault(
    z.strictObject({
      /**
       * A sigmoid/tanh unit is saturated on a sample when f′(z) is below this fraction of its maximum (0.25, 1).
       * With `sampleFraction`, also what "inactive" means for sigmoid and tanh in the recorded `layerK.fractionInactive`.
       */
      derivativeFraction: z._default(fraction, 0.05),
      /** …on at least this fraction of the batch, … */
      sampleFraction: z._default(fraction, 0.75),
      /** …for this many consecutive steps. */
      minSteps: z._default(steps, 20),
      /** Fraction of a layer's neurons that must be saturated for a finding (at least one neuron). */
      minFraction: z._default(fraction, 0.25),
    }),
    {},
  ),
  stalled: z.prefault(
    z.strictObject({
      /** Steps per block: the loss is compared block mean against block mean. */
      window: z._default(steps, 25),
      /** Blocks whose means differ by at most this fraction are flat. */
      tolerance: z._default(fraction, 0.02),
      /** Consecutive flat comparisons needed (2: three blocks, 75 steps by default). */
      windows: z._default(steps, 2),
      /** Flat only counts while the block mean loss is at least this many nats: not near zero. */
      minLoss: z._default(positive, 1),
    }),
    {},
  ),
});

export type DiagnosticsConfig = z.output<typeof diagnosticsSchema>;
export type DiagnosticsInput = z.input<typeof diagnosticsSchema>;

export const DEFAULT_DIAGNOSTICS: DiagnosticsConfig = diagnosticsSchema.parse({});

/** The thresholds that differ from their defaults, nested as in the config; `{}` when none do. */
export function changedThresholds(diagnostics: DiagnosticsConfig): DiagnosticsInput {
  const changed: Record<string, Record<string, number>> = {};
  for (const [detector, thresholds] of Object.entries(diagnostics)) {
    const defaults: Record<string, number> = DEFAULT_DIAGNOSTICS[detector as keyof DiagnosticsConfig];
    for (const [field, value] of Object.entries(thresholds)) {
      if (value !== defaults[field]) (changed[detector] ??= {})[field] = value;
    }
  }
  return changed;
}
