/**
 * Mapping recorded values to brightness: the normalisation modes of the viewer's switch and the
 * legend that goes with each. `normalize` returns a position in [−1, 1] (signed quantities) or
 * [0, 1], or a non-finite class so that NaN and ±Inf get their own legend colours.
 */

export const SCALE_MODES = ['global', 'layer', 'step', 'log'] as const;
export type ScaleMode = (typeof SCALE_MODES)[number];

export interface Domain {
  /** Smallest and largest finite value. */
  min: number;
  max: number;
  /** Smallest non-zero |value| (for the log scale); Infinity when every value is 0. */
  minMagnitude: number;
}

export const EMPTY_DOMAIN: Domain = { min: Infinity, max: -Infinity, minMagnitude: Infinity };

/** Extends a domain with the finite values of an array. */
export function extendDomain(domain: Domain, values: ArrayLike<number>): Domain {
  let { min, max, minMagnitude } = domain;
  for (let index = 0; index < values.length; index++) {
    const value = values[index]!;
    if (!Number.isFinite(value)) continue;
    if (value < min) min = value;
    if (value > max) max = value;
    const magnitude = Math.abs(value);
    if (magnitude > 0 && magnitude < minMagnitude) minMagnitude = magnitude;
  }
  return { min, max, minMagnitude };
}

export type Normalized = number | 'nan' | 'inf' | '-inf';

/** The log scale spans at most this many decades below the largest magnitude; smaller values sit at 0. */
export const LOG_DECADES = 6;
/**
 * Links on the log scale span fewer decades: there are thousands of them, and over six decades nearly
 * every one would be drawn at half strength or more, a slab.
 */
export const LINK_LOG_DECADES = 3;

/**
 * A value's place on the scale, anchored at zero so that brightness means magnitude on every scale:
 * value / largest |value| of the domain, in [−1, 1] (in [0, 1] for values that are never negative).
 * The log mode maps |value| by log10 over the domain's magnitudes (at most LOG_DECADES decades),
 * keeping the sign.
 */
export function normalize(value: number, domain: Domain, mode: ScaleMode, decades = LOG_DECADES): Normalized {
  if (Number.isNaN(value)) return 'nan';
  if (value === Infinity) return 'inf';
  if (value === -Infinity) return '-inf';
  const largest = Math.max(Math.abs(domain.min), Math.abs(domain.max));
  if (!(largest > 0)) return 0;
  if (mode === 'log') {
    const magnitude = Math.abs(value);
    if (magnitude === 0) return 0;
    const [low, high] = logRange(domain, decades);
    const position = high > low ? (Math.log10(magnitude) - low) / (high - low) : 1;
    return Math.sign(value) * clamp(position, 0, 1);
  }
  return clamp(value / largest, -1, 1);
}

/** log10 of the smallest and largest magnitude the log scale spans. */
function logRange(domain: Domain, decades = LOG_DECADES): [number, number] {
  const high = Math.log10(Math.max(Math.abs(domain.min), Math.abs(domain.max)));
  return [Math.max(high - decades, Math.log10(Math.min(domain.minMagnitude, 10 ** high))), high];
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}

/**
 * The values the legend labels, at its ends and middle, for the domain and mode; each once (a
 * domain of one value, such as every activation 0 after a zero initialisation, has one stop).
 */
export function legendStops(domain: Domain, mode: ScaleMode, decades = LOG_DECADES): number[] {
  if (!Number.isFinite(domain.min)) return [];
  const largest = Math.max(Math.abs(domain.min), Math.abs(domain.max));
  const signed = domain.min < 0;
  let stops: number[];
  if (mode === 'log' && largest > 0) {
    const low = 10 ** logRange(domain, decades)[0];
    stops = signed ? [-largest, -low, 0, low, largest] : [0, low, largest];
  } else stops = signed ? [-largest, 0, largest] : [0, largest / 2, largest];
  return [...new Set(stops)];
}

/**
 * Domains for every mode, kept up to date as chunks stream in: the whole run (global, log), each
 * layer over the whole run (layer), and the layers of one step (step, computed on demand).
 */
export class DomainTracker {
  #global: Domain = EMPTY_DOMAIN;
  #layers: Domain[] = [];

  /** Adds values of dense layer `layer` (from 1), any number of steps at once. */
  add(layer: number, values: ArrayLike<number>): void {
    // One pass over the values: the layer's domain, then the global one from it.
    const layerDomain = extendDomain(this.#layers[layer] ?? EMPTY_DOMAIN, values);
    this.#layers[layer] = layerDomain;
    this.#global = {
      min: Math.min(this.#global.min, layerDomain.min),
      max: Math.max(this.#global.max, layerDomain.max),
      minMagnitude: Math.min(this.#global.minMagnitude, layerDomain.minMagnitude),
    };
  }

  /** The domain that colours `layer` at a step whose per-layer values are `stepValues` (index = layer). */
  domain(mode: ScaleMode, layer: number, stepValues: readonly (ArrayLike<number> | undefined)[]): Domain {
    switch (mode) {
      case 'global':
      case 'log':
        return this.#global;
      case 'layer':
        return this.#layers[layer] ?? EMPTY_DOMAIN;
      case 'step':
        return stepValues.reduce<Domain>((domain, values) => (values ? extendDomain(domain, values) : domain), EMPTY_DOMAIN);
    }
  }
}
