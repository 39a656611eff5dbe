/**
 * `kill -9` at 22 moments spread over a run — start-up, the first files, flushes mid-chunk, chunk
 * roll-overs, while run.json is being replaced, the last flush, the very end. Every time: the format
 * reader reads every step run.json lists, the viewer opens the run up to its last whole step and
 * shows it as interrupted (its heartbeat stopped), and nothing else on disk changes.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, watch } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STALE_AFTER_MS } from '../../core/format/run-status.js';
import { openRunFolder } from '../../recorder/open-run.js';
import { runRecorder, startRecorder, tempDir, TINY, waitFor } from '../helpers.js';
import { serveRuns, startSession, type ViewerSession } from './harness.js';

/** The default network and run (560 steps, chunks of 64 steps), so that files are large and chunks roll over. */
const ARGS = ['--quiet'];

/** `args`: extra recorder flags; a paced run (run.json rewritten at every flush) makes the moments near the end land before it finishes. */
type Moment = { name: string; args?: string[] } & (
  { after: number } | { steps: number } | { file: RegExp; minimumSteps?: number } | { status: 'complete' }
);

const MOMENTS: Moment[] = [
  { name: '100 ms into start-up', after: 100 },
  { name: '400 ms into start-up', after: 400 },
  { name: '900 ms into start-up', after: 900 },
  { name: 'as run.json appears', file: /^run\.json$/ },
  { name: 'as the first chunk file appears', file: /^steps-0000\.arrows$/ },
  { name: 'after the first flush', steps: 16 },
  { name: 'mid-chunk, step 40', steps: 40 },
  { name: 'at the first chunk boundary', steps: 64 },
  { name: 'mid-chunk, step 100', steps: 100 },
  { name: 'as the third chunk file appears', file: /^steps-0002\.arrows$/ },
  { name: 'mid-chunk, step 150', steps: 150 },
  { name: 'as a layer-1 weight file appears in chunk 5', file: /^weights-layer1-0005\.arrows$/ },
  { name: 'mid-chunk, step 250', steps: 250 },
  { name: 'while run.json is replaced, early', file: /^run\.json\.\d+\.tmp$/, minimumSteps: 1 },
  { name: 'while run.json is replaced, step 120+', file: /^run\.json\.\d+\.tmp$/, minimumSteps: 120 },
  { name: 'while run.json is replaced, step 300+', file: /^run\.json\.\d+\.tmp$/, minimumSteps: 300 },
  { name: 'while run.json is replaced, step 450+', file: /^run\.json\.\d+\.tmp$/, minimumSteps: 450 },
  { name: 'mid-chunk, step 350', steps: 350 },
  { name: 'near the end, step 528', steps: 528, args: ['--pace', '60'] },
  { name: 'at the last flush, step 544', steps: 544, args: ['--pace', '60'] },
  { name: 'with every step written', steps: 560 },
  { name: 'at the very end', status: 'complete' },
];

function stepsListed(directory: string): number {
  try {
    return (JSON.parse(readFileSync(join(directory, 'run.json'), 'utf8')) as { stepCount: number }).stepCount;
  } catch {
    return -1;
  }
}

function statusListed(directory: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(join(directory, 'run.json'), 'utf8')) as { status: string }).status;
  } catch {
    return undefined;
  }
}

