/**
 * Following a run that is still recording: what the viewer says about it, from the status in its
 * run.json and how long ago that file last changed (by the viewer's clock, not the recorder's).
 */
import type { RunStatus } from '../format/manifest.js';
import { STALE_AFTER_MS, stoppedMessage } from '../format/run-status.js';

/** A recording run whose run.json has not changed for this long is shown as stalled (crashed?). */
export const STALLED_AFTER_MS = 10_000;

export type FollowState =
  | { state: 'recording' }
  | { state: 'stalled'; message: string }
  | { state: 'unreachable'; message: string }
  | { state: 'finished'; status: Exclude<RunStatus, 'recording'>; message: string };

/**
 * @param sinceChangeMs how long ago run.json last changed, by the viewer's clock
 * @param updatedAt run.json's own time stamp, for the message when the recorder is judged stopped
 */
export function followState(status: RunStatus, sinceChangeMs: number, updatedAt = '', stalledAfterMs = STALLED_AFTER_MS): FollowState {
  if (status !== 'recording') return { state: 'finished', status, message: finishedMessage(status) };
  // The recorder's heartbeat rewrites run.json every few seconds: this long without one, it is gone.
  if (sinceChangeMs > STALE_AFTER_MS) return { state: 'finished', status: 'interrupted', message: stoppedMessage(updatedAt) };
  if (sinceChangeMs >= stalledAfterMs)
    return {
      state: 'stalled',
      message: `No new data for ${Math.round(sinceChangeMs / 1000)} s: the recorder may have stopped or crashed; what it wrote is shown.`,
    };
  return { state: 'recording' };
}

function finishedMessage(status: Exclude<RunStatus, 'recording'>): string {
  switch (status) {
    case 'complete':
      return 'The recording finished.';
    case 'interrupted':
      return 'The recording was interrupted; every step it wrote is shown.';
    case 'failed':
      return 'The recording failed; every step it wrote is shown.';
  }
}
