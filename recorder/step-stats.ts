/**
 * The flat Float32Array a training step hands to the writer: everything measured on the batch,
 * read back from the engine in one copy. Offsets are derived from the layer sizes.
 */
export interface StatsLayout {
  /** Total floats. */
  length: number;
  loss: number;
  accuracy: number;
  /** Offset of the batch-mean input (inputSize floats). */
  meanInput: number;
  layers: {
    size: number;
    meanActivation: number;
    fractionActive: number;
    gradPreActivation: number;
    weightNorm: number;
    gradNorm: number;
    updateNorm: number;
  }[];
}

export function statsLayout(inputSize: number, layerSizes: readonly number[]): StatsLayout {
  let offset = 2 + inputSize;
  const layers = layerSizes.map((size) => {
    const entry = {
      size,
      meanActivation: offset,
      fractionActive: offset + size,
      gradPreActivation: offset + 2 * size,
      weightNorm: offset + 3 * size,
      gradNorm: offset + 3 * size + 1,
      updateNorm: offset + 3 * size + 2,
    };
    offset += 3 * size + 3;
    return entry;
  });
  return { length: offset, loss: 0, accuracy: 1, meanInput: 2, layers };
}
