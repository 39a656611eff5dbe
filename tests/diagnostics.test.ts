/** The training-problem detectors on synthetic series: each rule, its thresholds at the boundary, short runs, recovery. */
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../core/config.js';
import { DeadNeuronsDetector } from '../core/diagnostics/dead-neurons.js';
import { Diagnostics } from '../core/diagnostics/diagnostics.js';
import { EpisodeTracker, MAX_EPISODES } from '../core/diagnostics/episodes.js';
import { ExplodingGradientDetector } from '../core/diagnostics/exploding-gradient.js';
import { findingSchema, type Finding } from '../core/diagnostics/finding.js';
import { NanInfDetector } from '../core/diagnostics/nan-inf.js';
import { SaturationDetector } from '../core/diagnostics/saturation.js';
import { StalledDetector } from '../core/diagnostics/stalled.js';
import type { Detector, LayerStepStatistics, StepStatistics } from '../core/diagnostics/step-statistics.js';
import { describeSteps, NO_FINDINGS, summarizeFindings } from '../core/diagnostics/summary.js';
import { DEFAULT_DIAGNOSTICS, diagnosticsSchema, type DiagnosticsInput } from '../core/diagnostics/thresholds.js';
import { VanishingGradientDetector } from '../core/diagnostics/vanishing-gradient.js';
import { parseManifest } from '../core/format/manifest.js';
import { ACTIVATION_FUNCTIONS, type Activation } from '../core/nn/activation.js';
import { markInactive } from '../core/nn/inactive.js';

const thresholds = (input: DiagnosticsInput = {}) => diagnosticsSchema.parse(input);

interface LayerSpec {
  neurons?: number;
  gradNorm?: number;
  weightNorm?: number;
  /** Every neuron's fraction active, or one per neuron. */
  fractionActive?: number | number[];
  /** Every batch sample's f(z) for every neuron (hidden layers). */
  activation?: number | number[];
  /** Every probe's f(z) for every neuron, or one per neuron. */
  probeActivation?: number | number[];
  meanActivation?: number | number[];
}

const BATCH = 4;
const PROBES = 2;

function filled(length: number, value: number | number[], repeat = 1): Float32Array {
  const values = new Float32Array(length * repeat);
  for (let index = 0; index < values.length; index++) values[index] = Array.isArray(value) ? value[index % length]! : value;
  return values;
}

/**
 * One step of a network with the given layers (the last is the output layer); healthy values unless
 * given. The hidden layers' inactive flags come from their f(z) and fraction active by `activation`'s
 * rule, as the writer computes them.
 */
function stepOf(step: number, loss: number, layers: LayerSpec[], activation: Activation = 'relu'): StepStatistics {
  return {
    step,
    loss,
    probeLoss: new Float32Array(PROBES).fill(loss),
    layers: layers.map((spec, index): LayerStepStatistics => {
      const neurons = spec.neurons ?? 4;
      const hidden = index < layers.length - 1;
      const fractionActive = filled(neurons, spec.fractionActive ?? 0.5);
      const inactive = hidden ? new Uint8Array(neurons) : undefined;
      if (inactive) {
        const values = filled(neurons, spec.activation ?? 0.5, BATCH);
        markInactive(ACTIVATION_FUNCTIONS[activation], fractionActive, values, DEFAULT_DIAGNOSTICS.saturation, inactive);
      }
      return {
        weightNorm: spec.weightNorm ?? 1,
        gradNorm: spec.gradNorm ?? 1,
        updateRatio: 0.01,
        meanActivation: filled(neurons, spec.meanActivation ?? 0.5),
        fractionActive,
        gradPreActivation: filled(neurons, 0.01),
        inactive,
        probeActivation: filled(neurons, spec.probeActivation ?? 0.5, PROBES),
      };
    }),
  };
}

/** Feeds steps 0 … count−1 and returns the findings. */
function run(detector: Detector, count: number, step: (index: number) => StepStatistics): Finding[] {
  for (let index = 0; index < count; index++) detector.observe(step(index));
  const findings = detector.findings();
  for (const finding of findings) expect(findingSchema.parse(finding)).toEqual(finding);
  return findings;
}

const span = (finding: Finding) => [finding.firstStep, finding.detectedAtStep, finding.lastStep];

