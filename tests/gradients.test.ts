/**
 * The recorded gradients are the math's: compared with central finite differences of an
 * independent float64 implementation of the same network and loss, for both the dense
 * TensorFlow.js reference model and the recorder's model (sparse first-layer kernel, probe rows
 * in the same pass).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ACTIVATIONS, type Activation } from '../core/nn/activation.js';
import { batchLossAccuracy, neuronStats } from '../core/nn/batch-stats.js';
import { backwardSample, createTrace, forwardSample, nonZeroIndices, type DenseLayer } from '../core/nn/mlp.js';
import { createRandom } from '../core/random.js';
import { selectEngine } from '../recorder/engine.js';
import { compressSamples } from '../recorder/kernel/first-layer.js';
import { TfMlp, type LayerGrads } from '../recorder/model.js';
import { BufferPool } from '../recorder/readback.js';
import { RecordingMlp } from '../recorder/recording-model.js';

const SIZES = [6, 5, 4, 3];
const BATCH = 4;

/** Float64 network: layer l maps sizes[l] → sizes[l+1]; `offsets` adds to chosen pre-activations of one sample. */
function f64(kind: Activation, z: number): number {
  switch (kind) {
    case 'relu':
      return Math.max(0, z);
    case 'leaky-relu':
      return z > 0 ? z : 0.01 * z;
    case 'sigmoid':
      return 1 / (1 + Math.exp(-z));
    case 'tanh':
      return Math.tanh(z);
    case 'linear':
      return z;
  }
}

interface Net {
  weights: Float64Array[];
  biases: Float64Array[];
}

function sampleLoss64(
  net: Net,
  kind: Activation,
  input: ArrayLike<number>,
  label: number,
  offset?: { layer: number; neuron: number; delta: number },
): number {
  let below = Array.from(input);
  const last = net.weights.length - 1;
  for (let layer = 0; layer <= last; layer++) {
    const fanOut = net.biases[layer]!.length;
    const z = Array.from(net.biases[layer]!);
    below.forEach((value, i) => {
      for (let j = 0; j < fanOut; j++) z[j]! += value * net.weights[layer]![i * fanOut + j]!;
    });
    if (offset && offset.layer === layer) z[offset.neuron]! += offset.delta;
    below = layer === last ? z : z.map((value) => f64(kind, value));
  }
  const max = Math.max(...below);
  const logSum = Math.log(below.reduce((sum, value) => sum + Math.exp(value - max), 0)) + max;
  return logSum - below[label]!;
}

function batchLoss64(net: Net, kind: Activation, inputs: Float32Array, labels: Int32Array): number {
  let total = 0;
  labels.forEach((label, row) => (total += sampleLoss64(net, kind, inputs.subarray(row * SIZES[0]!, (row + 1) * SIZES[0]!), label)));
  return total / labels.length;
}

function makeNet(seed: number): { layers: DenseLayer[]; net: Net } {
  const random = createRandom(seed);
  const layers = SIZES.slice(1).map((fanOut, index) => {
    const fanIn = SIZES[index]!;
    return {
      fanIn,
      fanOut,
      weight: Float32Array.from({ length: fanIn * fanOut }, () => random.normal() * 0.8),
      bias: Float32Array.from({ length: fanOut }, () => random.normal() * 0.3),
    };
  });
  return {
    layers,
    net: { weights: layers.map((layer) => Float64Array.from(layer.weight)), biases: layers.map((layer) => Float64Array.from(layer.bias)) },
  };
}

const H = 1e-4;
const close = (actual: number, expected: number) => Math.abs(actual - expected) <= 5e-5 + 2e-3 * Math.abs(expected);

beforeAll(async () => {
  await selectEngine('wasm');
});

const MODELS = ['dense reference', 'recording model'] as const;
type ModelKind = (typeof MODELS)[number];

interface StepResult {
  /** Batch rows only. */
  preActivation: Float32Array[];
  activation: Float32Array[];
  gradPreActivation: Float32Array[];
  weights: Float32Array[];
  /** The probe rows' ∂ℓ/∂z of their own loss (the recording model, with the batch as its probes). */
  probeGradPreActivation?: Float32Array[];
}

