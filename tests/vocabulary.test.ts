/**
 * The vocabulary (core/format/quantities.ts) and what derives from it: every column, view and
 * activation function is declared once and consistently; runs of the earlier format still open;
 * class selectivity means what docs/run-format.md says.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { linkColumns, probeColumns, stepColumns, weightColumns } from '../core/format/columns.js';
import { dropoutLabel, parseManifest, type RunManifest, SCHEMA_VERSION } from '../core/format/manifest.js';
import { QUANTITIES, QUANTITY_NAMES, quantity, VIEW_SPECS, VIEWS } from '../core/format/quantities.js';
import { ACTIVATION_FUNCTIONS, ACTIVATIONS } from '../core/nn/activation.js';
import { classPreference } from '../core/view/class-selectivity.js';
import { TypedColumns } from '../core/format/typed-columns.js';
import { CLASS_BLOCK_STEPS, classBlockMeans } from '../core/view/chunk-summary.js';
import { chunksSpanning, classHistory, classMeansOver } from '../core/view/run-series.js';
import { openRunFolder } from '../recorder/open-run.js';
import { ROOT } from './helpers.js';

const SHAPE = { inputSize: 12, layerSizes: [5, 4, 3], batchSize: 8, probeCount: 2, classCount: 3, schemaVersion: SCHEMA_VERSION };

describe('the vocabulary', () => {
  it('puts every quantity in exactly one column of its file, and no column outside it', () => {
    const columns = [...stepColumns(SHAPE), ...weightColumns(5, 4), ...linkColumns(5, 4), ...probeColumns(12)];
    for (const name of QUANTITY_NAMES) {
      const spec = QUANTITIES[name];
      const perLayer = ['layer', 'neuron', 'neuronClass', 'probeNeuron'].includes(spec.shape);
      expect(
        columns.filter((column) => column.quantity === name),
        name,
      ).toHaveLength(perLayer ? SHAPE.layerSizes.length : 1);
    }
    expect(columns.every((column) => column.quantity !== undefined && column.doc === quantity(column.quantity).meaning)).toBe(true);
  });

  it('gives every view a per-neuron quantity, and every probe twin its probe shape', () => {
    expect(Object.keys(VIEW_SPECS).sort()).toEqual([...VIEWS].sort());
    for (const view of VIEWS) {
      const shown = quantity(VIEW_SPECS[view].quantity);
      expect(['neuron', 'neuronClass'], view).toContain(shown.shape);
      expect(new Set(VIEWS.map((other) => VIEW_SPECS[other].key)).size).toBe(VIEWS.length);
      if (shown.probeTwin) expect(quantity(shown.probeTwin).shape).toBe('probeNeuron');
    }
  });

  it('describes each activation function by an f′ that matches its f', () => {
    for (const name of ACTIVATIONS) {
      const fn = ACTIVATION_FUNCTIONS[name];
      let largest = 0;
      for (const z of [-6, -2, -0.5, -1e-3, 1e-3, 0.5, 2, 6]) {
        const numeric = (fn.forward(z + 1e-6) - fn.forward(z - 1e-6)) / 2e-6;
        const derivative = fn.derivative(z, fn.forward(z));
        expect(derivative, `${name} at ${z}`).toBeCloseTo(numeric, 5);
        largest = Math.max(largest, derivative);
      }
      expect(largest, name).toBeLessThanOrEqual(fn.maxDerivative + 1e-9);
      expect(fn.derivative(1e-3, fn.forward(1e-3)), name).toBeCloseTo(fn.maxDerivative, 3);
    }
  });
});

describe('dropout in run.json', () => {
  const layers = (...dropouts: (number | undefined)[]) =>
    [
      { index: 0, kind: 'input', size: 4, shape: [4] },
      ...dropouts.map((dropout, index) => ({
        index: index + 1,
        kind: 'dense',
        size: 3,
        activation: 'relu',
        ...(dropout ? { dropout } : {}),
      })),
    ] as RunManifest['layers'];

  it('is said per layer, rates grouped, for the header', () => {
    expect(dropoutLabel(layers(undefined, undefined))).toBe('');
    expect(dropoutLabel(layers(0.1, undefined))).toBe('dropout 0.1 after layer 1');
    expect(dropoutLabel(layers(0.5, 0.5, undefined))).toBe('dropout 0.5 after layers 1, 2');
    expect(dropoutLabel(layers(1 - 0.5 * 0.8, 0.1, undefined))).toBe('dropout 0.6 after layer 1, 0.1 after layer 2');
  });

  it('is refused outside 0 < rate < 1, naming the field', () => {
    const upgraded = parseManifest('run.json', JSON.parse(readFileSync(join(ROOT, 'tests/fixtures/v1-tiny/run.json'), 'utf8')));
    const withDropout = (dropout: number) =>
      parseManifest('run.json', {
        ...upgraded,
        layers: upgraded.layers.map((layer, index) => (index === 1 ? { ...layer, dropout } : layer)),
      });
    expect(withDropout(0.25).layers[1]).toMatchObject({ dropout: 0.25 });
    expect(() => withDropout(1)).toThrow(/layers\.1\.dropout/);
    expect(() => withDropout(0)).toThrow(/layers\.1\.dropout/);
  });
});

describe('class selectivity', () => {
  it('is 0 when every class drives a neuron alike, 1 when one class alone does, Morcos’s index in between', () => {
    const means = Float32Array.of(
      ...[2, 2, 2], // alike
      ...[0, 5, 0], // one class alone
      ...[1, 3, 2], // Morcos on (0, 2, 1): (2 − 0.5) / (2 + 0.5) = 0.6
      ...[-1, 1, -1], // a tanh unit: shifted to (0, 2, 0), one class alone
    );
    const { preferred, selectivity } = classPreference(means, Uint8Array.of(1, 1, 1), 4);
    expect(Array.from(preferred)).toEqual([0, 1, 1, 1]);
    expect(Array.from(selectivity).map((value) => Number(value.toFixed(6)))).toEqual([0, 1, 0.6, 1]);
  });

  it('leaves out classes no batch held, and is undefined with fewer than two', () => {
    const means = Float32Array.of(9, 1, 3, /**/ 9, 1, 3);
    expect(Array.from(classPreference(means, Uint8Array.of(0, 1, 1), 2).preferred)).toEqual([2, 2]);
    expect(classPreference(means, Uint8Array.of(0, 1, 1), 2).selectivity[0]).toBeCloseTo(1, 6);
    expect(classPreference(means, Uint8Array.of(0, 0, 1), 2).selectivity[0]).toBeNaN();
  });
});

