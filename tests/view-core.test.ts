import { describe, expect, it } from 'vitest';
import { FINDING_KINDS, type Finding, type FindingKind } from '../core/diagnostics/finding.js';
import { FINDING_VIEWS, findingTarget, markedNeurons } from '../core/view/findings.js';
import { bucketEdges, bucketStyle, EDGE_BUCKETS, edgeDensity } from '../core/view/edges.js';
import { MAX_DRAWN_NEURONS, MAX_INPUT_VALUES, tooLargeToDraw } from '../core/view/limits.js';
import { layoutNetwork } from '../core/view/layout.js';
import { DomainTracker, EMPTY_DOMAIN, extendDomain, legendStops, LOG_DECADES, normalize } from '../core/view/normalize.js';
import { DEFAULT_VIEW_STATE, formatViewState, parseViewState, type ViewState } from '../core/view/url-state.js';

describe('network layout', () => {
  it('places the input image and one column per dense layer, left to right, inside the canvas', () => {
    const layout = layoutNetwork([784, 128, 64, 10], 900, 500);
    expect(layout.columns.map((column) => column.layer)).toEqual([1, 2, 3]);
    expect(layout.input.x + layout.input.side).toBeLessThan(layout.columns[0]!.x);
    for (const [index, column] of layout.columns.entries()) {
      if (index > 0) expect(column.x).toBeGreaterThan(layout.columns[index - 1]!.x);
      expect(column.y[0]! - column.radius).toBeGreaterThanOrEqual(0);
      expect(column.y.at(-1)! + column.radius).toBeLessThanOrEqual(500);
      expect(column.radius).toBeGreaterThan(0);
    }
    expect(layout.columns[2]!.radius).toBeGreaterThan(layout.columns[0]!.radius);
  });

  it('refuses a network without a dense layer', () => {
    expect(() => layoutNetwork([784], 100, 100)).toThrow(RangeError);
  });
});

