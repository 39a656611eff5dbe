/**
 * The stored findings (run.json → findings) as the viewer shows them: which are present at a step,
 * which neurons to mark on the network, and where bookmarks sit on the timeline. Nothing here
 * detects anything: the recorder's detectors did that once.
 */
import type { Finding, FindingKind } from '../diagnostics/finding.js';

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

/** Neurons the network marks at `step`, per dense layer: those of per-neuron findings present then. */
export function markedNeurons(findings: readonly Finding[], step: number): Map<number, Set<number>> {
  const marked = new Map<number, Set<number>>();
  for (const finding of findings) {
    if (finding.layer === null || !finding.neurons || !presentAt(finding, step)) continue;
    const set = marked.get(finding.layer) ?? new Set<number>();
    for (const neuron of finding.neurons) set.add(neuron);
    marked.set(finding.layer, set);
  }
  return marked;
}

/** Where the findings go when a bookmark is chosen: their first step, and the first neuron they name. */
export function findingTarget(finding: Finding): { step: number; neuron: { layer: number; index: number } | undefined } {
  const neuron =
    finding.layer !== null && finding.neurons && finding.neurons.length > 0
      ? { layer: finding.layer, index: finding.neurons[0]! }
      : undefined;
  return { step: finding.firstStep, neuron };
}

/** "layer 2, 21 neurons" / "loss" — what a finding is about, in a few words. */
export function findingPlace(finding: Finding): string {
  if (finding.layer === null) return finding.quantity;
  const neurons = finding.neurons ? `, ${finding.neurons.length} neuron${finding.neurons.length === 1 ? '' : 's'}` : '';
  return `layer ${finding.layer}${neurons}`;
}