describe('class means over time', () => {
  // 2 neurons × 2 classes, 20 steps: class 1 absent from every odd step.
  const rows = 20;
  const values = Float32Array.from({ length: rows * 4 }, (_, index) => Math.floor(index / 4) + (index % 4) / 10);
  const valid = Uint8Array.from({ length: rows * 4 }, (_, index) => (index % 2 === 1 && Math.floor(index / 4) % 2 === 1 ? 0 : 1));

  it('summarises a chunk in blocks of 16 steps, each class over the steps that held it', () => {
    const blocks = classBlockMeans({ values, valid }, rows, 2, 2);
    expect(CLASS_BLOCK_STEPS).toBe(16);
    expect(blocks).toHaveLength(2 * 4);
    // Block 0, neuron 0: class 0 over steps 0…15 (mean 7.5), class 1 over the even steps only (mean 7 + 0.1).
    expect(blocks[0]).toBeCloseTo(7.5, 5);
    expect(blocks[1]).toBeCloseTo(7.1, 5);
    // Block 1 holds steps 16…19; neuron 1's class 0 is item 2.
    expect(blocks[4 + 2]).toBeCloseTo(17.5 + 0.2, 5);
    const history = classHistory([blocks, blocks], 2, 2, 1);
    expect(Array.from(history!)).toEqual(
      Array.from([blocks[2], blocks[3], blocks[6], blocks[7], blocks[2], blocks[3], blocks[6], blocks[7]]),
    );
    expect(classHistory([blocks, undefined], 2, 2, 1)).toBeUndefined();
  });

  it('finds every chunk a window spans, the middle ones too', () => {
    const chunks = [0, 1, 2, 3, 4, 5].map((index) => ({
      index,
      firstStep: index * 16,
      rows: 16,
      truncated: false,
      problems: [],
      values: new TypedColumns<'steps'>({}),
    }));
    // Step 67's 25-step window, 43…67, spans chunks 2, 3 and 4.
    expect(chunksSpanning(chunks, 67 - 25 + 1, 67).map((chunk) => chunk.index)).toEqual([2, 3, 4]);
    expect(chunksSpanning(chunks, -24, 0).map((chunk) => chunk.index)).toEqual([0]);
  });

  it('averages each class over a window of steps, and says when the rows are not there', () => {
    const chunk = {
      index: 0,
      firstStep: 0,
      rows,
      truncated: false,
      problems: [],
      values: new TypedColumns<'steps'>({ 'layer1.classActivation': { values, valid } }),
    };
    const window = classMeansOver([chunk], (held) => held.values, { step: 9, layer: 1, size: 2, classes: 2, window: 4 })!;
    expect(window.steps).toBe(4);
    // Steps 6…9: class 0 of neuron 0 is 7.5 on average; class 1 only on steps 6 and 8: 7 + 0.1.
    expect(window.means[0]).toBeCloseTo(7.5, 5);
    expect(window.means[1]).toBeCloseTo(7.1, 5);
    expect(Array.from(window.valid)).toEqual([1, 1]);
    expect(classMeansOver([chunk], () => undefined, { step: 9, layer: 1, size: 2, classes: 2, window: 4 })).toBeUndefined();
  });
});

