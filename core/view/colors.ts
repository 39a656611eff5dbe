/**
 * Colours of the network picture, drawn on a dark stage so that brightness can mean magnitude:
 *
 * - **signed** values (weights, their gradients, activations that can be negative, A − B): hue is
 *   the sign — blue positive, orange negative, the colour-blind-safe pair of TF Playground — and
 *   brightness is |value| on the scale, from the stage's dark at 0 to the full hue;
 * - **magnitudes** (|∂L/∂z|, activations that cannot be negative): a neutral grey ramp from dark to
 *   white, sharing no hue with the signed pair;
 * - NaN and ±Inf, findings and the selection each have a colour of their own, outside both.
 *
 * Positions come from $core/view/normalize: [−1, 1] for signed values, [0, 1] for magnitudes.
 */
import { interpolateSinebow, schemeTableau10 } from 'd3-scale-chromatic';
import { rgb } from 'd3-color';
import type { Normalized } from '$core/view/normalize';

/** The picture's background. */
export const STAGE_COLOR = '#14161b';
/** Text and thin marks on the stage. */
export const STAGE_INK = '#c9ccd3';

export const SIGN_COLORS = { positive: '#4aa8ff', negative: '#ff9a3d' } as const;
export const NON_FINITE_COLORS = { nan: '#39ff14', inf: '#ff2d55', '-inf': '#ffe600' } as const;

/** Where every ramp starts (value 0): a little lighter than the stage, so a silent neuron is still a dot. */
const ZERO = rgb('#2a2d35');
const WHITE = rgb('#ffffff');

function mix(from: ReturnType<typeof rgb>, to: ReturnType<typeof rgb>, amount: number): string {
  const t = Math.min(1, Math.max(0, amount));
  const channel = (a: number, b: number) => Math.round(a + (b - a) * t);
  return `rgb(${channel(from.r, to.r)}, ${channel(from.g, to.g)}, ${channel(from.b, to.b)})`;
}

const POSITIVE = rgb(SIGN_COLORS.positive);
const NEGATIVE = rgb(SIGN_COLORS.negative);

/** A signed position in [−1, 1]: the sign's hue, as bright as |position|. */
export function signedColorOf(value: Normalized): string {
  if (typeof value === 'string') return NON_FINITE_COLORS[value];
  return mix(ZERO, value < 0 ? NEGATIVE : POSITIVE, Math.abs(value));
}

/** A magnitude position in [0, 1]: grey from dark to white. */
export function magnitudeColorOf(value: Normalized): string {
  if (typeof value === 'string') return NON_FINITE_COLORS[value];
  return mix(ZERO, WHITE, Math.abs(value));
}

/** Marks of stored findings (dead or saturated neurons, timeline bookmarks): violet, apart from both ramps. */
export const FINDING_COLOR = '#d77bff';
/** The selected neuron's ring and its links' highlight. */
export const SELECTED_COLOR = '#00e0c6';

/** Hues for classes: Tableau 10 up to ten classes, evenly spaced around the sinebow beyond. */
export function classColors(count: number): string[] {
  if (count <= schemeTableau10.length) return schemeTableau10.slice(0, count);
  return Array.from({ length: count }, (_, index) => interpolateSinebow(index / count));
}

/** Where a neuron's class colour starts when it is not selective at all: a dim grey on the dark stage. */
const UNSELECTIVE = rgb(72, 72, 72);

/**
 * A neuron in the class view: its preferred class's hue, from dim grey (every class drives it alike,
 * selectivity 0) to the full hue (one class alone drives it, 1); NaN (fewer than two classes seen) is
 * the NaN colour.
 */
export function classColorOf(classColor: string, selectivity: number): string {
  if (Number.isNaN(selectivity)) return NON_FINITE_COLORS.nan;
  return mix(UNSELECTIVE, rgb(classColor), selectivity);
}
