/** Colours for normalised values (see $core/view/normalize): one ramp for magnitudes, one for signs. */
import { interpolateInferno, interpolateRdBu } from 'd3-scale-chromatic';
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