describe('EpisodeTracker', () => {
  it('opens an episode when a stretch reaches its minimum length, not a step before', () => {
    const tracker = new EpisodeTracker<null>(3, () => null);
    tracker.observe(0, 0, true);
    tracker.observe(1, 1, true);
    expect(tracker.episodes).toEqual([]);
    tracker.observe(2, 2, true);
    expect(tracker.episodes).toEqual([{ firstStep: 0, lastStep: null, detectedAtStep: 2, detail: null }]);
    tracker.observe(3, 3, false);
    expect(tracker.episodes[0]!.lastStep).toBe(2);
  });

  it('opens at once when told (an overflow), and extends the last episode once it has kept MAX_EPISODES', () => {
    const tracker = new EpisodeTracker<null>(5, () => null);
    tracker.observe(0, 0, true, true);
    expect(tracker.open?.firstStep).toBe(0);
    for (let episode = 0; episode < MAX_EPISODES + 3; episode++) {
      tracker.observe(10 * episode + 1, 10 * episode + 1, false);
      for (let step = 10 * episode + 2; step < 10 * episode + 8; step++) tracker.observe(step, step, true);
    }
    expect(tracker.episodes).toHaveLength(MAX_EPISODES);
    expect(tracker.open).toBe(tracker.episodes.at(-1));
  });
});

describe('vanishing-gradient', () => {
  const detector = () => new VanishingGradientDetector(DEFAULT_DIAGNOSTICS.vanishingGradient);
  const network = (gradNorms: number[]) => gradNorms.map((gradNorm) => ({ gradNorm }));

  it('reports a layer whose gradient norm stays below ratio × the next layer’s for minSteps steps', () => {
    const findings = run(detector(), 30, (step) => stepOf(step, 2.3, network([1e-4, 1e-2, 1])));
    expect(findings.map((finding) => [finding.layer, ...span(finding)])).toEqual([
      [1, 0, 19, null],
      [2, 0, 19, null],
    ]);
    expect(findings[0]).toMatchObject({ kind: 'vanishing-gradient', quantity: 'gradNorm', neurons: null });
    expect(findings[0]!.explanation).toContain('below 0.1 × layer 2');
  });

  it('needs the whole stretch: one step short is nothing, and a ratio of exactly `ratio` is not below it', () => {
    expect(run(detector(), 19, (step) => stepOf(step, 2.3, network([1e-4, 1])))).toEqual([]);
    expect(run(detector(), 40, (step) => stepOf(step, 2.3, network([0.1, 1])))).toEqual([]);
    expect(run(detector(), 40, (step) => stepOf(step, 2.3, network([0.0999, 1])))).toHaveLength(1);
  });

  it('counts a near-zero gradient below a layer that has one, but not a network where nothing flows', () => {
    const findings = run(detector(), 20, (step) => stepOf(step, 2.3, network([0, 0, 0.5])));
    expect(findings.map((finding) => finding.layer)).toEqual([1, 2]);
    expect(run(detector(), 40, (step) => stepOf(step, 2.3, network([0, 0, 0])))).toEqual([]);
  });

  it('ends when the gradient recovers, ignores NaN, and is quiet on a healthy series', () => {
    const recovered = run(detector(), 60, (step) => stepOf(step, 2.3, network([step < 25 ? 1e-3 : 1.5, 1])));
    expect(recovered.map(span)).toEqual([[0, 19, 24]]);
    expect(run(detector(), 40, (step) => stepOf(step, NaN, network([NaN, 1])))).toEqual([]);
    expect(run(detector(), 100, (step) => stepOf(step, 1, network([1.5, 0.7, 0.4])))).toEqual([]);
  });
});