describe('normalisation', () => {
  const signed = extendDomain(EMPTY_DOMAIN, [-2, 0.001, 4, Number.NaN, Infinity]);

  it('ignores non-finite values in domains and classifies them apart', () => {
    expect(signed).toEqual({ min: -2, max: 4, minMagnitude: 0.001 });
    expect(normalize(Number.NaN, signed, 'global')).toBe('nan');
    expect(normalize(Infinity, signed, 'layer')).toBe('inf');
    expect(normalize(-Infinity, signed, 'step')).toBe('-inf');
  });

  it('maps every domain from zero: value over the largest magnitude, so brightness means magnitude', () => {
    expect(normalize(4, signed, 'global')).toBe(1);
    expect(normalize(-2, signed, 'global')).toBe(-0.5);
    expect(normalize(0, signed, 'global')).toBe(0);
    // A one-signed domain is not stretched from its smallest value: 2 of 1…3 is two thirds of the way from 0.
    const positive = extendDomain(EMPTY_DOMAIN, [1, 3]);
    expect(normalize(2, positive, 'layer')).toBeCloseTo(2 / 3, 12);
    expect(normalize(9, positive, 'layer')).toBe(1);
    expect(normalize(5, extendDomain(EMPTY_DOMAIN, [5]), 'step')).toBe(1);
    expect(normalize(3, EMPTY_DOMAIN, 'global')).toBe(0);
  });

  it('maps magnitudes by orders of magnitude on the log scale, keeping the sign', () => {
    const domain = extendDomain(EMPTY_DOMAIN, [1e-6, -1e-3, 1]);
    expect(normalize(1, domain, 'log')).toBe(1);
    expect(normalize(1e-6, domain, 'log')).toBe(0);
    expect(normalize(-1e-3, domain, 'log')).toBeCloseTo(-0.5, 10);
    expect(legendStops(domain, 'log')).toEqual([-1, -1e-6, 0, 1e-6, 1]);
  });

  it('spans at most LOG_DECADES decades on the log scale; smaller magnitudes sit at zero', () => {
    const domain = extendDomain(EMPTY_DOMAIN, [1e-12, 1]);
    expect(normalize(10 ** -LOG_DECADES, domain, 'log')).toBe(0);
    expect(normalize(1e-9, domain, 'log')).toBe(0);
    expect(normalize(10 ** (-LOG_DECADES / 2), domain, 'log')).toBeCloseTo(0.5, 10);
    expect(legendStops(domain, 'log')).toEqual([0, 10 ** -LOG_DECADES, 1]);
  });

  it('gives the legend the values at its ends and middle', () => {
    expect(legendStops(signed, 'global')).toEqual([-4, 0, 4]);
    expect(legendStops(extendDomain(EMPTY_DOMAIN, [1, 3]), 'layer')).toEqual([0, 1.5, 3]);
    expect(legendStops(EMPTY_DOMAIN, 'global')).toEqual([]);
  });

  it('labels each legend value once when the domain holds one value (every activation 0 after a zero init)', () => {
    const zeros = extendDomain(EMPTY_DOMAIN, [0, 0, 0]);
    for (const mode of ['global', 'layer', 'step', 'log'] as const) expect(legendStops(zeros, mode)).toEqual([0]);
    expect(legendStops(extendDomain(EMPTY_DOMAIN, [0.5, 0.5]), 'layer')).toEqual([0, 0.25, 0.5]);
    expect(legendStops(extendDomain(EMPTY_DOMAIN, [0, 2]), 'log')).toEqual([0, 2]);
  });

  it('tracks global, per-layer and per-step domains as chunks stream in', () => {
    const tracker = new DomainTracker();
    tracker.add(1, [0, 10]);
    tracker.add(2, [-1, 1]);
    expect(tracker.domain('global', 2, [])).toMatchObject({ min: -1, max: 10 });
    expect(tracker.domain('layer', 2, [])).toMatchObject({ min: -1, max: 1 });
    expect(tracker.domain('step', 1, [undefined, [2, 3], [0.5]])).toMatchObject({ min: 0.5, max: 3 });
    expect(tracker.domain('layer', 3, [])).toBe(EMPTY_DOMAIN);
  });
});

describe('view state in the URL', () => {
  it('round-trips every parameter and leaves defaults out', () => {
    const state: ViewState = {
      run: 'a b&c',
      compare: undefined,
      align: 'step',
      step: 120,
      view: 'gradient',
      neuron: { layer: 2, index: 7 },
      probe: 3,
      scale: 'log',
    };
    const query = formatViewState(state);
    expect(query).toBe('?run=a+b%26c&step=120&view=gradient&neuron=2.7&probe=3&scale=log');
    expect(parseViewState(new URLSearchParams(query))).toEqual({ state, problems: [] });
    expect(formatViewState(DEFAULT_VIEW_STATE)).toBe('');
  });

  it('falls back to defaults on malformed parameters and says which', () => {
    const { state, problems } = parseViewState(new URLSearchParams('run=x&step=-4&view=<b>&neuron=0.3&scale=huge&probe=1e9'));
    expect(state).toEqual({ ...DEFAULT_VIEW_STATE, run: 'x' });
    expect(problems).toEqual([
      'step="-4" is not a step number; showing step 0',
      'view="<b>" is not one of activation, gradient, class',
      'scale="huge" is not one of global, layer, step, log',
      'neuron="0.3" is not <layer>.<index> (layer from 1)',
      'probe="1e9" is not a probe number',
    ]);
  });
});