/** Kills the recorder with SIGKILL at `moment`; resolves when it is dead. */
async function killAt(moment: Moment, out: string, name: string): Promise<void> {
  const directory = join(out, name);
  const recorder = startRecorder([...ARGS, ...(moment.args ?? []), '--out', out, '--name', name]);
  const kill = () => recorder.child.kill('SIGKILL');
  try {
    if ('after' in moment) await new Promise((resolve) => setTimeout(resolve, moment.after));
    else if ('steps' in moment) await waitFor(() => stepsListed(directory) >= moment.steps, 60_000, `${moment.steps} steps`);
    else if ('status' in moment) await waitFor(() => statusListed(directory) === moment.status, 60_000, moment.status);
    else {
      if (moment.minimumSteps) await waitFor(() => stepsListed(directory) >= moment.minimumSteps!, 60_000, 'steps');
      else await waitFor(() => existsSync(directory), 60_000, 'the run folder');
      // Kill from the file-system event itself: as close to the file's appearance as a test can get.
      await new Promise<void>((resolve) => {
        const watcher = watch(directory, (_, file) => {
          if (file && moment.file.test(file)) {
            kill();
            watcher.close();
            resolve();
          }
        });
        if (readdirSync(directory).some((file) => moment.file.test(file)) && !moment.file.source.includes('tmp')) {
          kill();
          watcher.close();
          resolve();
        }
      });
    }
  } finally {
    kill();
  }
  await recorder.done;
}

function digest(directory: string): string {
  const hash = createHash('sha256');
  for (const file of readdirSync(directory).sort()) hash.update(file).update(readFileSync(join(directory, file)));
  return hash.digest('hex');
}

let session: ViewerSession;
let out = '';
let bystander = '';

beforeAll(async () => {
  out = tempDir('kill-harness');
  const recorded = await runRecorder([...TINY, '--out', out, '--name', 'bystander', '--max-steps', '30']);
  expect(recorded.code).toBe(0);
  bystander = digest(join(out, 'bystander'));
  session = await startSession(await serveRuns(out));
}, 90_000);

afterAll(async () => {
  await session?.close();
});

describe('kill -9 at 22 moments of a run', () => {
  it.each(MOMENTS.map((moment, index) => [moment.name, index] as const))(
    'killed %s: the run reads up to its last whole step and shows as interrupted',
    async (_, index) => {
      const moment = MOMENTS[index]!;
      const name = `victim-${String(index).padStart(2, '0')}`;
      const directory = join(out, name);
      await killAt(moment, out, name);
      // Killed before run.json: there is no run to show (the run list calls the folder unreadable), and no steps were lost.
      if (!existsSync(join(directory, 'run.json'))) {
        expect(existsSync(directory) ? readdirSync(directory).filter((file) => file.startsWith('steps-')) : []).toEqual([]);
        return;
      }
      const run = await openRunFolder(directory);
      let rows = 0;
      for (let chunk = 0; chunk < run.manifest.chunks.length; chunk++) {
        const steps = await run.readSteps(chunk);
        expect(steps.problems).toEqual([]);
        steps.values.get('step')!.forEach((step, row) => expect(step).toBe(steps.firstStep + row));
        rows += steps.rows;
        for (const weights of run.manifest.chunks[chunk]!.weights)
          expect((await run.readWeights(chunk, weights.layer))!.problems).toEqual([]);
      }
      expect(rows).toBeGreaterThanOrEqual(run.manifest.stepCount);

      // The viewer, with its clock past the heartbeat's limit: a killed recorder's run is interrupted.
      const view = await session.browser.newPage();
      const errors: string[] = [];
      view.on('pageerror', (error) => errors.push(error.message));
      await view.clock.setFixedTime(Date.now() + STALE_AFTER_MS + 5000);
      await view.goto(`${session.origin}/?run=${name}`);
      await view.waitForFunction(() => document.querySelector('[data-testid="run-header"]')?.getAttribute('data-loading') === 'false');
      const expected = run.manifest.status === 'complete' ? 'complete' : 'interrupted';
      await view.getByTestId('status').filter({ hasText: expected }).waitFor();
      // Every whole step in the files, which can be more than run.json lists (it is written after the bytes).
      expect(Number(await view.getByTestId('run-header').getAttribute('data-loaded-steps'))).toBe(rows);
      if (run.manifest.stepCount > 0) await view.locator('[data-testid="network"] canvas').waitFor();
      expect(errors).toEqual([]);
      await view.close();
      // Nothing else on disk changed.
      expect(digest(join(out, 'bystander'))).toBe(bystander);
    },
    90_000,
  );
});
