/**
 * examples/: one script per way of recording a user's own model, run as a user runs them; and the
 * package imported from another project that installed it by path, from plain Node.
 */
import { execFile } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { openRunFolder } from '../recorder/open-run.js';
import { ROOT, tempDir } from './helpers.js';

const run = promisify(execFile);

describe('the examples', () => {
  const out = tempDir('examples');

  it.each([
    ['fit', 'fit', 140],
    ['callbacks', 'callbacks', 141],
    ['own-loop', 'step', 60],
  ] as const)(
    'examples/%s.ts records a complete run (mode %s)',
    async (example, mode, steps) => {
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
});
