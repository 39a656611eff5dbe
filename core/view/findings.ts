/**
 * The stored findings (run.json → findings) as the viewer shows them: which are present at a step,
 * which neurons to mark on the network, and where bookmarks sit on the timeline. Nothing here
 * detects anything: the recorder's detectors did that once.
 */
import type { Finding, FindingKind } from '../diagnostics/finding.js';
import type { View } from '../format/quantities.js';
import type { ScaleMode } from './normalize.js';

/** Short labels for the timeline and the panel. */
export const FINDING_LABELS: Record<FindingKind, string> = {
  'vanishing-gradient': 'vanishing gradient',
  'exploding-gradient': 'exploding gradient',
  'dead-neurons': 'dead neurons',
  saturation: 'saturation',
  'nan-inf': 'NaN / Inf',
  stalled: 'stalled',
};

/** Whether a finding holds at `step` (a null lastStep: until the run's end). */
export function presentAt(finding: Finding, step: number): boolean {
  return step >= finding.firstStep && (finding.lastStep === null || step <= finding.lastStep);
}

/**
 * Neurons the network marks at `step`, per dense layer: those of per-neuron findings present then,
 * each from its own step (`neuronSteps`: when it died or saturated) where the finding gives one.
 */
export function markedNeurons(findings: readonly Finding[], step: number): Map<number, Set<number>> {
  const marked = new Map<number, Set<number>>();
  for (const finding of findings) {
    if (finding.layer === null || !finding.neurons || !presentAt(finding, step)) continue;
    const set = marked.get(finding.layer) ?? new Set<number>();
    finding.neurons.forEach((neuron, index) => {
      if ((finding.neuronSteps?.[index] ?? finding.firstStep) <= step) set.add(neuron);
    });
    marked.set(finding.layer, set);
  }
  return marked;
}

/**
 * What shows a finding in the picture: the view and scale that make it visible, its first step, and
 * the first neuron it names. A vanishing gradient is seen in the gradient view on the log scale (one
 * domain for every layer, so the links fade layer by layer); an exploding one, or NaN, on the global
 * scale; dead and saturated neurons in the activation view, each layer on its own scale.
 */
export const FINDING_VIEWS: Record<FindingKind, { view: View; scale: ScaleMode } | undefined> = {
  'vanishing-gradient': { view: 'gradient', scale: 'log' },
  'exploding-gradient': { view: 'gradient', scale: 'global' },
  'nan-inf': { view: 'gradient', scale: 'global' },
  'dead-neurons': { view: 'activation', scale: 'layer' },
  saturation: { view: 'activation', scale: 'layer' },
  // A stalled loss is a curve, not a place in the network: the view stays as it is.
  stalled: undefined,
};

/** Where the picture goes when a finding or its bookmark is chosen. */
export function findingTarget(finding: Finding): {
  step: number;
  neuron: { layer: number; index: number } | undefined;
  view: { view: View; scale: ScaleMode } | undefined;
} {
  // The neuron that went first: dead or saturated longest at the finding's first step.
  const neurons = finding.neurons ?? [];
  const first = neurons.reduce(
    (best, _, index) => ((finding.neuronSteps?.[index] ?? 0) < (finding.neuronSteps?.[best] ?? 0) ? index : best),
    0,
  );
  const neuron = finding.layer !== null && neurons.length > 0 ? { layer: finding.layer, index: neurons[first]! } : undefined;
  return { step: finding.firstStep, neuron, view: FINDING_VIEWS[finding.kind] };
}

/** "layer 2, 21 neurons" / "loss" — what a finding is about, in a few words. */
export function findingPlace(finding: Finding): string {
  if (finding.layer === null) return finding.quantity;
  const neurons = finding.neurons ? `, ${finding.neurons.length} neuron${finding.neurons.length === 1 ? '' : 's'}` : '';
  return `layer ${finding.layer}${neurons}`;
}
