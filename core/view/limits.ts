/**
 * What the viewer can draw: a run whose layers are larger is refused with a message instead of
 * freezing the page (a run.json with a layer of 10⁹ neurons passes the format's checks; laying it out
 * alone would take minutes and gigabytes).
 */

/** Neurons of one dense layer the picture can lay out, bin and scrub. */
export const MAX_DRAWN_NEURONS = 16_384;
/** Values of one input sample (a 1024 × 1024 image). */
export const MAX_INPUT_VALUES = 1024 * 1024;

/** Why the viewer cannot draw a run of these layers (the input first), or undefined when it can. */
export function tooLargeToDraw(layers: readonly { size: number }[]): string | undefined {
  const [input, ...dense] = layers;
  const count = (value: number) => value.toLocaleString('en-US');
  if (input && input.size > MAX_INPUT_VALUES)
    return `its input has ${count(input.size)} values; the viewer draws inputs of up to ${count(MAX_INPUT_VALUES)} values`;
  const index = dense.findIndex((layer) => layer.size > MAX_DRAWN_NEURONS);
  if (index >= 0)
    return `layer ${index + 1} has ${count(dense[index]!.size)} neurons; the viewer draws layers of up to ${count(MAX_DRAWN_NEURONS)} neurons`;
  return undefined;
}
