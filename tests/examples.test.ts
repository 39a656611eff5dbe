/**
 * examples/: one script per way of recording a user's own model, run as a user runs them; and the
 * package imported from another project that installed it by path, from plain Node.
 */
import { execFile } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { DenseLayer } from '../core/format/manifest.js';
import { openRunFolder } from '../recorder/open-run.js';
import { ROOT, tempDir } from './helpers.js';

const run = promisify(execFile);

describe('the examples', () => {
  const out = tempDir('examples');

  it.each([
    ['fit', 'fit', 140, [0.1, undefined, undefined]],
    ['callbacks', 'callbacks', 141, [undefined, 0.2, undefined]],
    ['own-loop', 'step', 60, [undefined, undefined, undefined]],
  ] as const)(
    'examples/%s.ts records a complete run (mode %s), each layer with its dropout',
    async (example, mode, steps, dropouts) => {
      const { stdout } = await run(
        process.execPath,
        ['--import', 'tsx', join(ROOT, 'examples', `${example}.ts`), '--out', out, '--epochs', '1', '--steps', '60'],
        {
          cwd: ROOT,
        },
      );
      expect(stdout).toMatch(new RegExp(`^complete: ${steps} steps, held-out accuracy 0\\.\\d+ → .*${example}-example`));
      const recorded = await openRunFolder(join(out, `${example}-example`));
      expect(recorded.manifest).toMatchObject({ status: 'complete', stepCount: steps, source: { mode, model: 'digits' } });
      expect(recorded.manifest.finalEval!.accuracy).toBeGreaterThan(0.5);
      // fit.ts has a Dropout(0.1) after its first Dense layer, callbacks.ts one of 0.2 after its second: run.json says so, and only there.
      expect(recorded.manifest.layers.slice(1).map((layer) => (layer as DenseLayer).dropout)).toEqual(dropouts);
    },
    120_000,
  );
});

describe('the package', () => {
  it('installs by path into another project and imports from plain Node, with no TypeScript loader of its own', async () => {
    const project = tempDir('consumer');
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', type: 'module', private: true }));
    await run('npm', ['install', '--offline', '--no-audit', '--no-fund', ROOT], { cwd: project });
    expect(readdirSync(join(project, 'node_modules'))).toContain('neural-vision');
    writeFileSync(
      join(project, 'try.mjs'),
      "import * as library from 'neural-vision';\nconsole.log(Object.keys(library).sort().join(' '));\n",
    );
    const { stdout } = await run(process.execPath, ['try.mjs'], { cwd: project });
    expect(stdout.trim()).toBe(
      'DataError Recorder RecorderCallback RecorderStep SUPPORTED UnsupportedModelError crossEntropy describeModel selectEngine',
    );
  }, 120_000);

  it('installs from its tarball (npm pack) as a user installs it: the types check and a model.fit records a run', async () => {
    const project = tempDir('tarball');
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', type: 'module', private: true }));
    const { stdout: packed } = await run('npm', ['pack', ROOT, '--pack-destination', project, '--json'], { cwd: project });
    const [{ filename, files }] = JSON.parse(packed) as [{ filename: string; files: { path: string }[] }];
    // The library, its data and examples; not the tests, benches or viewer.
    expect(new Set(files.map((file) => file.path.split('/')[0]))).toEqual(
      new Set(['core', 'recorder', 'datasets', 'examples', 'docs', 'README.md', 'package.json', 'tsconfig.json']),
    );
    // Registry metadata is asked for as any install does; the packages themselves come from npm ci's cache.
    await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', `./${filename}`, '@types/node@20'], { cwd: project });
    const script = [
      "import * as tf from '@tensorflow/tfjs-core';",
      "import * as tfl from '@tensorflow/tfjs-layers';",
      "import { Recorder, selectEngine } from 'neural-vision';",
      "await selectEngine('cpu');",
      "const model = tfl.sequential({ name: 'tiny', layers: [tfl.layers.dense({ inputShape: [4], units: 6, activation: 'relu' }), tfl.layers.dropout({ rate: 0.25 }), tfl.layers.dense({ units: 3, activation: 'softmax' })] });",
      "model.compile({ optimizer: tf.train.sgd(0.1), loss: 'sparseCategoricalCrossentropy' });",
      'const x = tf.tensor2d(Float32Array.from({ length: 120 }, (_, i) => ((i * 7) % 11) / 11), [30, 4]);',
      "const y = tf.tensor1d(Array.from({ length: 30 }, (_, i) => i % 3), 'int32');",
      "const recorder = new Recorder({ out: process.argv[2] ?? 'runs', name: 'tiny' });",
      '// @ts-expect-error: the types are the real ones (an untyped package would make this line an error of its own).',
      "new Recorder({ out: 1, name: 'typed' });",
      'const result = await recorder.fit(model, x, y, { epochs: 2, batchSize: 10, seed: 1 });',
      'console.log(result.status, result.stepCount);',
    ].join('\n');
    writeFileSync(join(project, 'try.ts'), script);
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
        },
      }),
    );
    await run(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project], { cwd: project });
    // The same script as plain JavaScript, minus the line that is meant not to type-check (it would throw).
    writeFileSync(join(project, 'try.mjs'), script.replace(/\/\/ @ts-expect-error.*\n.*\n/, ''));
    const out = join(project, 'runs');
    const { stdout } = await run(process.execPath, ['try.mjs', out], { cwd: project });
    expect(stdout.trim()).toBe('complete 6');
    const recorded = await openRunFolder(join(out, 'tiny'));
    expect(recorded.manifest.layers[1]).toMatchObject({ size: 6, activation: 'relu', dropout: 0.25 });
  }, 180_000);
});
