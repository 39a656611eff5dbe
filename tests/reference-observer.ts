/**
 * The reference the recorder's engine-computed probe passes and evaluations are checked against:
 * the same quantities computed one sample at a time in plain TypeScript with float64 sums.
 */
import type { Activation } from '../core/nn/activation.js';
import {
  backwardSample,
  createTrace,
  forwardSample,
  nonZeroIndices,
  predictedClass,
  sampleLoss,
  type DenseLayer,
  type SampleTrace,
} from '../core/nn/mlp.js';

export interface ProbeResult {
  /** Per layer, [probe × neuron]. */
  activation: Float32Array[];
  gradPreActivation: Float32Array[];
  predicted: Uint8Array;
  loss: Float32Array;
}

export class Observer {
  readonly #activation: Activation;
  readonly #inputSize: number;
  readonly #probeInputs: Float32Array;
  readonly #probeLabels: Uint8Array;
  readonly #probeNonZero: Int32Array[];
  readonly #testImages: Float32Array;
  readonly #testLabels: Uint8Array;
  readonly #testNonZero: Int32Array[];
  readonly #trace: SampleTrace;
  readonly #grads: Float32Array[];
  readonly result: ProbeResult;

  constructor(
    activation: Activation,
    layerSizes: readonly number[],
    probes: { inputs: Float32Array; labels: Uint8Array },
    test: { images: Float32Array; labels: Uint8Array } = { images: new Float32Array(0), labels: new Uint8Array(0) },
  ) {
    this.#activation = activation;
    this.#inputSize = layerSizes[0]!;
    const sample = (images: Float32Array, index: number) => images.subarray(index * this.#inputSize, (index + 1) * this.#inputSize);
    this.#probeInputs = probes.inputs;
    this.#probeLabels = probes.labels;
    this.#probeNonZero = Array.from(probes.labels, (_, index) => nonZeroIndices(sample(probes.inputs, index)));
    this.#testImages = test.images;
    this.#testLabels = test.labels;
    this.#testNonZero = Array.from(test.labels, (_, index) => nonZeroIndices(sample(test.images, index)));
    const shapes = layerSizes.slice(1).map((fanOut, index) => ({ fanIn: layerSizes[index]!, fanOut }));
    this.#trace = createTrace(shapes);
    this.#grads = shapes.map(({ fanOut }) => new Float32Array(fanOut));
    const probeCount = probes.labels.length;
    this.result = {
      activation: shapes.map(({ fanOut }) => new Float32Array(probeCount * fanOut)),
      gradPreActivation: shapes.map(({ fanOut }) => new Float32Array(probeCount * fanOut)),
      predicted: new Uint8Array(probeCount),
      loss: new Float32Array(probeCount),
    };
  }

  /** Forward and backward pass of every probe; fills `result`. */
  probe(layers: readonly DenseLayer[]): ProbeResult {
    this.#probeLabels.forEach((label, probe) => {
      const input = this.#probeInputs.subarray(probe * this.#inputSize, (probe + 1) * this.#inputSize);
      forwardSample(layers, this.#activation, input, this.#probeNonZero[probe]!, this.#trace);
      backwardSample(layers, this.#activation, this.#trace, label, this.#grads);
      layers.forEach((layer, index) => {
        this.result.activation[index]!.set(this.#trace.activation[index]!, probe * layer.fanOut);
        this.result.gradPreActivation[index]!.set(this.#grads[index]!, probe * layer.fanOut);
      });
      this.result.predicted[probe] = predictedClass(this.#trace);
      this.result.loss[probe] = sampleLoss(this.#trace, label);
    });
    return this.result;
  }

  /** Mean cross-entropy and accuracy over the held-out split. */
  evaluate(layers: readonly DenseLayer[]): { loss: number; accuracy: number } {
    let totalLoss = 0;
    let correct = 0;
    this.#testLabels.forEach((label, index) => {
      const input = this.#testImages.subarray(index * this.#inputSize, (index + 1) * this.#inputSize);
      forwardSample(layers, this.#activation, input, this.#testNonZero[index]!, this.#trace);
      totalLoss += sampleLoss(this.#trace, label);
      if (predictedClass(this.#trace) === label) correct++;
    });
    const count = this.#testLabels.length;
    return { loss: totalLoss / count, accuracy: correct / count };
  }
}