describe('edge buckets', () => {
  it('sorts edges by sign and strength on the scale, drops the faintest, and keeps non-finite apart', () => {
    const values = Float32Array.from([1, -1, 0.5, -0.02, 0, Number.NaN, 0.99]);
    // A domain whose largest magnitude is 2: strength = |value| / 2.
    const buckets = bucketEdges(values, (value) => Math.abs(value) / 2, Infinity, { buckets: 4, floor: 0.05 });
    expect(buckets.positive).toEqual([[2], [0, 6], [], []]);
    expect(buckets.negative).toEqual([[], [1], [], []]);
    expect(buckets.nonFinite).toEqual([5]);
  });

  it('strokes stronger buckets more opaque and wider, and thins every gap alike', () => {
    const styles = Array.from({ length: EDGE_BUCKETS }, (_, bucket) => bucketStyle(bucket, 1));
    for (let bucket = 1; bucket < EDGE_BUCKETS; bucket++) {
      expect(styles[bucket]!.alpha).toBeGreaterThan(styles[bucket - 1]!.alpha);
      expect(styles[bucket]!.width).toBeGreaterThanOrEqual(styles[bucket - 1]!.width);
    }
    expect(styles[0]!.width).toBe(1);
    expect(styles.at(-1)!.width).toBeGreaterThan(2);
    // One density for the picture, from its densest gap.
    expect(
      edgeDensity([
        { from: 128, to: 64 },
        { from: 64, to: 10 },
      ]),
    ).toBe(edgeDensity([{ from: 128, to: 64 }]));
    expect(edgeDensity([{ from: 4, to: 3 }])).toBe(1);
  });
});

describe('findings in the picture', () => {
  const finding = (kind: FindingKind, neurons: number[] | null): Finding => ({
    kind,
    firstStep: 12,
    lastStep: null,
    detectedAtStep: 31,
    layer: neurons ? 2 : null,
    neurons,
    neuronSteps: null,
    quantity: 'gradNorm',
    explanation: 'what was seen',
    suggestion: 'what fixes it',
  });

  it('set the view and scale that show them, their first step and their first neuron', () => {
    expect(findingTarget(finding('vanishing-gradient', null))).toEqual({
      step: 12,
      neuron: undefined,
      view: { view: 'gradient', scale: 'log' },
    });
    expect(findingTarget(finding('dead-neurons', [5, 9]))).toEqual({
      step: 12,
      neuron: { layer: 2, index: 5 },
      view: { view: 'activation', scale: 'layer' },
    });
    expect(findingTarget(finding('stalled', null)).view).toBeUndefined();
    // Every kind is decided, on purpose.
    for (const kind of FINDING_KINDS) expect(kind in FINDING_VIEWS).toBe(true);
    // With each neuron's own death step: the one that died first.
    expect(findingTarget({ ...finding('dead-neurons', [5, 9, 11]), neuronSteps: [20, 3, 12] }).neuron).toEqual({ layer: 2, index: 9 });
  });

  it('mark each dead neuron from its own death step, not all from the finding’s first', () => {
    const dead = { ...finding('dead-neurons', [5, 9, 11]), neuronSteps: [20, 3, 12] };
    expect([...markedNeurons([dead], 12).get(2)!].sort((a, b) => a - b)).toEqual([9, 11]);
    expect([...markedNeurons([dead], 25).get(2)!].sort((a, b) => a - b)).toEqual([5, 9, 11]);
    expect(markedNeurons([dead], 11).get(2)).toBeUndefined();
    // Older runs' findings, without neuronSteps: every neuron from the first step.
    expect([...markedNeurons([finding('dead-neurons', [5, 9])], 12).get(2)!]).toEqual([5, 9]);
  });
});

describe('what the viewer can draw', () => {
  it('refuses layers larger than it can lay out, naming the layer and the bound', () => {
    expect(tooLargeToDraw([{ size: 784 }, { size: 512 }, { size: 10 }])).toBeUndefined();
    expect(tooLargeToDraw([{ size: MAX_INPUT_VALUES }, { size: MAX_DRAWN_NEURONS }])).toBeUndefined();
    expect(tooLargeToDraw([{ size: 784 }, { size: 128 }, { size: 1e9 }])).toBe(
      'layer 2 has 1,000,000,000 neurons; the viewer draws layers of up to 16,384 neurons',
    );
    expect(tooLargeToDraw([{ size: MAX_INPUT_VALUES + 1 }, { size: 10 }])).toBe(
      'its input has 1,048,577 values; the viewer draws inputs of up to 1,048,576 values',
    );
  });
});
