/**
 * What a comparison of two runs may say: which of their settings differ, and whether their neurons
 * correspond (so that neuron i of A minus neuron i of B means anything). Pure: manifests in.
 */
import type { RunManifest } from '../format/manifest.js';
import { differenceUnavailable } from './frame.js';

export interface ConfigDifference {
  /** The setting, as its config path (`learningRate`, `diagnostics.saturation.minSteps`) or `dataset`, `network`. */
  field: string;
  a: string;
  b: string;
}

/** Every leaf of a nested object, by its dotted path, as text. */
function leaves(value: unknown, path: string, out: Map<string, string>): Map<string, string> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [key, inner] of Object.entries(value)) leaves(inner, path ? `${path}.${key}` : key, out);
  } else out.set(path, Array.isArray(value) ? value.join('-') : String(value));
  return out;
}

/** What the two runs' recordings differ in: the network, the data, and every config field, in that order. */
export function configDifferences(a: RunManifest, b: RunManifest): ConfigDifference[] {
  const describe = (manifest: RunManifest) => {
    const settings = new Map<string, string>([
      ['network', manifest.layers.map((layer) => layer.size).join('-')],
      ['dataset', `${manifest.dataset.name} (${manifest.dataset.sha256.slice(0, 12)})`],
    ]);
    // `layers` is the network above; `dataset` the data's name, which the line above already holds.
    const { layers: _layers, dataset: _dataset, ...config } = manifest.config;
    return leaves(config, '', settings);
  };
  const left = describe(a);
  const right = describe(b);
  const fields = [...new Set([...left.keys(), ...right.keys()])];
  return fields
    .filter((field) => left.get(field) !== right.get(field))
    .map((field) => ({ field, a: left.get(field) ?? '–', b: right.get(field) ?? '–' }));
}

/**
 * Why neuron i of A and neuron i of B are not the same neuron (undefined when they are): the runs
 * must have the same network shape and the same initial weights' seed — otherwise two neurons of the
 * same index started from unrelated weights, and their difference says nothing.
 */
export function neuronsDoNotCorrespond(a: RunManifest, b: RunManifest): string | undefined {
  const sizes = (manifest: RunManifest) => manifest.layers.map((layer) => layer.size);
  const shapes = differenceUnavailable(sizes(a), sizes(b));
  if (shapes) return shapes;
  if (a.config.seed !== b.config.seed)
    return `Their initial weights come from different seeds (${a.config.seed} and ${b.config.seed}): neuron i of A started from weights unrelated to neuron i of B's, so a neuron-by-neuron difference would mean nothing. Compare the layers' distributions instead (below).`;
  return undefined;
}
