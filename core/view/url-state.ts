/**
 * What the viewer shows, as query parameters on the site's root page, so that any static file
 * server can serve deep links: `?run=<name>&step=<n>&view=<view>&neuron=<layer>.<index>&probe=<n>&scale=<mode>`,
 * or `?compare=<a>,<b>&align=step|epoch&…` for two runs side by side. The views are the
 * vocabulary's (core/format/quantities.ts): activation, gradient, class.
 * Parsing never throws: a malformed parameter falls back to its default and is reported.
 */
import { VIEWS, type View } from '../format/quantities.js';
import { SCALE_MODES, type ScaleMode } from './normalize.js';

export { VIEWS, type View } from '../format/quantities.js';

/** How the compare view lines two runs up: the same step, or the same fraction of an epoch. */
export const ALIGNMENTS = ['step', 'epoch'] as const;
export type Alignment = (typeof ALIGNMENTS)[number];

export interface ViewState {
  run: string | undefined;
  /** Two run names, for the compare view. */
  compare: [string, string] | undefined;
  align: Alignment;
  step: number;
  view: View;
  neuron: { layer: number; index: number } | undefined;
  probe: number | undefined;
  scale: ScaleMode;
}

export const DEFAULT_VIEW_STATE: ViewState = {
  run: undefined,
  compare: undefined,
  align: 'step',
  step: 0,
  view: 'activation',
  neuron: undefined,
  probe: undefined,
  scale: 'layer',
};

function nonNegativeInteger(text: string | null): number | undefined {
  if (text === null || !/^\d{1,9}$/.test(text)) return undefined;
  return Number(text);
}

export function parseViewState(search: URLSearchParams): { state: ViewState; problems: string[] } {
  const problems: string[] = [];
  const state: ViewState = { ...DEFAULT_VIEW_STATE };
  const run = search.get('run');
  if (run !== null && run !== '') state.run = run;
  const compare = search.get('compare');
  if (compare !== null) {
    // Run names may hold commas only if they are written as two `compare` values; one value splits at its first comma.
    const all = search.getAll('compare');
    const names = all.length === 2 ? all : splitOnce(compare);
    if (names && names.every((name) => name !== '')) state.compare = [names[0]!, names[1]!];
    else problems.push(`compare=${JSON.stringify(compare)} is not two run names separated by a comma`);
  }
  const align = search.get('align');
  if (align !== null) {
    if ((ALIGNMENTS as readonly string[]).includes(align)) state.align = align as Alignment;
    else problems.push(`align=${JSON.stringify(align)} is not one of ${ALIGNMENTS.join(', ')}`);
  }
  const step = search.get('step');
  if (step !== null) {
    const parsed = nonNegativeInteger(step);
    if (parsed === undefined) problems.push(`step=${JSON.stringify(step)} is not a step number; showing step 0`);
    else state.step = parsed;
  }
  const view = search.get('view');
  if (view !== null) {
    if ((VIEWS as readonly string[]).includes(view)) state.view = view as View;
    else problems.push(`view=${JSON.stringify(view)} is not one of ${VIEWS.join(', ')}`);
  }
  const scale = search.get('scale');
  if (scale !== null) {
    if ((SCALE_MODES as readonly string[]).includes(scale)) state.scale = scale as ScaleMode;
    else problems.push(`scale=${JSON.stringify(scale)} is not one of ${SCALE_MODES.join(', ')}`);
  }
  const neuron = search.get('neuron');
  if (neuron !== null) {
    const match = /^(\d{1,3})\.(\d{1,5})$/.exec(neuron);
    if (match && Number(match[1]) >= 1) state.neuron = { layer: Number(match[1]), index: Number(match[2]) };
    else problems.push(`neuron=${JSON.stringify(neuron)} is not <layer>.<index> (layer from 1)`);
  }
  const probe = search.get('probe');
  if (probe !== null) {
    const parsed = nonNegativeInteger(probe);
    if (parsed === undefined) problems.push(`probe=${JSON.stringify(probe)} is not a probe number`);
    else state.probe = parsed;
  }
  return { state, problems };
}

/** Query string for a state; defaults are left out so links stay short. */
export function formatViewState(state: ViewState): string {
  const search = new URLSearchParams();
  if (state.run !== undefined) search.set('run', state.run);
  if (state.compare) {
    if (state.compare[0].includes(',')) state.compare.forEach((name) => search.append('compare', name));
    else search.set('compare', state.compare.join(','));
  }
  if (state.align !== DEFAULT_VIEW_STATE.align) search.set('align', state.align);
  if (state.step !== DEFAULT_VIEW_STATE.step) search.set('step', String(state.step));
  if (state.view !== DEFAULT_VIEW_STATE.view) search.set('view', state.view);
  if (state.neuron) search.set('neuron', `${state.neuron.layer}.${state.neuron.index}`);
  if (state.probe !== undefined) search.set('probe', String(state.probe));
  if (state.scale !== DEFAULT_VIEW_STATE.scale) search.set('scale', state.scale);
  // Commas are legal in a query and keep `compare=a,b` readable.
  const text = search.toString().replaceAll('%2C', ',');
  return text ? `?${text}` : '';
}

function splitOnce(text: string): [string, string] | undefined {
  const comma = text.indexOf(',');
  return comma < 0 ? undefined : [text.slice(0, comma), text.slice(comma + 1)];
}
