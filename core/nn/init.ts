/** Initial weights, drawn in plain TypeScript from the run's seed so they are the same on every engine. */
import type { Config } from '../config.js';
import { createRandom } from '../random.js';
import type { DenseLayer } from './mlp.js';

/** Standard deviation of each weight of a fanIn × fanOut layer, or undefined for non-random inits. */
export function initStd(config: Pick<Config, 'init' | 'initStd'>, fanIn: number, fanOut: number): number | undefined {
  switch (config.init) {
    case 'he':
      return Math.sqrt(2 / fanIn);
    case 'xavier':
      return Math.sqrt(2 / (fanIn + fanOut));
    case 'normal':
      return config.initStd;
    case 'zeros':
    case 'constant':
      return undefined;
  }
}

/** Dense layers for sizes [input, ...hidden, output]; biases start at zero for every init. */
export function initialLayers(config: Pick<Config, 'init' | 'initStd' | 'initValue' | 'seed'>, sizes: readonly number[]): DenseLayer[] {
  const random = createRandom(config.seed);
  return sizes.slice(1).map((fanOut, index) => {
    const fanIn = sizes[index]!;
    const weight = new Float32Array(fanIn * fanOut);
    const std = initStd(config, fanIn, fanOut);
    if (std !== undefined) for (let k = 0; k < weight.length; k++) weight[k] = std * random.normal();
    else if (config.init === 'constant') weight.fill(config.initValue);
    return { fanIn, fanOut, weight, bias: new Float32Array(fanOut) };
  });
}