describe('a run of the first format (tests/fixtures/v1-tiny)', () => {
  const folder = join(ROOT, 'tests', 'fixtures', 'v1-tiny');

  it('opens: its run.json is upgraded, its steps read, and what it lacks is absent rather than zero', async () => {
    const run = await openRunFolder(folder);
    expect(run.manifest.schemaVersion).toBe(1);
    expect(run.manifest.layers[0]).toEqual({ index: 0, kind: 'input', size: 784, shape: [28, 28] });
    expect(run.manifest.layers.slice(1).map((layer) => [layer.kind, 'activation' in layer ? layer.activation : undefined])).toEqual([
      ['dense', 'relu'],
      ['dense', 'relu'],
      ['dense', 'softmax'],
    ]);
    const chunk = await run.readSteps(0);
    expect(chunk.problems).toEqual([]);
    expect(chunk.rows).toBe(12);
    expect(chunk.values.get('meanActivation', 1)).toHaveLength(12 * 16);
    expect(chunk.values.get('classActivation', 1)).toBeUndefined();
    expect(classMeansOver([chunk], (held) => held.values, { step: 5, layer: 1, size: 16, classes: 10, window: 5 })).toBeUndefined();
    const weights = await run.readWeights(0, 2);
    expect(weights?.values.get('snapshotStep')?.[0]).toBe(0);
    // Older runs kept no link frames: none planned, none listed, and their config says so.
    expect(run.manifest).toMatchObject({ linkFrames: null, config: { linkAge: 0 } });
    expect(run.manifest.chunks.every((entry) => entry.links.length === 0)).toBe(true);
    expect(await run.readLinks(0, 2)).toBeUndefined();
  });

  it('and a run whose classes do not fit its output layer or its uint8 labels are refused naming the field', () => {
    const manifest = JSON.parse(readFileSync(join(folder, 'run.json'), 'utf8'));
    manifest.dataset.classNames = manifest.dataset.classNames.slice(0, 9);
    expect(() => parseManifest('x/run.json', manifest)).toThrow(
      'x/run.json: field "layers.3.size": the output layer has 10 neurons for 9 classes (dataset.classNames)',
    );
    manifest.dataset.classNames = Array.from({ length: 300 }, (_, index) => `c${index}`);
    manifest.layers[3].size = 300;
    expect(() => parseManifest('x/run.json', manifest)).toThrow(
      'x/run.json: field "dataset.classNames": 300 classes, at most 256 are supported',
    );
  });

  it('is refused with a clear message from a format this version does not know', () => {
    const manifest = { schemaVersion: 7 };
    expect(() => parseManifest('x/run.json', manifest)).toThrow(
      'x/run.json: unknown schemaVersion 7; this version of Neural Vision reads schemaVersion 1, 2, 3 and 4',
    );
  });
});
