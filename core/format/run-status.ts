/**
 * A run whose run.json says `recording` may be recording, or may have been killed (`kill -9`, a
 * crash, a power cut) before it could say otherwise. The recorder rewrites run.json at least every
 * HEARTBEAT_MS while it records, so a `recording` run.json older than STALE_AFTER_MS belongs to a
 * recorder that stopped: it is shown as interrupted. (Clocks: the reader's against the recorder's;
 * on one machine, or machines whose clocks agree within seconds, that is safe.)
 */
import type { RunManifest, RunStatus } from './manifest.js';

export const HEARTBEAT_MS = 2000;
export const STALE_AFTER_MS = 30_000;

export interface EffectiveStatus {
  status: RunStatus;
  /** `recording` in run.json, but no heartbeat for STALE_AFTER_MS: the recorder stopped without finishing. */
  stopped: boolean;
}

/**
 * @param lastWrite when run.json was last written, by the reader's clock (the file's modification
 *   time, where the reader can see it): judged like the viewer following a run judges it, by how long
 *   ago the file last changed. Without it, run.json's own `updatedAt`: not a date, or further than
 *   STALE_AFTER_MS from now either way (a clock far off, a hand-edited file), and the recorder cannot
 *   be heard — the run is shown as interrupted, not as recording forever.
 */
export function effectiveStatus(manifest: Pick<RunManifest, 'status' | 'updatedAt'>, now: number, lastWrite?: number): EffectiveStatus {
  if (manifest.status !== 'recording') return { status: manifest.status, stopped: false };
  const heard = lastWrite ?? Date.parse(manifest.updatedAt);
  if (!Number.isFinite(heard) || Math.abs(now - heard) > STALE_AFTER_MS) return { status: 'interrupted', stopped: true };
  return { status: 'recording', stopped: false };
}

export function stoppedMessage(updatedAt: string): string {
  return `The recorder stopped writing at ${updatedAt} without finishing (killed or crashed): the run is interrupted; every step it wrote is shown.`;
}
