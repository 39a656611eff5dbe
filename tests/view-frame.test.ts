/**
 * The pure parts of the compare and live views and of smooth scrubbing: frames and their
 * difference, alignment of two runs, level of detail, newest-step-wins and the live state.
 */
import { describe, expect, it } from 'vitest';
import type { NeuronQuantity } from '../core/format/quantities.js';
import { classPreference } from '../core/view/class-selectivity.js';
import { alignedSteps, cursorSpan, resampleToA, stepRatio } from '../core/view/align.js';
import { bucketEdges, EDGE_FLOOR, type EdgeBuckets } from '../core/view/edges.js';
import { layoutNetwork } from '../core/view/layout.js';
import { displayFrame, displayLayout, IDENTITY } from '../core/view/lod.js';
import { computeFrame, differenceFrame, differenceUnavailable, edgeStrength, type FrameSource, type Snapshot } from '../core/view/frame.js';
import { LatestOnly } from '../core/view/latest-only.js';
import { effectiveStatus, STALE_AFTER_MS, stoppedMessage } from '../core/format/run-status.js';
import { followState, STALLED_AFTER_MS } from '../core/view/live.js';
import { DomainTracker, LINK_LOG_DECADES } from '../core/view/normalize.js';
import { formatViewState, parseViewState, DEFAULT_VIEW_STATE } from '../core/view/url-state.js';

/** A run of `steps` steps over a 4-3-2 network whose values are simple functions of step, layer and neuron. */
function fakeRun(offset: number, steps = 10, snapshotSteps = [0, 4]): FrameSource {
  const layerSizes = [4, 3, 2];
  const activations = new DomainTracker();
  const gradients = new DomainTracker();
  const edgeDomains = { weight: new DomainTracker(), weightGrad: new DomainTracker() };
  const value = (step: number, layer: number, neuron: number) => offset + step + 10 * layer + neuron;
  const field = (step: number, layer: number, name: NeuronQuantity) =>
    Float32Array.from({ length: layerSizes[layer]! }, (_, neuron) => (name === 'gradPreActivation' ? -1 : 1) * value(step, layer, neuron));
  for (let step = 0; step < steps; step++)
    for (let layer = 1; layer < layerSizes.length; layer++) {
      activations.add(layer, field(step, layer, 'meanActivation'));
      gradients.add(layer, field(step, layer, 'gradPreActivation').map(Math.abs));
    }
  const snapshot = (step: number): Snapshot => ({
    step,
    weight: Float32Array.from({ length: 6 }, (_, edge) => offset + step + edge - 3),
    weightGrad: Float32Array.from({ length: 6 }, (_, edge) => edge - offset),
  });
  for (const step of snapshotSteps.filter((at) => at < steps)) {
    edgeDomains.weight.add(2, snapshot(step).weight);
    edgeDomains.weightGrad.add(2, snapshot(step).weightGrad);
  }
  return {
    layerSizes,
    neuronValues: (step, layer, name) => (step < steps ? field(step, layer, name) : undefined),
    probeLayerValues: (step, layer, _name, probe) =>
      step < steps ? field(step, layer, 'meanActivation').map((v) => v * probe) : undefined,
    meanInput: (step) => (step < steps ? new Float32Array(4).fill(step / steps) : undefined),
    snapshotAt: (layer, step) => {
      const kept = snapshotSteps.filter((at) => at <= step).at(-1);
      return layer === 2 && kept !== undefined ? snapshot(kept) : undefined;
    },
    domainTracker: (view) => (view === 'activation' ? activations : gradients),
    edgeDomainTracker: (matrix) => edgeDomains[matrix],
    // Two classes: neuron n prefers class n % 2, more strongly at later steps.
    classPreference: (step, layer) => {
      const neurons = layerSizes[layer]!;
      const means = Float32Array.from({ length: neurons * 2 }, (_, item) => (item % 2 === Math.floor(item / 2) % 2 ? step + 1 : 1));
      return step < steps ? classPreference(means, Uint8Array.of(1, 1), neurons) : undefined;
    },
  };
}

