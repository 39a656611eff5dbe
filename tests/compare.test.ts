import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseManifest, type RunManifest } from '../core/format/manifest.js';
import { configDifferences, neuronsDoNotCorrespond } from '../core/view/compare.js';
import { ROOT } from './helpers.js';

const file = join(ROOT, 'tests', 'fixtures', 'v1-tiny', 'run.json');
const base = (): RunManifest => parseManifest(file, JSON.parse(readFileSync(file, 'utf8')));

describe('comparing two runs', () => {
  it('lists exactly the settings that differ, nested ones by their path', () => {
    const a = base();
    const b = base();
    expect(configDifferences(a, b)).toEqual([]);
    b.config.learningRate = 0.05;
    b.config.seed = 7;
    b.config.diagnostics.saturation.minSteps = 40;
    b.name = 'another name';
    b.createdAt = '2030-01-01T00:00:00.000Z';
    expect(configDifferences(a, b)).toEqual([
      { field: 'learningRate', a: String(a.config.learningRate), b: '0.05' },
      { field: 'seed', a: String(a.config.seed), b: '7' },
      { field: 'diagnostics.saturation.minSteps', a: String(a.config.diagnostics.saturation.minSteps), b: '40' },
    ]);
  });

  it('names a different network and different data first', () => {
    const a = base();
    const b = base();
    b.layers = [...b.layers.slice(0, 1), { ...b.layers[1]!, size: 32 }, ...b.layers.slice(2)] as RunManifest['layers'];
    b.dataset = { ...b.dataset, sha256: 'f'.repeat(64) };
    expect(configDifferences(a, b).map((difference) => difference.field)).toEqual(['network', 'dataset']);
  });

  it('lets neurons be subtracted only with the same shape and the same seed, and says why not', () => {
    const a = base();
    const sameSeed = base();
    sameSeed.config.learningRate = 0.05;
    expect(neuronsDoNotCorrespond(a, sameSeed)).toBeUndefined();
    const otherSeed = base();
    otherSeed.config.seed = a.config.seed + 1;
    expect(neuronsDoNotCorrespond(a, otherSeed)).toContain(`different seeds (${a.config.seed} and ${a.config.seed + 1})`);
    const wider = base();
    wider.layers = [...wider.layers.slice(0, 1), { ...wider.layers[1]!, size: 32 }, ...wider.layers.slice(2)] as RunManifest['layers'];
    expect(neuronsDoNotCorrespond(a, wider)).toContain('needs the same network shape');
  });
});
