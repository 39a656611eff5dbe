import { describe, expect, it } from 'vitest';
import { startingRun, unreadableRun, type RunSummary } from '../core/format/run-index.js';
import { filterRuns, findingsText, formatBytes, RUN_COLUMNS, sortRuns } from '../core/view/run-table.js';

function run(name: string, changes: Partial<RunSummary>): RunSummary {
  return {
    ...unreadableRun(name, ''),
    status: 'complete',
    problem: undefined,
    createdAt: '2026-12-01T10:00:00.000Z',
    stepCount: 100,
    plannedSteps: 100,
    dataset: 'mnist-embedded',
    layers: [784, 128, 10],
    activation: 'relu',
    init: 'he',
    optimizer: 'sgd',
    learningRate: 0.1,
    batchSize: 64,
    seed: 1,
    ...changes,
  };
}

const runs = [
  run('a', { learningRate: 0.1, finalEval: { step: 99, loss: 0.3, accuracy: 0.9 }, createdAt: '2026-12-02T09:00:00.000Z' }),
  run('b', { learningRate: 0.01, activation: 'tanh', finalEval: { step: 99, loss: 0.5, accuracy: 0.8 }, findings: ['stalled'] }),
  run('c', { learningRate: 1, layers: [784, 512, 256, 10], finalEval: null, bytes: 5 * 1024 ** 2 }),
  unreadableRun('broken', 'run.json: not valid JSON'),
];

const names = (list: RunSummary[]) => list.map((summary) => summary.name);

describe('the runs table', () => {
  it('sorts by any column both ways, numbers as numbers, missing values last either way', () => {
    expect(names(sortRuns(runs, 'learningRate', 'ascending'))).toEqual(['b', 'a', 'c', 'broken']);
    expect(names(sortRuns(runs, 'learningRate', 'descending'))).toEqual(['c', 'a', 'b', 'broken']);
    expect(names(sortRuns(runs, 'evalAccuracy', 'descending'))).toEqual(['a', 'b', 'c', 'broken']);
    expect(names(sortRuns(runs, 'evalAccuracy', 'ascending'))).toEqual(['b', 'a', 'c', 'broken']);
    // The network by its number of weights, the date by time.
    expect(names(sortRuns(runs, 'layers', 'descending'))).toEqual(['c', 'a', 'b', 'broken']);
    expect(names(sortRuns(runs, 'createdAt', 'descending'))).toEqual(['a', 'b', 'c', 'broken']);
  });

  it('filters on every word anywhere in the row, or on one column with key:value', () => {
    expect(names(filterRuns(runs, 'tanh'))).toEqual(['b']);
    expect(names(filterRuns(runs, 'RELU 512'))).toEqual(['c']);
    expect(names(filterRuns(runs, 'lr:0.01'))).toEqual(['b']);
    expect(names(filterRuns(runs, 'activation:relu'))).toEqual(['a', 'c']);
    expect(names(filterRuns(runs, 'nosuchcolumn:1'))).toEqual([]);
    expect(names(filterRuns(runs, '  '))).toEqual(['a', 'b', 'c', 'broken']);
  });

  it('shows sizes, findings and missing values as people read them', () => {
    expect([formatBytes(512), formatBytes(812 * 1024), formatBytes(41.5 * 1024 ** 2), formatBytes(null)]).toEqual([
      '512 B',
      '812 KiB',
      '41.5 MiB',
      '–',
    ]);
    expect(findingsText(['dead-neurons', 'dead-neurons', 'stalled'])).toBe('dead neurons ×2, stalled');
    const cells = (summary: RunSummary) => Object.fromEntries(RUN_COLUMNS.map((column) => [column.key, column.text(summary)]));
    expect(cells(runs[0]!)).toMatchObject({ evalAccuracy: '90.0%', evalLoss: '0.3', trainLoss: '–', createdAt: '26-12-02 09:00' });
    expect(cells(startingRun('soon', '2026-12-05T12:00:00.000Z'))).toMatchObject({ status: 'starting', stepCount: '0', layers: '–' });
  });
});
