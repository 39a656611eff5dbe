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
  /** When recording began (ISO time); '' when unknown. */
  createdAt: string;
  stepCount: number;
  plannedSteps: number;
  dataset: string;
  /** Neurons per layer, the input first. */
  layers: number[];
  activation: string;
  init: string;
  optimizer: string;
  learningRate: number | null;
  batchSize: number | null;
  seed: number | null;
  /** Training loss and batch accuracy at the end: their mean over the last steps (up to FINAL_TRAIN_STEPS). */
  finalTrain: { loss: number; accuracy: number } | null;
  /** Held-out loss and accuracy of the last evaluation. */
  finalEval: { step: number; loss: number | null; accuracy: number } | null;
  /** Kinds of the stored findings, one entry per finding. */
  findings: string[];
  /** Bytes of the run's files on disk, where the lister can see them. */
  bytes: number | null;
  updatedAt: string;
  /** Why run.json could not be read, for `unreadable`. */
  problem?: string;
}

/**
 * @param now for a `recording` run whose recorder stopped without finishing, shown as interrupted
 * @param lastWrite run.json's modification time, where the lister can see it (effectiveStatus)
 * @param bytes the run's files' size on disk, where the lister can see them
 */
export function summarizeRun(manifest: RunManifest, now = Date.now(), lastWrite?: number, bytes: number | null = null): RunSummary {
  const { config } = manifest;
  return {
    name: manifest.name,
    status: effectiveStatus(manifest, now, lastWrite).status,
    createdAt: manifest.createdAt,
    stepCount: manifest.stepCount,
    plannedSteps: manifest.plannedSteps,
    dataset: manifest.dataset.name,
    layers: manifest.layers.map((layer) => layer.size),
    activation: config.activation,
    init: config.init,
    optimizer: config.optimizer,
    learningRate: config.learningRate,
    batchSize: config.batchSize,
    seed: config.seed,
    finalTrain:
      manifest.finalTrain && manifest.finalTrain.loss !== null
        ? { loss: manifest.finalTrain.loss, accuracy: manifest.finalTrain.accuracy }
        : null,
    finalEval: manifest.finalEval,
    findings: manifest.findings.map((finding) => finding.kind),
    bytes,
    updatedAt: manifest.updatedAt,
  };
}

/** A run folder made `since` (ISO time) whose run.json is not written yet: its recorder is starting. */
export function startingRun(name: string, since: string): RunSummary {
  const { problem: _problem, ...summary } = unreadableRun(name, '');
  return { ...summary, status: 'starting', createdAt: since, updatedAt: since };
}

export function unreadableRun(name: string, problem: string): RunSummary {
  return {
    name,
    status: 'unreadable',
    createdAt: '',
    stepCount: 0,
    plannedSteps: 0,
    dataset: '',
    layers: [],
    activation: '',
    init: '',
    optimizer: '',
    learningRate: null,
    batchSize: null,
    seed: null,
    finalTrain: null,
    finalEval: null,
    findings: [],
    bytes: null,
    updatedAt: '',
    problem,
  };
}
