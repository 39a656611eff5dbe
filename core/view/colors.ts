/** Colours for normalised values (see $core/view/normalize): one ramp for magnitudes, one for signs. */
import { interpolateInferno, interpolateRdBu, interpolateSinebow, schemeTableau10 } from 'd3-scale-chromatic';
import { rgb } from 'd3-color';
import type { Normalized } from '$core/view/normalize';

export const NON_FINITE_COLORS = { nan: '#39ff14', inf: '#ffffff', '-inf': '#00e5ff' } as const;

export function colorOf(value: Normalized): string {
  if (typeof value === 'string') return NON_FINITE_COLORS[value];
  // RdBu runs red (0) to blue (1); negative values are red, positive blue.
  return value < 0 ? interpolateRdBu(0.5 + value / 2) : interpolateInferno(0.08 + 0.92 * value);
}

/** Edge colours by the sign of the weight (or gradient) they show. */
export const EDGE_COLORS = { positive: '#3b82f6', negative: '#ef4444', nonFinite: NON_FINITE_COLORS.nan } as const;

/** A − B: blue where A is larger, red where B is, white at zero. */
export function divergingColorOf(value: Normalized): string {
  if (typeof value === 'string') return NON_FINITE_COLORS[value];
  return interpolateRdBu(0.5 + value / 2);
}

/** Marks of stored findings (dead or saturated neurons, timeline bookmarks): amber, apart from both ramps. */
export const FINDING_COLOR = '#f59e0b';

/** Hues for classes: Tableau 10 up to ten classes, evenly spaced around the sinebow beyond. */
export function classColors(count: number): string[] {
  if (count <= schemeTableau10.length) return schemeTableau10.slice(0, count);
  return Array.from({ length: count }, (_, index) => interpolateSinebow(index / count));
}

/** Where a neuron's class colour starts when it is not selective at all: a dim grey on either background. */
const UNSELECTIVE = [72, 72, 72] as const;

/**
 * A neuron in the class view: its preferred class's hue, from dim grey (every class drives it alike,
 * selectivity 0) to the full hue (one class alone drives it, 1); NaN (fewer than two classes seen) is
 * the NaN colour.
 */
export function classColorOf(classColor: string, selectivity: number): string {
  if (Number.isNaN(selectivity)) return NON_FINITE_COLORS.nan;
  const { r, g, b } = rgb(classColor);
  const amount = Math.min(1, Math.max(0, selectivity));
  const mix = (from: number, to: number) => Math.round(from + (to - from) * amount);
  return `rgb(${mix(UNSELECTIVE[0], r)}, ${mix(UNSELECTIVE[1], g)}, ${mix(UNSELECTIVE[2], b)})`;
}
