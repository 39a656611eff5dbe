/**
 * `runs/index.json`: the list of runs a viewer offers. Served live by `npm run view` and written
 * as a file when runs are exported as a static site.
 */
import type { RunManifest, RunStatus } from './manifest.js';
import { effectiveStatus } from './run-status.js';

export const RUN_INDEX_FILE = 'index.json';

export interface RunSummary {
  name: string;
  /** `starting`: a run folder whose recorder has not written run.json yet (made in the last 30 s). */
  status: RunStatus | 'unreadable' | 'starting';
  stepCount: number;
  plannedSteps: number;
  dataset: string;
  /** Neurons per layer, the input first. */
  layers: number[];
  activation: string;
  finalAccuracy: number | null;
  /** Kinds of the stored findings, one entry per finding. */
  findings: string[];
  updatedAt: string;
  /** Why run.json could not be read, for `unreadable`. */
  problem?: string;
}

/**
 * @param now for a `recording` run whose recorder stopped without finishing, shown as interrupted
 * @param lastWrite run.json's modification time, where the lister can see it (effectiveStatus)
 */
export function summarizeRun(manifest: RunManifest, now = Date.now(), lastWrite?: number): RunSummary {
  return {
    name: manifest.name,
    status: effectiveStatus(manifest, now, lastWrite).status,
    stepCount: manifest.stepCount,
    plannedSteps: manifest.plannedSteps,
    dataset: manifest.dataset.name,
    layers: manifest.layers.map((layer) => layer.size),
    activation: manifest.config.activation,
    finalAccuracy: manifest.finalEval?.accuracy ?? null,
    findings: manifest.findings.map((finding) => finding.kind),
    updatedAt: manifest.updatedAt,
  };
}

/** A run folder made `since` (ISO time) whose run.json is not written yet: its recorder is starting. */
export function startingRun(name: string, since: string): RunSummary {
  const { problem: _problem, ...summary } = unreadableRun(name, '');
  return { ...summary, status: 'starting', updatedAt: since };
}

export function unreadableRun(name: string, problem: string): RunSummary {
  return {
    name,
    status: 'unreadable',
    stepCount: 0,
    plannedSteps: 0,
    dataset: '',
    layers: [],
    activation: '',
    finalAccuracy: null,
    findings: [],
    updatedAt: '',
    problem,
  };
}
