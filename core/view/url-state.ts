/**
 * What the viewer shows, as query parameters on the site's root page, so that any static file
 * server can serve deep links: `?run=<name>&step=<n>&view=activation|gradient&neuron=<layer>.<index>&probe=<n>&scale=<mode>`.
 * Parsing never throws: a malformed parameter falls back to its default and is reported.
 */
import { SCALE_MODES, type ScaleMode } from './normalize.js';

export const VIEWS = ['activation', 'gradient'] as const;
export type View = (typeof VIEWS)[number];

export interface ViewState {
  run: string | undefined;
  step: number;
  view: View;
  neuron: { layer: number; index: number } | undefined;
  probe: number | undefined;
  scale: ScaleMode;
}

export const DEFAULT_VIEW_STATE: ViewState = {
  run: undefined,
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
  if (state.step !== DEFAULT_VIEW_STATE.step) search.set('step', String(state.step));
  if (state.view !== DEFAULT_VIEW_STATE.view) search.set('view', state.view);
  if (state.neuron) search.set('neuron', `${state.neuron.layer}.${state.neuron.index}`);
  if (state.probe !== undefined) search.set('probe', String(state.probe));
  if (state.scale !== DEFAULT_VIEW_STATE.scale) search.set('scale', state.scale);
  const text = search.toString();
  return text ? `?${text}` : '';
}