describe('exploding-gradient', () => {
  const detector = (input: DiagnosticsInput['explodingGradient'] = {}) =>
    new ExplodingGradientDetector(thresholds({ explodingGradient: input }).explodingGradient);

  it('reports the loss and a layer’s gradient norm growing by orders of magnitude for minSteps steps', () => {
    const findings = run(detector(), 30, (step) =>
      stepOf(step, step < 20 ? 2.3 : 2.3 * 10 ** (step - 18), [{ gradNorm: step < 20 ? 1 : 10 ** (step - 18) }, {}]),
    );
    // Step 20 is 23 nats and 100 × the gradient: the first step at both floors and the growth factor.
    expect(findings.map((finding) => [finding.layer, finding.quantity, ...span(finding)])).toEqual([
      [null, 'loss', 20, 21, null],
      [1, 'gradNorm', 20, 21, null],
    ]);
    expect(findings[0]!.explanation).toMatch(/^The loss grew to .*× its smallest running mean \(2\.3\), from step 20\.$/);
  });

  it('ignores a one-step spike, growth below the floors, and counts growth of exactly growthFactor', () => {
    expect(run(detector(), 40, (step) => stepOf(step, step === 30 ? 500 : 2.3, [{}]))).toEqual([]);
    // A vanishing gradient that recovers grows 1000× but stays far below minGradNorm.
    expect(run(detector(), 40, (step) => stepOf(step, 2.3, [{ gradNorm: step < 20 ? 1e-7 : 1e-4 }, {}]))).toEqual([]);
    const exact = run(detector({ minGradNorm: 0.5 }), 40, (step) => stepOf(step, 2.3, [{ gradNorm: step < 20 ? 0.01 : 1 }, {}]));
    expect(exact.map(span)).toEqual([[20, 21, null]]);
  });

  it('counts an overflow to Infinity at once, and NaN (from step 0) not at all', () => {
    const overflow = run(detector(), 11, (step) => stepOf(step, 2.3, [{ gradNorm: step === 10 ? Infinity : 1 }, {}]));
    expect(overflow.map(span)).toEqual([[10, 10, null]]);
    expect(overflow[0]!.explanation).toContain('overflowed to Infinity');
    expect(run(detector(), 10, (step) => stepOf(step, NaN, [{ gradNorm: NaN }, {}]))).toEqual([]);
  });

  it('ends when the values come back down', () => {
    const findings = run(detector(), 40, (step) => stepOf(step, step >= 20 && step < 25 ? 1000 : 2.3, [{}]));
    expect(findings.map(span)).toEqual([[20, 21, 24]]);
  });
});