describe('frames', () => {
  it('shows each neuron’s preferred class and selectivity in the class view, with weights as edges', () => {
    const frame = computeFrame(fakeRun(0), { step: 3, view: 'class', scale: 'layer' });
    expect(Array.from(frame.preferred[0]!)).toEqual([0, 1, 0]);
    // Means 4 and 1, floor 1: (4 − 1) / (4 + 1 − 2) = 1.
    expect(Array.from(frame.values[0]!)).toEqual([1, 1, 1]);
    expect(frame.domains[0]).toMatchObject({ min: 0, max: 1 });
    expect(frame.edges[0]!.values).toEqual(computeFrame(fakeRun(0), { step: 3, view: 'activation', scale: 'layer' }).edges[0]!.values);
    expect(frame.edges[0]!.kind).toBe('weight');
    expect(computeFrame(fakeRun(0), { step: 30, view: 'class', scale: 'layer' }).values).toEqual([undefined, undefined]);
  });

  it('shows batch means, |gradients| in the gradient view, and the nearest earlier snapshot', () => {
    const run = fakeRun(0);
    const frame = computeFrame(run, { step: 6, view: 'gradient', scale: 'layer' });
    expect(Array.from(frame.values[0]!)).toEqual([16, 17, 18]);
    expect(Array.from(frame.values[1]!)).toEqual([26, 27]);
    // Per layer: the whole run's range of that layer.
    expect(frame.domains[0]).toMatchObject({ min: 10, max: 21 });
    expect(frame.staleWeights).toEqual([{ layer: 2, step: 4 }]);
    expect(frame.edges[0]).toMatchObject({ kind: 'weightGrad', staleStep: 4 });
    expect(Array.from(frame.edges[0]!.values)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(computeFrame(run, { step: 6, view: 'activation', scale: 'step' }).domains[1]).toMatchObject({ min: 16, max: 27 });
  });

  it('scales the links of every layer by one domain over the run in global and log scale, by their own in layer scale', () => {
    // Layer 2's weights into a 3-4-2 network, and layer 3's ten times larger.
    const source = fakeRun(0);
    const layerSizes = [4, 3, 4, 2];
    const matrices = {
      2: Float32Array.from({ length: 12 }, (_, edge) => (edge + 1) / 10),
      3: Float32Array.from({ length: 8 }, (_, edge) => edge + 1),
    };
    const weights = new DomainTracker();
    for (const [layer, values] of Object.entries(matrices)) weights.add(Number(layer), values);
    const run: FrameSource = {
      ...source,
      layerSizes,
      neuronValues: () => new Float32Array(4),
      snapshotAt: (layer) => {
        const weight = matrices[layer as 2 | 3];
        return weight && { step: 0, weight, weightGrad: weight };
      },
      edgeDomainTracker: () => weights,
    };
    const global = computeFrame(run, { step: 0, view: 'activation', scale: 'global' });
    expect(global.edges.map(({ domain }) => domain.max)).toEqual([8, 8]);
    // Layer 2's strongest link (1.2) is 15% of the largest (8); layer 3's is the largest.
    expect(edgeStrength(Math.fround(1.2), global.edges[0]!.domain, 'global')).toBeCloseTo(0.15, 6);
    expect(edgeStrength(8, global.edges[1]!.domain, 'global')).toBe(1);
    const layer = computeFrame(run, { step: 0, view: 'activation', scale: 'layer' });
    expect(layer.edges.map(({ domain }) => domain.max)).toEqual([Math.fround(1.2), 8]);
    expect(edgeStrength(Math.fround(1.2), layer.edges[0]!.domain, 'layer')).toBe(1);
    // Log scale: from the smallest magnitude kept (0.1) to the largest (8), or LINK_LOG_DECADES below it.
    expect(edgeStrength(0.8, global.edges[0]!.domain, 'log')).toBeCloseTo((Math.log10(0.8) + 1) / (Math.log10(8) + 1), 6);
    expect(edgeStrength(0.8, { min: 1e-9, max: 8, minMagnitude: 1e-9 }, 'log')).toBeCloseTo(
      1 - (Math.log10(8) - Math.log10(0.8)) / LINK_LOG_DECADES,
      6,
    );
  });

  it('draws a chosen probe’s own flow on the links: a·W forward, a·∂ℓ/∂z in the gradient view', () => {
    const base = fakeRun(0);
    const gradients = new Map([[2, Float32Array.of(0.5, -2)]]);
    const run: FrameSource = {
      ...base,
      probeLayerValues: (step, layer, name, probe) =>
        name === 'probeGradPreActivation' ? gradients.get(layer) : base.probeLayerValues(step, layer, name, probe),
    };
    const probe = { index: 2, input: new Float32Array(4) };
    // Layer 1's probe activations at step 5: (5 + 10 + n) × 2 = 30, 32, 34; W at step 4: edge + 1.
    const forward = computeFrame(run, { step: 5, view: 'activation', scale: 'layer', probe });
    expect(forward.edges[0]).toMatchObject({ kind: 'probeForward', staleStep: 4 });
    expect(Array.from(forward.edges[0]!.values)).toEqual([30, 60, 96, 128, 170, 204]);
    const backward = computeFrame(run, { step: 5, view: 'gradient', scale: 'global', probe });
    expect(backward.edges[0]).toMatchObject({ kind: 'probeGrad', staleStep: undefined });
    expect(Array.from(backward.edges[0]!.values)).toEqual([15, -60, 16, -64, 17, -68]);
    // One sample's flow is scaled by this step's values, whatever the scale.
    expect(backward.edges[0]!.domain).toMatchObject({ min: -68, max: 17 });
  });

  it('shows a probe’s own values and image, coloured by this step', () => {
    const input = new Float32Array([1, 0, 1, 0]);
    const frame = computeFrame(fakeRun(0), { step: 2, view: 'activation', scale: 'global', probe: { index: 2, input } });
    expect(Array.from(frame.values[0]!)).toEqual([24, 26, 28]);
    expect(frame.input).toBe(input);
    expect(frame.domains[0]).toMatchObject({ min: 24, max: 46 });
  });

  it('leaves layers that have not loaded empty', () => {
    const frame = computeFrame(fakeRun(0, 3), { step: 5, view: 'activation', scale: 'layer' });
    expect(frame.values).toEqual([undefined, undefined]);
    expect(frame.input).toBeUndefined();
  });

  it('subtracts two runs neuron by neuron and edge by edge, on a symmetric scale', () => {
    const a = fakeRun(0);
    const b = fakeRun(2);
    const options = { step: 5, view: 'activation', scale: 'layer' } as const;
    const difference = differenceFrame(computeFrame(a, options), computeFrame(b, { ...options, step: 4 }), { a, b }, 'activation');
    // A at step 5 minus B at step 4: (0 + 5) − (2 + 4) = −1 for every neuron.
    expect(Array.from(difference.values[0]!)).toEqual([-1, -1, -1]);
    expect(difference.domains[0]).toMatchObject({ min: -1, max: 1 });
    // Both runs' kept snapshot is step 4: weights differ by the offset, −2 on every edge.
    expect(Array.from(difference.edges[0]!.values)).toEqual([-2, -2, -2, -2, -2, -2]);
    expect(difference.edges[0]!.domain).toMatchObject({ min: -2, max: 2 });
  });

  it('says why runs of different shapes have no difference view', () => {
    expect(differenceUnavailable([784, 16, 10], [784, 16, 10])).toBeUndefined();
    expect(differenceUnavailable([784, 16, 10], [784, 32, 10])).toBe(
      'The difference view needs the same network shape; these runs are 784-16-10 and 784-32-10.',
    );
  });
});

describe('level of detail', () => {
  it('keeps the strongest edges up to the limit and counts the rest', () => {
    const values = Float32Array.from({ length: 1000 }, (_, edge) => (edge % 2 ? 1 : -1) * (edge + 1));
    const drawn = (buckets: EdgeBuckets) => [...buckets.positive, ...buckets.negative].flat();
    const strength = (value: number) => Math.abs(value) / 1000;
    const all = bucketEdges(values, strength);
    expect(all.omitted).toBe(0);
    const limited = bucketEdges(values, strength, 300);
    const kept = drawn(limited);
    expect(kept).toHaveLength(300);
    expect(limited.omitted).toBe(drawn(all).length - kept.length);
    // Nothing left out is stronger than anything kept by more than one bin of the strength histogram.
    const keptSet = new Set(kept);
    const weakestKept = Math.min(...kept.map((edge) => Math.abs(values[edge]!)));
    const strongestOmitted = Math.max(
      ...drawn(all)
        .filter((edge) => !keptSet.has(edge))
        .map((edge) => Math.abs(values[edge]!)),
    );
    expect(strongestOmitted).toBeLessThanOrEqual(weakestKept + (1000 * (1 - EDGE_FLOOR)) / 256);
    expect(bucketEdges(values, strength, 0).omitted).toBe(drawn(all).length);
    // Equal weights (a constant initialisation) all fall in one bin: the limit still holds.
    const constant = bucketEdges(new Float32Array(1000).fill(0.3), () => 1, 100);
    expect(drawn(constant)).toHaveLength(100);
    expect(constant.omitted).toBe(900);
  });

  it('applies to frames while scrubbing', () => {
    const layout = displayLayout(layoutNetwork([4, 3, 2], 400, 300), IDENTITY);
    const frame = displayFrame(computeFrame(fakeRun(0), { step: 5, view: 'activation', scale: 'layer' }), layout, 2);
    expect(frame.edgesOmitted).toBeGreaterThan(0);
    expect([...frame.edges[0]!.buckets.positive, ...frame.edges[0]!.buckets.negative].flat()).toHaveLength(2);
  });
});

describe('newest step wins', () => {
  it('applies only the newest request per tick and counts the dropped ones', () => {
    const ticks: (() => void)[] = [];
    const applied: number[] = [];
    const latest = new LatestOnly<number>(
      (tick) => ticks.push(tick),
      (step) => applied.push(step),
    );
    for (let step = 1; step <= 50; step++) latest.request(step);
    expect(ticks).toHaveLength(1);
    ticks.shift()!();
    expect(applied).toEqual([50]);
    expect(latest.dropped).toBe(49);
    latest.request(7);
    latest.cancel();
    ticks.shift()!();
    expect(applied).toEqual([50]);
  });
});

describe('aligning two runs', () => {
  const a = { stepsPerEpoch: 140, lastStep: 559, plannedSteps: 560 };
  const b = { stepsPerEpoch: 70, lastStep: 279, plannedSteps: 280 };

  it('by step: the same step, each clamped to what it has', () => {
    expect(alignedSteps(200, a, b, 'step')).toEqual({ a: 200, b: 200 });
    expect(alignedSteps(400, a, b, 'step')).toEqual({ a: 400, b: 279 });
    expect(cursorSpan(a, b, 'step')).toEqual({ planned: 560, last: 559 });
  });

  it('by epoch fraction: batch 128 takes half the steps of batch 64', () => {
    expect(stepRatio(a, b, 'epoch')).toBe(0.5);
    expect(alignedSteps(280, a, b, 'epoch')).toEqual({ a: 280, b: 140 });
    expect(cursorSpan(b, a, 'epoch')).toEqual({ planned: 280, last: 279 });
    expect(Array.from(resampleToA(Float32Array.from([0, 1, 2]), 6, 0.5))).toEqual([0, 1, 1, 2, 2, Number.NaN]);
  });

  it('falls back to steps when a run has no whole epoch', () => {
    expect(stepRatio(a, { ...b, stepsPerEpoch: 0 }, 'epoch')).toBe(1);
  });
});

describe('following a live run', () => {
  it('is live while run.json changes, stalled when it stops, finished with the status', () => {
    expect(followState('recording', 900)).toEqual({ state: 'recording' });
    expect(followState('recording', STALLED_AFTER_MS + 1000)).toMatchObject({
      state: 'stalled',
      message: expect.stringMatching(/No new data for 11 s/),
    });
    expect(followState('complete', 0)).toEqual({ state: 'finished', status: 'complete', message: 'The recording finished.' });
    expect(followState('failed', 0)).toMatchObject({ state: 'finished', status: 'failed' });
    // No heartbeat for longer than STALE_AFTER_MS: the recorder is gone, the run is interrupted.
    expect(followState('recording', STALE_AFTER_MS + 1, '2026-11-24T10:00:00.000Z')).toEqual({
      state: 'finished',
      status: 'interrupted',
      message: stoppedMessage('2026-11-24T10:00:00.000Z'),
    });
  });

  it('judges a recording run.json by its heartbeat', () => {
    const updatedAt = '2026-11-24T10:00:00.000Z';
    const at = (seconds: number) => Date.parse(updatedAt) + seconds * 1000;
    expect(effectiveStatus({ status: 'recording', updatedAt }, at(5))).toEqual({ status: 'recording', stopped: false });
    expect(effectiveStatus({ status: 'recording', updatedAt }, at(31))).toEqual({ status: 'interrupted', stopped: true });
    expect(effectiveStatus({ status: 'complete', updatedAt }, at(3600))).toEqual({ status: 'complete', stopped: false });
    // A time that cannot be trusted — not a date, or far in the future — is not a heartbeat: the run
    // is not shown as recording forever (the viewer following it says interrupted after 30 s too).
    expect(effectiveStatus({ status: 'recording', updatedAt: 'not a date' }, at(3600))).toEqual({ status: 'interrupted', stopped: true });
    expect(effectiveStatus({ status: 'recording', updatedAt }, at(-3600))).toEqual({ status: 'interrupted', stopped: true });
    expect(effectiveStatus({ status: 'recording', updatedAt }, at(-5))).toEqual({ status: 'recording', stopped: false });
    // The file's modification time, where the reader sees it, decides, as it does for the viewer.
    expect(effectiveStatus({ status: 'recording', updatedAt: 'not a date' }, at(3600), at(3590))).toEqual({
      status: 'recording',
      stopped: false,
    });
    expect(effectiveStatus({ status: 'recording', updatedAt }, at(5), at(-40))).toEqual({ status: 'interrupted', stopped: true });
  });
});

describe('compare links', () => {
  it('round-trip two names and the alignment, commas kept readable', () => {
    const state = { ...DEFAULT_VIEW_STATE, compare: ['run a', 'b'] as [string, string], align: 'epoch' as const, step: 3 };
    const query = formatViewState(state);
    expect(query).toBe('?compare=run+a,b&align=epoch&step=3');
    expect(parseViewState(new URLSearchParams(query))).toEqual({ state, problems: [] });
  });

  it('keep names that hold commas apart', () => {
    const state = { ...DEFAULT_VIEW_STATE, compare: ['a,1', 'b,2'] as [string, string] };
    expect(parseViewState(new URLSearchParams(formatViewState(state))).state.compare).toEqual(['a,1', 'b,2']);
  });

  it('report a malformed compare parameter', () => {
    expect(parseViewState(new URLSearchParams('compare=onlyone&align=sideways')).problems).toEqual([
      'compare="onlyone" is not two run names separated by a comma',
      'align="sideways" is not one of step, epoch',
    ]);
  });
});