/** A model of either kind on `layers`; `step` trains one step on the whole `inputs` batch. */
function makeModel(
  kind: ModelKind,
  config: { activation: Activation; optimizer: 'sgd' | 'momentum' | 'adam'; learningRate: number },
  layers: DenseLayer[],
  inputs: Float32Array,
  labels: Int32Array,
) {
  const full = { ...config, momentum: 0.9, batchSize: labels.length };
  if (kind === 'dense reference') {
    const model = new TfMlp(full, layers);
    return {
      step: (): StepResult => model.step(inputs, labels),
      readGrads: (layer: number): LayerGrads => model.readGrads(layer),
      snapshot: () => model.snapshot(),
      dispose: () => model.dispose(),
    };
  }
  const samples = compressSamples(inputs, SIZES[0]!);
  const model = new RecordingMlp({ config: full, initial: layers, train: samples, probes: { samples, labels } });
  const pool = new BufferPool();
  const batchIndices = Int32Array.from(labels, (_, row) => row);
  const rows = (values: Float32Array, layer: number, from: number) =>
    values.slice(from * SIZES[layer + 1]!, (from + BATCH) * SIZES[layer + 1]!);
  return {
    step: (): StepResult => {
      const readback = model.step(batchIndices, labels, pool);
      return {
        preActivation: readback.preActivation.map((values, layer) => rows(values, layer, 0)),
        activation: readback.activation.map((values, layer) => rows(values, layer, 0)),
        gradPreActivation: readback.gradPreActivation.map((values, layer) => rows(values, layer, 0)),
        probeGradPreActivation: readback.gradPreActivation.map((values, layer) => rows(values, layer, BATCH)),
        weights: model.previousWeights(pool).weights.map((weights) => weights!),
      };
    },
    readGrads: (layer: number) => model.readGrads(layer, pool),
    snapshot: () => model.snapshot(),
    dispose: () => model.dispose(),
  };
}

describe.each(MODELS.flatMap((model) => ACTIVATIONS.map((activation) => [model, activation] as const)))(
  '%s: gradients with %s',
  (kind, activation) => {
    const random = createRandom(7);
    const inputs = Float32Array.from({ length: BATCH * SIZES[0]! }, () => random.normal());
    const labels = Int32Array.from({ length: BATCH }, (_, row) => row % SIZES[3]!);

    it('recorded ∂L/∂W, ∂L/∂b and per-neuron ∂L/∂z match central differences', () => {
      const { layers, net } = makeNet(11);
      const model = makeModel(kind, { activation, optimizer: 'sgd', learningRate: 0.1 }, layers, inputs, labels);
      const readback = model.step();
      const grads = SIZES.slice(1).map((_, index) => model.readGrads(index + 1));
      model.dispose();
      expect(Array.from(readback.weights[0]!)).toEqual(Array.from(layers[0]!.weight));
      const stats = SIZES.slice(1).map((neurons, index) => {
        const out = {
          meanActivation: new Float32Array(neurons),
          fractionActive: new Float32Array(neurons),
          gradPreActivation: new Float32Array(neurons),
        };
        neuronStats(readback.preActivation[index]!, readback.activation[index], readback.gradPreActivation[index]!, BATCH, out);
        return out;
      });
      let compared = 0;
      net.weights.forEach((weights, layer) => {
        weights.forEach((original, index) => {
          weights[index] = original + H;
          const up = batchLoss64(net, activation, inputs, labels);
          weights[index] = original - H;
          const down = batchLoss64(net, activation, inputs, labels);
          weights[index] = original;
          const numeric = (up - down) / (2 * H);
          const recorded = grads[layer]!.weightGrad[index]!;
          expect(close(recorded, numeric), `layer ${layer + 1} weight ${index}: recorded ${recorded}, numeric ${numeric}`).toBe(true);
          compared++;
        });
        net.biases[layer]!.forEach((original, neuron) => {
          net.biases[layer]![neuron] = original + H;
          const up = batchLoss64(net, activation, inputs, labels);
          net.biases[layer]![neuron] = original - H;
          const down = batchLoss64(net, activation, inputs, labels);
          net.biases[layer]![neuron] = original;
          const numeric = (up - down) / (2 * H);
          const gradPre = stats[layer]!.gradPreActivation[neuron]!;
          expect(close(gradPre, numeric), `layer ${layer + 1} neuron ${neuron}: ∂L/∂z ${gradPre}, numeric ${numeric}`).toBe(true);
          expect(grads[layer]!.biasGrad[neuron]).toBeCloseTo(gradPre, 6);
          // Each sample's ∂L/∂z, read back from the engine, against a perturbation of that sample's z.
          for (let row = 0; row < BATCH; row++) {
            const input = inputs.subarray(row * SIZES[0]!, (row + 1) * SIZES[0]!);
            const shifted = (delta: number) => sampleLoss64(net, activation, input, labels[row]!, { layer, neuron, delta }) / BATCH;
            const perSample = (shifted(H) - shifted(-H)) / (2 * H);
            const engine = readback.gradPreActivation[layer]![row * net.biases[layer]!.length + neuron]!;
            expect(close(engine, perSample), `sample ${row} layer ${layer + 1} neuron ${neuron}`).toBe(true);
            // The same sample as a probe: the gradient of its own loss, not divided by the batch size.
            const probe = readback.probeGradPreActivation?.[layer]![row * net.biases[layer]!.length + neuron];
            if (probe !== undefined) expect(close(probe / BATCH, perSample), `probe ${row} layer ${layer + 1} neuron ${neuron}`).toBe(true);
          }
          compared++;
        });
      });
      expect(compared).toBe(6 * 5 + 5 * 4 + 4 * 3 + 5 + 4 + 3);
      expect(batchLossAccuracy(readback.preActivation.at(-1)!, labels, SIZES[3]!).loss).toBeCloseTo(
        batchLoss64(net, activation, inputs, labels),
        5,
      );
    });
  },
);

