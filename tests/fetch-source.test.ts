import { readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import sirv from 'sirv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchPrefix, fetchRunSource } from '../core/format/fetch-source.js';
import { openRun } from '../core/format/reader.js';
import { openRunFolder } from '../recorder/open-run.js';
import { runRecorder, tempDir, TINY } from './helpers.js';

describe('reading a run over HTTP', () => {
  const out = tempDir('http');
  const server = createServer((request, response) => {
    try {
      response.end(readFileSync(join(out, decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname))));
    } catch {
      response.statusCode = 404;
      response.end();
    }
  });
  let base = '';

  beforeAll(async () => {
    const recorded = await runRecorder([...TINY, '--out', out, '--name', 'served', '--max-steps', '40']);
    expect(recorded.code).toBe(0);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }, 60_000);
  afterAll(() => void server.close());

  it('reads the same manifest, steps and weights as the folder', async () => {
    const overHttp = await openRun(fetchRunSource(`${base}/served/`));
    const onDisk = await openRunFolder(join(out, 'served'));
    expect(overHttp.manifest).toEqual(onDisk.manifest);
    const [httpSteps, diskSteps] = await Promise.all([overHttp.readSteps(0), onDisk.readSteps(0)]);
    expect(httpSteps.rows).toBe(40);
    expect(httpSteps.columns).toEqual(diskSteps.columns);
    expect((await overHttp.readWeights(0, 1))!.columns).toEqual((await onDisk.readWeights(0, 1))!.columns);
  });

  it('names the URL when the run does not exist', async () => {
    await expect(openRun(fetchRunSource(`${base}/missing`))).rejects.toThrowError(
      `${base}/missing/run.json: cannot be read (does the run exist?)`,
    );
  });

  it('paints early from a prefix: whole batches from a Range request, the whole file where Range is ignored', async () => {
    const file = join(out, 'served', 'steps-0000.arrows');
    const half = Math.floor(statSync(file).size / 2);
    const files = sirv(out, { dev: true });
    const ranged = createServer((request, response) =>
      files(request, response, () => {
        response.statusCode = 404;
        response.end();
      }),
    );
    await new Promise<void>((resolve) => ranged.listen(0, '127.0.0.1', resolve));
    try {
      const rangedBase = `http://127.0.0.1:${(ranged.address() as AddressInfo).port}/served`;
      const head = await fetchPrefix(rangedBase, 'steps-0000.arrows', half);
      expect(head.partial).toBe(true);
      expect(head.bytes.length).toBe(half);
      const reader = await openRun(fetchRunSource(rangedBase));
      const prefix = reader.decodeStepsPrefix(0, head.bytes);
      const whole = await reader.readSteps(0);
      // Record batches hold 16 steps: the prefix holds the whole ones that fit.
      expect(prefix.rows % 16).toBe(0);
      expect(prefix.rows).toBeGreaterThan(0);
      expect(prefix.rows).toBeLessThan(40);
      expect(prefix.problems).toEqual([]);
      expect(prefix.columns.loss).toEqual((whole.columns.loss as Float32Array).subarray(0, prefix.rows));
    } finally {
      ranged.close();
    }
    const ignored = await fetchPrefix(`${base}/served`, 'steps-0000.arrows', half);
    expect(ignored.partial).toBe(false);
    expect(ignored.bytes.length).toBe(statSync(file).size);
  });
});
