/**
 * The malformed-input corpus (tests/corpus/build.ts) in the viewer: each damaged run shows its
 * specific message naming the file, draws what is readable, and never leaves a blank page or throws.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCorpus, SOURCE_FLAGS, type CorpusCase } from '../corpus/build.js';
import { runRecorder, tempDir, TINY } from '../helpers.js';
import { failOnPageErrors, openPage, serveRuns, startSession, type ViewerSession } from './harness.js';

let session: ViewerSession;
let cases: CorpusCase[] = [];

beforeAll(async () => {
  const source = tempDir('browser-corpus-source');
  const recorded = await runRecorder([...TINY, ...SOURCE_FLAGS, '--out', source, '--name', 'tiny']);
  expect(recorded.code).toBe(0);
  const runs = tempDir('browser-corpus');
  cases = await buildCorpus(join(source, 'tiny'), runs);
  session = await startSession(await serveRuns(runs));
}, 90_000);

afterAll(async () => {
  await session?.close();
});

failOnPageErrors();

describe('the viewer on the malformed-input corpus', () => {
  it('shows each damage by file and keeps what is readable', async () => {
    expect(cases.length).toBeGreaterThanOrEqual(10);
    for (const entry of cases) {
      const page = await openPage(session.browser, `${session.origin}/?run=${entry.name}&step=20`);
      if (entry.message !== undefined) {
        await page
          .getByRole('alert')
          .filter({ hasText: entry.message.replace('<run>', `/runs/${entry.name}`) })
          .waitFor({ timeout: 10_000 });
      }
      if (entry.readable) {
        await page.locator('[data-testid="network"] canvas').waitFor({ timeout: 10_000 });
        await page.getByText(/^step 20 of \d+/).waitFor({ timeout: 10_000 });
      }
      if (entry.message === undefined) {
        // NaN and ±Inf are data: drawn in their legend colours, no error.
        expect(await page.getByRole('alert').count()).toBe(0);
        await page.getByTestId('legend').getByText('NaN').waitFor();
      }
      // Never a blank page: the run's heading or an alert is there.
      expect((await page.locator('main h1').count()) + (await page.getByRole('alert').count())).toBeGreaterThan(0);
      await page.close();
    }
  }, 120_000);
});