describe('dead-neurons', () => {
  const detector = (activation: 'relu' | 'leaky-relu' | 'sigmoid' = 'relu', input: DiagnosticsInput['deadNeurons'] = {}) =>
    new DeadNeuronsDetector(activation, thresholds({ deadNeurons: input }).deadNeurons);
  /** A 10-neuron hidden layer whose neurons in `dead` are off for the batch and the probes. */
  const layer = (dead: number[], probeActive: number[] = []): LayerSpec => ({
    neurons: 10,
    fractionActive: Array.from({ length: 10 }, (_, neuron) => (dead.includes(neuron) ? 0 : 0.4)),
    probeActivation: Array.from({ length: 10 }, (_, neuron) => (dead.includes(neuron) && !probeActive.includes(neuron) ? 0 : 0.3)),
  });

  it('reports neurons off on every sample and every probe for minSteps steps, dead since their first step', () => {
    const findings = run(detector(), 30, (step) => stepOf(step, 2, [layer(step >= 3 ? [2] : []), { fractionActive: 0 }]));
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      kind: 'dead-neurons',
      layer: 1,
      neurons: [2],
      neuronSteps: [3],
      firstStep: 3,
      detectedAtStep: 22,
      lastStep: null,
    });
    expect(findings[0]!.explanation).toBe(
      '1 of 10 neurons in layer 1 (relu) died (inactive on every batch sample and every probe for 20+ steps in a row): ' +
        'the first at step 3, median death step 3; 1 (≥ 10% of the layer) was dead by step 3.',
    );
    expect(findings[0]!.suggestion).toContain('--lr');
  });

  it('gives each neuron its own death step, and starts where the threshold count was reached, not at the first death', () => {
    // Neurons 1, 4, 6 and 9 die at steps 1, 4, 6 and 9 and stay dead; neuron 2 is dead from 2 to 11
    // only (too short); neuron 0 dies at 40. minFraction 0.3 of 10 neurons: 3 must be dead.
    const deaths = new Map([
      [1, 1],
      [4, 4],
      [6, 6],
      [9, 9],
      [0, 40],
    ]);
    const deadAt = (step: number) => [
      ...[...deaths].filter(([, died]) => step >= died).map(([neuron]) => neuron),
      ...(step >= 2 && step < 12 ? [2] : []),
    ];
    const stepAt = (step: number) => stepOf(step, 2, [layer(deadAt(step)), {}]);
    const [early] = run(detector('relu', { minFraction: 0.3 }), 30, stepAt);
    // The third death (step 6) is the threshold; it was reported once it had lasted 20 steps.
    expect(early).toMatchObject({ firstStep: 6, detectedAtStep: 25, neurons: [1, 4, 6, 9], neuronSteps: [1, 4, 6, 9] });
    expect(early!.explanation).toContain('4 of 10 neurons in layer 1 (relu) died');
    expect(early!.explanation).toContain(': the first at step 1, median death step 5; 3 (≥ 30% of the layer) were dead by step 6.');
    const [later] = run(detector('relu', { minFraction: 0.3 }), 70, stepAt);
    expect(later).toMatchObject({ firstStep: 6, detectedAtStep: 25, neurons: [0, 1, 4, 6, 9], neuronSteps: [40, 1, 4, 6, 9] });
    expect(later!.explanation).toContain(': the first at step 1, median death step 6; 3 (≥ 30% of the layer) were dead by step 6.');
  });

  it('says when an ended finding ended, and advises on initialisation only when most neurons were dead from step 0', () => {
    // One neuron dead from step 0, two from step 5 and 7: the median death step is 5, training killed them.
    const mostlyLater = run(detector(), 30, (step) =>
      stepOf(step, 2, [layer([0, ...(step >= 5 ? [3] : []), ...(step >= 7 ? [8] : [])]), {}]),
    );
    expect(mostlyLater[0]).toMatchObject({ firstStep: 0, neuronSteps: [0, 5, 7] });
    expect(mostlyLater[0]!.suggestion).toContain('--lr');
    const revived = run(detector('relu', { minFraction: 0.4 }), 50, (step) => stepOf(step, 2, [layer(step < 30 ? [0, 1, 2, 3] : [0]), {}]));
    expect(revived[0]).toMatchObject({ firstStep: 0, lastStep: 29, neuronSteps: [0, 0, 0, 0] });
    expect(revived[0]!.explanation).toMatch(
      /median death step 0; 4 \(≥ 40% of the layer\) were dead by step 0\. From step 30 fewer than 2 were dead\.$/,
    );
    expect(revived[0]!.suggestion).toContain('--init he');
  });

  it('does not count a neuron one probe still reaches, a short run, or a layer under minFraction', () => {
    expect(run(detector(), 40, (step) => stepOf(step, 2, [layer([2], [2]), {}]))).toEqual([]);
    expect(run(detector(), 19, (step) => stepOf(step, 2, [layer([2]), {}]))).toEqual([]);
    expect(run(detector('relu', { minFraction: 0.2 }), 40, (step) => stepOf(step, 2, [layer([2]), {}]))).toEqual([]);
    expect(run(detector('relu', { minFraction: 0.2 }), 40, (step) => stepOf(step, 2, [layer([2, 7]), {}]))).toHaveLength(1);
  });

  it('says "from step 0" neurons need another initialisation, and ends when they revive', () => {
    const zeros = run(detector(), 25, (step) => stepOf(step, 2.3, [layer([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]), {}]));
    expect(zeros[0]).toMatchObject({ firstStep: 0, detectedAtStep: 19, neurons: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] });
    expect(zeros[0]!.neuronSteps).toEqual(new Array(10).fill(0));
    expect(zeros[0]!.suggestion).toContain('--init he');
    const revived = run(detector(), 50, (step) => stepOf(step, 2, [layer(step < 30 ? [4] : []), {}]));
    expect(revived.map(span)).toEqual([[0, 19, 29]]);
  });

  it('applies to the ReLU family only', () => {
    expect(run(detector('leaky-relu'), 20, (step) => stepOf(step, 2, [layer([1]), {}]))).toHaveLength(1);
    expect(run(detector('sigmoid'), 40, (step) => stepOf(step, 2, [layer([1]), {}]))).toEqual([]);
  });
});

