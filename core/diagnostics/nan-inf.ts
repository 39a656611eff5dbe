/**
 * NaN or ±Infinity: the first step where a recorded quantity stops being finite, and where. Each
 * step is scanned in the order values are computed — the weights the step starts from (their
 * norms), then forward (activations, fraction active, the loss, the probes' activations and
 * losses), then backward from the output (∂L/∂z, ‖∂L/∂W‖), then the update — so the first place
 * named is where it began; the others follow from it. Per-neuron arrays are means or sums over
 * the batch, so one non-finite sample shows. The update ratio ‖ΔW‖/‖W‖ is skipped while ‖W‖ = 0
 * (0/0 with all-zero weights is no overflow). O(neurons × probes) per step.
 */
import { EpisodeTracker } from './episodes.js';
import type { Finding, FindingQuantity } from './finding.js';
import type { Detector, StepStatistics } from './step-statistics.js';
import { formatNumber } from './wording.js';

interface Place {
  quantity: FindingQuantity;
  /** Dense layer, or null for the loss and probe losses. */
  layer: number | null;
  /** The first non-finite value there. */
  value: number;
  /** Neurons with a non-finite value, for per-neuron quantities. */
  neurons: number[] | null;
}

interface NanInfDetail {
  /** Where the first non-finite step had them, in computation order. */
  places: Place[];
}

function firstNonFinite(values: Float32Array, neurons: number): { value: number; neurons: number[] } | undefined {
  let value: number | undefined;
  let seen: Uint8Array | undefined;
  for (let index = 0; index < values.length; index++) {
    if (Number.isFinite(values[index]!)) continue;
    value ??= values[index]!;
    seen ??= new Uint8Array(neurons);
    seen[index % neurons] = 1;
  }
  if (value === undefined || !seen) return undefined;
  const found: number[] = [];
  seen.forEach((flag, neuron) => flag && found.push(neuron));
  return { value, neurons: found };
}

/** The step columns a finding quantity is read from, where the names differ. */
const COLUMN_OF: Partial<Record<FindingQuantity, string>> = { activation: 'meanActivation' };

/**
 * Every non-finite place of one step, in computation order; empty when all is finite. Quantities
 * the run does not record (`absent`, by step column) are not read.
 */
export function nonFinitePlaces({ loss, probeLoss, layers }: StepStatistics, absent: ReadonlySet<string> = new Set()): Place[] {
  const places: Place[] = [];
  const scalar = (quantity: FindingQuantity, layer: number | null, value: number) => {
    if (!Number.isFinite(value) && !absent.has(COLUMN_OF[quantity] ?? quantity)) places.push({ quantity, layer, value, neurons: null });
  };
  const perNeuron = (quantity: FindingQuantity, layer: number, values: Float32Array, neurons: number) => {
    if (absent.has(COLUMN_OF[quantity] ?? quantity)) return;
    const found = firstNonFinite(values, neurons);
    if (found) places.push({ quantity, layer, ...found });
  };
  layers.forEach((layer, index) => scalar('weightNorm', index + 1, layer.weightNorm));
  layers.forEach((layer, index) => {
    const neurons = layer.meanActivation.length;
    perNeuron('activation', index + 1, layer.meanActivation, neurons);
    perNeuron('fractionActive', index + 1, layer.fractionActive, neurons);
  });
  scalar('loss', null, loss);
  layers.forEach((layer, index) => perNeuron('probeActivation', index + 1, layer.probeActivation, layer.meanActivation.length));
  for (const value of probeLoss) {
    if (!Number.isFinite(value)) {
      scalar('probeLoss', null, value);
      break;
    }
  }
  for (let index = layers.length - 1; index >= 0; index--) {
    perNeuron('gradPreActivation', index + 1, layers[index]!.gradPreActivation, layers[index]!.meanActivation.length);
  }
  for (let index = layers.length - 1; index >= 0; index--) scalar('gradNorm', index + 1, layers[index]!.gradNorm);
  // ‖ΔW‖ / ‖W‖ is 0/0 while the weights are all zero (--init zeros): not an overflow.
  layers.forEach((layer, index) => layer.weightNorm !== 0 && scalar('updateRatio', index + 1, layer.updateRatio));
  return places;
}

const QUANTITY_NAMES: Record<FindingQuantity, string> = {
  loss: 'the loss',
  weightNorm: 'weight norm ‖W‖',
  activation: 'activation',
  fractionActive: 'fraction active',
  gradPreActivation: 'gradient ∂L/∂z',
  gradNorm: 'gradient norm ‖∂L/∂W‖',
  updateRatio: 'update ratio',
  probeActivation: 'probe activation',
  probeLoss: 'probe loss',
};

function describePlace(place: Place): string {
  return place.layer === null ? QUANTITY_NAMES[place.quantity] : `layer ${place.layer} ${QUANTITY_NAMES[place.quantity]}`;
}

export class NanInfDetector implements Detector {
  readonly #episodes = new EpisodeTracker<NanInfDetail>(1, () => ({ places: [] }));
  readonly #absent: ReadonlySet<string>;

  /** @param absent step columns the run does not record: never read */
  constructor(absent: ReadonlySet<string> = new Set()) {
    this.#absent = absent;
  }

  observe(statistics: StepStatistics): void {
    const wasOpen = this.#episodes.open !== undefined;
    const places = nonFinitePlaces(statistics, this.#absent);
    this.#episodes.observe(statistics.step, statistics.step, places.length > 0);
    const open = this.#episodes.open;
    if (open && !wasOpen && open.detail.places.length === 0) open.detail.places = places;
  }

  findings(): Finding[] {
    return this.#episodes.episodes.map((episode): Finding => {
      const [first, ...others] = episode.detail.places;
      const also =
        others.length === 0
          ? ''
          : `; then also in ${others.length > 4 ? `${others.length} other places, first ` : ''}${others.slice(0, 4).map(describePlace).join(', ')}`;
      return {
        kind: 'nan-inf',
        firstStep: episode.firstStep,
        lastStep: episode.lastStep,
        detectedAtStep: episode.detectedAtStep,
        layer: first!.layer,
        neurons: first!.neurons,
        neuronSteps: null,
        quantity: first!.quantity,
        explanation: `${formatNumber(first!.value)} first appeared at step ${episode.firstStep} in ${describePlace(first!)}${also}.`,
        suggestion:
          'Values overflowed: look for growth before this step (exploding-gradient), lower the learning rate (--lr), check the input for NaN.',
      };
    });
  }
}
