/**
 * Thresholds of the training-problem detectors: the `diagnostics` object of the config, settable
 * from a config file (there are no flags for them). Every field has a default chosen so that the
 * default run (784-128-64-10, ReLU, SGD 0.1, 560 steps) has no finding and every lesson preset
 * has its own; the rules they feed are in the detectors' files and in docs/diagnostics.md.
 */
import { z } from 'zod';

const steps = z.number().int().min(1).max(1_000_000);
const fraction = z.number().gt(0).max(1);
const positive = z.number().gt(0);

export const diagnosticsSchema = z
  .object({
    vanishingGradient: z
      .object({
        /** Layer k's ‖∂L/∂W‖ below `ratio` × layer k+1's is far below it (0.1: one order of magnitude). */
        ratio: fraction.default(0.1),
        /** ‖∂L/∂W‖ below this is near zero; it counts while some later layer's gradient norm is not. */
        nearZero: positive.default(1e-6),
        /** Consecutive steps the rule must hold. */
        minSteps: steps.default(20),
      })
      .strict()
      .prefault({}),
    explodingGradient: z
      .object({
        /** Growth over the smallest running mean seen so far (100: two orders of magnitude). */
        growthFactor: z.number().gt(1).default(100),
        /** …and the loss must also be at least this many nats (chance on 10 classes is 2.3). */
        minLoss: positive.default(10),
        /** …or a layer's ‖∂L/∂W‖ at least this (the default run's stay below 3). */
        minGradNorm: positive.default(10),
        /** Consecutive steps the rule must hold; an overflow to ±Infinity counts at once. */
        minSteps: steps.default(2),
      })
      .strict()
      .prefault({}),
    deadNeurons: z
      .object({
        /** Steps a ReLU-family neuron must stay inactive on every batch sample and every probe to count as dead. */
        minSteps: steps.default(20),
        /** Fraction of a layer's neurons that must be dead for a finding (at least one neuron). */
        minFraction: fraction.default(0.1),
      })
      .strict()
      .prefault({}),
    saturation: z
      .object({
        /** A sigmoid/tanh unit is saturated on a sample when f′(z) is below this fraction of its maximum (0.25, 1). */
        derivativeFraction: fraction.default(0.05),
        /** …on at least this fraction of the batch, … */
        sampleFraction: fraction.default(0.75),
        /** …for this many consecutive steps. */
        minSteps: steps.default(20),
        /** Fraction of a layer's neurons that must be saturated for a finding (at least one neuron). */
        minFraction: fraction.default(0.25),
      })
      .strict()
      .prefault({}),
    stalled: z
      .object({
        /** Steps per block: the loss is compared block mean against block mean. */
        window: steps.default(25),
        /** Blocks whose means differ by at most this fraction are flat. */
        tolerance: fraction.default(0.02),
        /** Consecutive flat comparisons needed (2: three blocks, 75 steps by default). */
        windows: steps.default(2),
        /** Flat only counts while the block mean loss is at least this many nats: not near zero. */
        minLoss: positive.default(1),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type DiagnosticsConfig = z.output<typeof diagnosticsSchema>;
export type DiagnosticsInput = z.input<typeof diagnosticsSchema>;

export const DEFAULT_DIAGNOSTICS: DiagnosticsConfig = diagnosticsSchema.parse({});