describe('saturation', () => {
  const detector = (activation: 'tanh' | 'sigmoid' | 'relu') => new SaturationDetector(activation, DEFAULT_DIAGNOSTICS.saturation);

  it('reports tanh and sigmoid units pinned at their bounds, whichever bound', () => {
    const tanh = run(detector('tanh'), 20, (step) => stepOf(step, 2, [{ activation: [0.99, -0.99, 0.2, 0.99] }, {}], 'tanh'));
    expect(tanh).toHaveLength(1);
    expect(tanh[0]).toMatchObject({ kind: 'saturation', layer: 1, neurons: [0, 1, 3], quantity: 'activation', firstStep: 0 });
    const sigmoid = run(detector('sigmoid'), 20, (step) => stepOf(step, 2, [{ activation: [0.995, 0.005, 0.5, 0.5] }, {}], 'sigmoid'));
    expect(sigmoid[0]!.neurons).toEqual([0, 1]);
  });

  it('gives each unit its own onset step and the numbers that decided it', () => {
    // Unit 0 pinned from step 2, unit 3 from step 5; one unit (25% of 4) is the threshold.
    const pinned = (step: number) => [step >= 2 ? 0.99 : 0.2, 0.2, 0.2, step >= 5 ? -0.99 : 0.2];
    const findings = run(detector('tanh'), 30, (step) => stepOf(step, 2, [{ activation: pinned(step) }, {}], 'tanh'));
    expect(findings[0]).toMatchObject({ firstStep: 2, detectedAtStep: 21, neurons: [0, 3], neuronSteps: [2, 5] });
    expect(findings[0]!.explanation).toBe(
      '2 of 4 units in layer 1 (tanh) saturated (f′(z) below 5% of its maximum on ≥ 75% of the batch for 20+ steps in a row): ' +
        'the first at step 2, median onset step 3.5; 1 (≥ 25% of the layer) was saturated by step 2.',
    );
  });

  it('uses the derivative threshold strictly: f′(z) of exactly 5% of its maximum is not saturated', () => {
    // tanh f′ = 1 − a²: a = √0.95 gives 0.05 up to rounding; just inside and outside it.
    const inside = run(detector('tanh'), 20, (step) => stepOf(step, 2, [{ activation: 0.976 }, {}], 'tanh'));
    expect(inside).toHaveLength(1);
    expect(run(detector('tanh'), 20, (step) => stepOf(step, 2, [{ activation: 0.974 }, {}], 'tanh'))).toEqual([]);
  });

  it('ignores ReLU networks, short runs and units in their working range', () => {
    expect(run(detector('relu'), 40, (step) => stepOf(step, 2, [{ activation: 50 }, {}]))).toEqual([]);
    expect(run(detector('tanh'), 19, (step) => stepOf(step, 2, [{ activation: 0.999 }, {}], 'tanh'))).toEqual([]);
    expect(run(detector('tanh'), 40, (step) => stepOf(step, 2, [{ activation: 0.6 }, {}], 'tanh'))).toEqual([]);
  });
});

describe('nan-inf', () => {
  it('reports NaN from step 0, in the loss', () => {
    const findings = run(new NanInfDetector(), 3, (step) => stepOf(step, NaN, [{}, {}]));
    expect(findings).toEqual([
      expect.objectContaining({ kind: 'nan-inf', firstStep: 0, detectedAtStep: 0, lastStep: null, layer: null, quantity: 'loss' }),
    ]);
    expect(findings[0]!.explanation).toMatch(/^NaN first appeared at step 0 in the loss; then also in probe loss\.$/);
  });

  it('names the first place in computation order: the weights before the loss, the output gradient before the lower ones', () => {
    const weights = run(new NanInfDetector(), 1, (step) => stepOf(step, NaN, [{ weightNorm: NaN }, {}]));
    expect(weights[0]).toMatchObject({ layer: 1, quantity: 'weightNorm' });
    const gradients = run(new NanInfDetector(), 1, (step) => stepOf(step, 2, [{ gradNorm: Infinity }, { gradNorm: Infinity }]));
    expect(gradients[0]).toMatchObject({ layer: 2, quantity: 'gradNorm' });
    expect(gradients[0]!.explanation).toContain('Infinity first appeared at step 0 in layer 2 gradient norm');
  });

  it('lists the neurons of a per-neuron quantity, ends when values are finite again, ignores 0/0 update ratios of zero weights', () => {
    const detector = new NanInfDetector();
    const findings = run(detector, 10, (step) => stepOf(step, 2, [{ meanActivation: step >= 5 && step < 7 ? [0, 0, NaN, 0] : 0.5 }, {}]));
    expect(findings).toEqual([expect.objectContaining({ layer: 1, quantity: 'activation', neurons: [2], firstStep: 5, lastStep: 6 })]);
    const zeros = (step: number) => {
      const statistics = stepOf(step, 2.3, [{ weightNorm: 0 }, { weightNorm: 0 }]);
      for (const layer of statistics.layers) layer.updateRatio = NaN;
      return statistics;
    };
    expect(run(new NanInfDetector(), 5, zeros)).toEqual([]);
  });
});

