/**
 * A finding: a training problem a detector saw, stored in `run.json` → `findings`. Kinds and
 * quantities are declared once here; the manifest schema and the detectors both use them.
 */
import { z } from '../zod.js';

export const FINDING_KINDS = ['vanishing-gradient', 'exploding-gradient', 'dead-neurons', 'saturation', 'nan-inf', 'stalled'] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];

/**
 * What was measured: the step columns of the run format (`loss`, `layerK.gradNorm`, …) by their
 * field name, and `activation` for the per-sample f(z) of the batch, which is not stored.
 */
export const FINDING_QUANTITIES = [
  'loss',
  'weightNorm',
  'activation',
  'fractionActive',
  'gradPreActivation',
  'gradNorm',
  'updateRatio',
  'probeActivation',
  'probeLoss',
] as const;
export type FindingQuantity = (typeof FINDING_QUANTITIES)[number];

const step = z.int().check(z.minimum(0));

export const findingSchema = z.object({
  kind: z.enum(FINDING_KINDS),
  /**
   * First step of the stretch in which the rule held. Dead or saturated neurons: the step from which
   * at least `minFraction` of the layer's neurons were dead (saturated), each counted from its own
   * first step, among those that counted when the finding was detected — where the network picture
   * shows the problem. The earliest of them may have begun before it; neurons that die later or come
   * back change `neurons` and `neuronSteps`, not this step.
   */
  firstStep: step,
  /** Last step the rule held; null while it still holds (in a finished run: up to its last step). */
  lastStep: z.nullable(step),
  /**
   * Step at which the detector could first report it, ≥ firstStep: firstStep + the rule's minimum
   * length − 1, or later (dead or saturated neurons: exactly that, when the threshold-th neuron's
   * stretch reached `minSteps`).
   */
  detectedAtStep: step,
  /** Dense layer (1 = first hidden layer, as in `layerK.*` columns); null for the loss. */
  layer: z.nullable(z.int().check(z.minimum(1))),
  /** Neuron indices within the layer, ascending; null where the finding is about a whole layer or the loss. */
  neurons: z.nullable(z.array(step)),
  /**
   * Dead or saturated neurons: per neuron of `neurons`, in the same order, the first step of its
   * unbroken stretch as of the latest step the finding held (a dead neuron's death step). Null for
   * the other kinds, and in runs recorded before schemaVersion 4 (absent there).
   */
  neuronSteps: z._default(z.nullable(z.array(step)), null),
  quantity: z.enum(FINDING_QUANTITIES),
  /** One line: what was seen, with the numbers that decided it. */
  explanation: z.string(),
  /** One line: what usually fixes it. */
  suggestion: z.string(),
});

export type Finding = z.infer<typeof findingSchema>;

/** Findings in the order people read them: by first step, then kind, then layer. */
export function compareFindings(a: Finding, b: Finding): number {
  return (
    a.firstStep - b.firstStep ||
    FINDING_KINDS.indexOf(a.kind) - FINDING_KINDS.indexOf(b.kind) ||
    (a.layer ?? 0) - (b.layer ?? 0) ||
    a.detectedAtStep - b.detectedAtStep
  );
}
