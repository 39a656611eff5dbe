/**
 * What the user has chosen to look at — view, scale, neuron, probe, step — shared by the single-run
 * and the compare page. Scrubbing requests steps; the drawn step follows on animation frames, the
 * newest request winning (`LatestOnly`), so a fast drag never queues stale frames.
 */
import { LatestOnly } from '$core/view/latest-only';
import type { ScaleMode } from '$core/view/normalize';
import { VIEW_SPECS, VIEWS, type View } from '$core/format/quantities';
import type { ViewState } from '$core/view/url-state';

/** Input types where Space and letters are typed text (not the range, checkbox or button kinds). */
const TEXT_INPUTS = new Set([
  'text',
  'search',
  'email',
  'url',
  'tel',
  'password',
  'number',
  'date',
  'datetime-local',
  'month',
  'week',
  'time',
]);

/** Whether keys typed at `target` are text: there Space and letters keep their meaning. */
export function isTextField(target: EventTarget | null): boolean {
  if (target instanceof HTMLTextAreaElement) return true;
  if (target instanceof HTMLInputElement) return TEXT_INPUTS.has(target.type);
  return target instanceof HTMLElement && target.isContentEditable;
}

/** Edges drawn per layer while the scrubber is held or playing (level of detail); all on release. */
export const INTERACTIVE_EDGE_LIMIT = 4000;

export class ViewControls {
  view = $state<View>('activation');
  scale = $state<ScaleMode>('layer');
  selected = $state<{ layer: number; index: number } | undefined>(undefined);
  probe = $state<number | undefined>(undefined);
  /** The step last asked for (the scrubber's position). */
  requested = $state(0);
  /** The step drawn. */
  step = $state(0);
  /** The scrubber is held or playback runs: draw the cheap level of detail. */
  interacting = $state(false);
  /** Views the run cannot show (a quantity its format version did not record), with why: their keys do nothing. */
  unavailable = $state.raw<ReadonlyMap<View, string>>(new Map());
  readonly #latest: LatestOnly<number>;

  constructor(initial: ViewState, schedule: (tick: () => void) => void = (tick) => requestAnimationFrame(() => tick())) {
    this.view = initial.view;
    this.scale = initial.scale;
    this.selected = initial.neuron;
    this.probe = initial.probe;
    this.requested = this.step = initial.step;
    this.#latest = new LatestOnly(schedule, (step) => (this.step = step));
  }

  get edgeLimit(): number | undefined {
    return this.interacting ? INTERACTIVE_EDGE_LIMIT : undefined;
  }

  request(step: number): void {
    this.requested = step;
    this.#latest.request(step);
  }

  /**
   * ←/→ one step, Shift ten, Home, End (true: the key moved the step); a view's key (a, g, c) switches
   * to it. Steps move from `from`, the step last asked for (not the one drawn, which lags behind on a
   * busy machine): N presses move N steps.
   */
  handleKey(event: KeyboardEvent, lastStep: number, from = Math.min(this.requested, lastStep)): boolean {
    if (isTextField(event.target) || event.target instanceof HTMLSelectElement) return false;
    const view = VIEWS.find((name) => VIEW_SPECS[name].key === event.key);
    if (view && !event.ctrlKey && !event.metaKey && !event.altKey) {
      if (!this.unavailable.has(view)) this.view = view;
      return false;
    }
    const jump = event.shiftKey ? 10 : 1;
    if (event.key === 'ArrowRight') this.request(Math.min(lastStep, from + jump));
    else if (event.key === 'ArrowLeft') this.request(Math.max(0, from - jump));
    else if (event.key === 'Home') this.request(0);
    else if (event.key === 'End') this.request(lastStep);
    else return false;
    event.preventDefault();
    return true;
  }

  cancel(): void {
    this.#latest.cancel();
  }
}