describe('stalled', () => {
  const detector = (input: DiagnosticsInput['stalled'] = {}) => new StalledDetector(thresholds({ stalled: input }).stalled);

  it('reports a loss flat far from zero over three blocks, from the first block', () => {
    const findings = run(detector(), 100, (step) => stepOf(step, 2.3 + 0.01 * (step % 2), [{}, { neurons: 10 }]));
    expect(findings.map(span)).toEqual([[0, 74, null]]);
    expect(findings[0]).toMatchObject({ kind: 'stalled', layer: null, quantity: 'loss' });
    expect(findings[0]!.explanation).toContain('chance level');
    expect(run(detector(), 74, (step) => stepOf(step, 2.3, [{}, {}]))).toEqual([]);
  });

  it('ignores a flat loss near zero, a falling loss, and ends when the loss falls again', () => {
    expect(run(detector(), 200, (step) => stepOf(step, 0.05, [{}, {}]))).toEqual([]);
    expect(run(detector(), 200, (step) => stepOf(step, 2.3 * 0.99 ** step, [{}, {}]))).toEqual([]);
    const recovered = run(detector(), 200, (step) => stepOf(step, step < 100 ? 2.3 : 2.3 * 0.97 ** (step - 99), [{}, {}]));
    expect(recovered.map(span)).toEqual([[0, 74, 99]]);
  });

  it('is flat at exactly `tolerance` of the earlier block and not beyond it', () => {
    // Each block mean 1/32 below the one before (exact in binary), or the last one a little lower.
    const blocks = (means: number[]) => (step: number) => stepOf(step, means[Math.floor(step / 25)]!, [{}, {}]);
    expect(run(detector({ tolerance: 1 / 32 }), 75, blocks([4, 3.875, 3.875 - 3.875 / 32]))).toHaveLength(1);
    expect(run(detector({ tolerance: 1 / 32 }), 75, blocks([4, 3.875, 3.75]))).toEqual([]);
  });

  it('breaks the stretch on a non-finite loss and starts again after it', () => {
    expect(run(detector(), 125, (step) => stepOf(step, step === 60 ? NaN : 2.3, [{}, {}]))).toEqual([]);
    const again = run(detector(), 150, (step) => stepOf(step, step === 60 ? NaN : 2.3, [{}, {}]));
    expect(again.map(span)).toEqual([[75, 149, null]]);
  });
});