describe.each(ACTIVATIONS)('plain TypeScript pass with %s', (activation) => {
  const random = createRandom(7);
  const inputs = Float32Array.from({ length: BATCH * SIZES[0]! }, () => random.normal());
  const labels = Int32Array.from({ length: BATCH }, (_, row) => row % SIZES[3]!);

  it('∂ℓ/∂z of one sample (plain TypeScript pass) match central differences', () => {
    const { layers, net } = makeNet(12);
    const trace = createTrace(layers);
    const grads = layers.map((layer) => new Float32Array(layer.fanOut));
    for (let row = 0; row < BATCH; row++) {
      const input = inputs.subarray(row * SIZES[0]!, (row + 1) * SIZES[0]!);
      forwardSample(layers, activation, input, nonZeroIndices(input), trace);
      backwardSample(layers, activation, trace, labels[row]!, grads);
      layers.forEach((layer, index) => {
        for (let neuron = 0; neuron < layer.fanOut; neuron++) {
          const up = sampleLoss64(net, activation, input, labels[row]!, { layer: index, neuron, delta: H });
          const down = sampleLoss64(net, activation, input, labels[row]!, { layer: index, neuron, delta: -H });
          const numeric = (up - down) / (2 * H);
          expect(close(grads[index]![neuron]!, numeric), `sample ${row} layer ${index + 1} neuron ${neuron}`).toBe(true);
        }
      });
    }
  });
});

describe('optimizer updates', () => {
  const random = createRandom(3);
  const inputs = Float32Array.from({ length: BATCH * SIZES[0]! }, () => random.normal());
  const labels = Int32Array.from({ length: BATCH }, (_, row) => row % 3);

  it.each(MODELS.flatMap((model) => (['sgd', 'momentum', 'adam'] as const).map((optimizer) => [model, optimizer] as const)))(
    '%s: %s applies the documented update',
    (kind, optimizer) => {
      const { layers } = makeNet(5);
      const rate = 0.05;
      const model = makeModel(kind, { activation: 'tanh', optimizer, learningRate: rate }, layers, inputs, labels);
      model.step();
      const firstGrads = model.readGrads(1);
      const second = model.step();
      const secondGrads = model.readGrads(1);
      const after = model.snapshot();
      model.dispose();
      // Replay the update rule in float64 from the recorded gradients.
      const expectedWeight = Float64Array.from(layers[0]!.weight);
      const velocity = new Float64Array(expectedWeight.length);
      const moment1 = new Float64Array(expectedWeight.length);
      const moment2 = new Float64Array(expectedWeight.length);
      [firstGrads, secondGrads].forEach((grads, time) => {
        grads.weightGrad.forEach((grad, index) => {
          if (optimizer === 'sgd') expectedWeight[index]! -= rate * grad;
          else if (optimizer === 'momentum') {
            velocity[index] = 0.9 * velocity[index]! + grad;
            expectedWeight[index]! -= rate * velocity[index]!;
          } else {
            moment1[index] = 0.9 * moment1[index]! + 0.1 * grad;
            moment2[index] = 0.999 * moment2[index]! + 0.001 * grad * grad;
            const corrected1 = moment1[index]! / (1 - 0.9 ** (time + 1));
            const corrected2 = moment2[index]! / (1 - 0.999 ** (time + 1));
            expectedWeight[index]! -= (rate * corrected1) / (Math.sqrt(corrected2) + 1e-7);
          }
        });
      });
      // The second step's recorded weights are the first update's result.
      expect(Array.from(second.weights[0]!).length).toBe(expectedWeight.length);
      after.weights[0]!.forEach((value, index) => expect(value).toBeCloseTo(expectedWeight[index]!, 5));
    },
  );
});
