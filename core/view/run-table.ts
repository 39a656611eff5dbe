/**
 * The runs table: its columns (what each shows and how it sorts), sorting with missing values last
 * whichever the direction, and a filter over what the row shows. Pure: summaries in, rows out.
 */
import type { RunSummary } from '../format/run-index.js';

export interface RunColumn {
  key: string;
  label: string;
  /** What the cell shows. */
  text: (run: RunSummary) => string;
  /** What it sorts by; null sorts last. */
  sortValue: (run: RunSummary) => number | string | null;
  numeric?: boolean;
}

const percent = (value: number | null | undefined) => (value === null || value === undefined ? '–' : `${(value * 100).toFixed(1)}%`);
const decimal = (value: number | null | undefined) => (value === null || value === undefined ? '–' : String(Number(value.toPrecision(4))));

/** Sizes as people read them: 812 KiB, 41.5 MiB. */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined) return '–';
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value < 100 ? Number(value.toFixed(1)) : Math.round(value)} ${units[unit]}`;
}

/** "dead neurons ×2, stalled" */
export function findingsText(kinds: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const kind of kinds) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return [...counts].map(([kind, count]) => `${kind.replaceAll('-', ' ')}${count > 1 ? ` ×${count}` : ''}`).join(', ') || '–';
}

const text = (key: string, label: string, value: (run: RunSummary) => string): RunColumn => ({
  key,
  label,
  text: (run) => value(run) || '–',
  sortValue: (run) => value(run) || null,
});

const number = (key: string, label: string, value: (run: RunSummary) => number | null | undefined, show = decimal): RunColumn => ({
  key,
  label,
  numeric: true,
  text: (run) => show(value(run)),
  sortValue: (run) => {
    const found = value(run);
    return found === null || found === undefined || Number.isNaN(found) ? null : found;
  },
});

export const RUN_COLUMNS: readonly RunColumn[] = [
  text('name', 'Run', (run) => run.name),
  text('status', 'Status', (run) => run.status),
  // Recorded when (UTC, to the minute).
  { ...text('createdAt', 'Date', (run) => run.createdAt.slice(2, 16).replace('T', ' ')), sortValue: (run) => run.createdAt || null },
  text('dataset', 'Dataset', (run) => run.dataset),
  {
    ...text('layers', 'Network', (run) => run.layers.join('-')),
    // By size: the number of weights.
    sortValue: (run) =>
      run.layers.length > 1 ? run.layers.slice(1).reduce((sum, size, index) => sum + size * run.layers[index]!, 0) : null,
  },
  text('activation', 'Activation', (run) => run.activation),
  text('init', 'Init', (run) => run.init),
  text('optimizer', 'Optimizer', (run) => run.optimizer),
  number('learningRate', 'lr', (run) => run.learningRate),
  number('batchSize', 'Batch', (run) => run.batchSize),
  number('seed', 'Seed', (run) => run.seed),
  {
    ...number('stepCount', 'Steps', (run) => (run.status === 'unreadable' ? null : run.stepCount)),
    // A run that stopped short or still records: the steps it has of those planned.
    text: (run) =>
      run.status === 'unreadable'
        ? '–'
        : run.stepCount < run.plannedSteps
          ? `${run.stepCount} / ${run.plannedSteps}`
          : String(run.stepCount),
  },
  number('trainLoss', 'Train loss', (run) => run.finalTrain?.loss),
  number('trainAccuracy', 'Train acc', (run) => run.finalTrain?.accuracy, percent),
  number('evalLoss', 'Held-out loss', (run) => run.finalEval?.loss),
  number('evalAccuracy', 'Held-out acc', (run) => run.finalEval?.accuracy, percent),
  { ...number('findings', 'Findings', (run) => run.findings.length), numeric: false, text: (run) => findingsText(run.findings) },
  number('bytes', 'Size', (run) => run.bytes, formatBytes),
];

export type SortDirection = 'ascending' | 'descending';

/** The runs ordered by a column; ties keep their order; missing values last in either direction. */
export function sortRuns(runs: readonly RunSummary[], key: string, direction: SortDirection): RunSummary[] {
  const column = RUN_COLUMNS.find((candidate) => candidate.key === key);
  if (!column) return [...runs];
  const sign = direction === 'ascending' ? 1 : -1;
  return runs
    .map((run, index) => ({ run, index, value: column.sortValue(run) }))
    .sort((a, b) => {
      if (a.value === null || b.value === null) return a.value === b.value ? a.index - b.index : a.value === null ? 1 : -1;
      const order =
        typeof a.value === 'number' && typeof b.value === 'number'
          ? a.value - b.value
          : String(a.value).localeCompare(String(b.value), undefined, { numeric: true });
      return order * sign || a.index - b.index;
    })
    .map(({ run }) => run);
}

/**
 * The runs whose row holds every word of `query` (case-insensitive, anywhere in any cell); a word
 * `key:value` matches that column only (`activation:tanh`, `lr:0.1`).
 */
export function filterRuns(runs: readonly RunSummary[], query: string): RunSummary[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return [...runs];
  return runs.filter((run) =>
    words.every((word) => {
      const [key, value] = word.includes(':') ? (word.split(':', 2) as [string, string]) : [undefined, word];
      const columns =
        key === undefined
          ? RUN_COLUMNS
          : RUN_COLUMNS.filter((column) => column.key.toLowerCase() === key || column.label.toLowerCase() === key);
      if (columns.length === 0) return false;
      return columns.some((column) => column.text(run).toLowerCase().includes(value));
    }),
  );
}