describe('Diagnostics', () => {
  it('is quiet on a healthy series, and sorts what every detector found by first step', () => {
    const healthy = new Diagnostics('relu');
    for (let step = 0; step < 300; step++) healthy.observe(stepOf(step, 2.3 * 0.99 ** step, [{ gradNorm: 1.5 }, { gradNorm: 0.8 }]));
    expect(healthy.findings()).toEqual([]);

    const broken = new Diagnostics('relu');
    for (let step = 0; step < 80; step++) {
      broken.observe(stepOf(step, step < 78 ? 2.3 : NaN, [{ fractionActive: 0, probeActivation: 0, gradNorm: 0 }, { gradNorm: 0 }]));
    }
    expect(broken.findings().map((finding) => [finding.kind, finding.firstStep])).toEqual([
      ['dead-neurons', 0],
      ['stalled', 0],
      ['nan-inf', 78],
    ]);
  });

  it('refuses steps out of order, saying which step it expected', () => {
    const diagnostics = new Diagnostics('relu');
    diagnostics.observe(stepOf(0, 2, [{}, {}]));
    expect(() => diagnostics.observe(stepOf(2, 2, [{}, {}]))).toThrowError('Diagnostics.observe: expected step 1, found step 2');
  });

  it('summarizes findings in one line each with their fix, and says when there are none', () => {
    expect(summarizeFindings([])).toEqual([NO_FINDINGS]);
    expect(describeSteps({ firstStep: 3, lastStep: 3 })).toBe('at step 3');
    const lines = summarizeFindings([
      {
        kind: 'stalled',
        firstStep: 0,
        lastStep: 99,
        detectedAtStep: 74,
        layer: null,
        neurons: null,
        neuronSteps: null,
        quantity: 'loss',
        explanation: 'Flat.',
        suggestion: 'Fix it.',
      },
    ]);
    expect(lines).toEqual(['Findings (1):', '  stalled, steps 0–99: Flat.', '    fix: Fix it.']);
  });
});

describe('thresholds and the run format', () => {
  it('are part of the config with defaults, and refuse bad values naming the nested field', () => {
    expect(resolveConfig({}).diagnostics).toEqual(DEFAULT_DIAGNOSTICS);
    expect(resolveConfig({ diagnostics: { stalled: { window: 10 } } }).diagnostics.stalled).toEqual({
      ...DEFAULT_DIAGNOSTICS.stalled,
      window: 10,
    });
    expect(() => resolveConfig({ diagnostics: { stalled: { window: 0 } } }, 'run.yaml')).toThrowError(
      'run.yaml: field "diagnostics.stalled.window" (--diagnostics): got 0, expected a number ≥ 1',
    );
    expect(() => resolveConfig({ diagnostics: { deadNeurons: { steps: 5 } } }, 'run.yaml')).toThrowError(
      'run.yaml: unknown field "steps" in "diagnostics.deadNeurons"; allowed: minSteps, minFraction',
    );
  });

  it('keep runs recorded before findings readable (findings default to []) and validate findings', () => {
    const manifest = {
      schemaVersion: 1,
      name: 'old',
      status: 'complete',
      createdAt: '',
      updatedAt: '',
      config: { learningRate: 0.1 },
      layers: [
        { index: 0, size: 1, activation: 'input' },
        { index: 1, size: 10, activation: 'softmax' },
      ],
      dataset: {
        name: 'x',
        trainCount: 1,
        testCount: 1,
        inputShape: [1],
        classNames: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'],
        sha256: '',
      },
      engine: { name: 'wasm', versions: {} },
      reproduce: '',
      plannedSteps: 0,
      stepCount: 0,
      chunkSteps: 16,
      weightStrides: [],
      chunks: [],
      probes: null,
      finalEval: null,
      divergedAtStep: null,
    };
    const parsed = parseManifest('old/run.json', manifest);
    expect(parsed.findings).toEqual([]);
    expect(parsed.config.preset).toBeNull();
    expect(() => parseManifest('bad/run.json', { ...manifest, findings: [{ kind: 'gremlins' }] })).toThrowError(
      /field "findings\.0\.kind"/,
    );
    // A finding recorded before neuronSteps existed reads with null; one whose steps do not pair with its neurons is refused.
    const dead = {
      kind: 'dead-neurons',
      firstStep: 1,
      lastStep: null,
      detectedAtStep: 21,
      layer: 1,
      neurons: [0, 2],
      quantity: 'fractionActive',
      explanation: 'Dead.',
      suggestion: 'Fix it.',
    };
    expect(parseManifest('old/run.json', { ...manifest, findings: [dead] }).findings[0]!.neuronSteps).toBeNull();
    expect(parseManifest('new/run.json', { ...manifest, findings: [{ ...dead, neuronSteps: [1, 4] }] }).findings[0]!.neuronSteps).toEqual([
      1, 4,
    ]);
    expect(() => parseManifest('bad/run.json', { ...manifest, findings: [{ ...dead, neuronSteps: [1] }] })).toThrowError(
      'bad/run.json: field "findings.0.neuronSteps": 1 steps for 2 neurons',
    );
  });
});
