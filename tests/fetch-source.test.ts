import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchRunSource } from '../core/format/fetch-source.js';
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
});
