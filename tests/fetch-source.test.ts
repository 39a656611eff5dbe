import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import sirv from 'sirv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanStream } from '../core/format/decode.js';
import { fetchFirstBatch, fetchRunSource } from '../core/format/fetch-source.js';
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
    expect(httpSteps.values.byColumnName()).toEqual(diskSteps.values.byColumnName());
    expect((await overHttp.readWeights(0, 1))!.values.byColumnName()).toEqual((await onDisk.readWeights(0, 1))!.values.byColumnName());
  });

  it('names the URL when the run does not exist', async () => {
    await expect(openRun(fetchRunSource(`${base}/missing`))).rejects.toThrowError(
      `${base}/missing/run.json: cannot be read (does the run exist?)`,
    );
  });

  it('paints early from a prefix: the first batch by Range requests, the whole file where Range is ignored', async () => {
    const file = join(out, 'served', 'steps-0000.arrows');
    const bytes = readFileSync(file);
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    const schemaEnd = 8 + view.getInt32(4, true);
    const batchMetadataEnd = schemaEnd + 8 + view.getInt32(schemaEnd + 4, true);
    const firstBatchEnd = scanStream(bytes).firstBatchEnd!;
    const half = Math.floor(bytes.length / 2);
    const files = sirv(out, { dev: true });
    const requests: string[] = [];
    const ranged = createServer((request, response) => {
      requests.push(request.headers.range ?? 'whole');
      files(request, response, () => {
        response.statusCode = 404;
        response.end();
      });
    });
    await new Promise<void>((resolve) => ranged.listen(0, '127.0.0.1', resolve));
    try {
      const rangedBase = `http://127.0.0.1:${(ranged.address() as AddressInfo).port}/served`;
      const reader = await openRun(fetchRunSource(rangedBase));
      const whole = await reader.readSteps(0);
      // The recorder writes the run's first step as a batch of its own; a guess that cuts it short
      // is followed by a request for the rest of it, and no more.
      requests.length = 0;
      const first = await fetchFirstBatch(rangedBase, 'steps-0000.arrows', batchMetadataEnd + 10);
      expect(requests).toEqual([`bytes=0-${batchMetadataEnd + 9}`, `bytes=${batchMetadataEnd + 10}-${firstBatchEnd - 1}`]);
      expect(first).toMatchObject({ partial: true });
      expect(first.bytes).toEqual(new Uint8Array(bytes.subarray(0, firstBatchEnd)));
      const step0 = reader.decodeStepsPrefix(0, first.bytes);
      expect(step0.rows).toBe(1);
      expect(step0.problems).toEqual([]);
      expect(step0.values.get('loss')).toEqual(whole.values.get('loss')!.subarray(0, 1));
      // A guess that holds the first batch: one request, and the whole batches in it (then 16 steps each).
      requests.length = 0;
      const head = await fetchFirstBatch(rangedBase, 'steps-0000.arrows', half);
      expect(requests).toEqual([`bytes=0-${half - 1}`]);
      expect(head).toMatchObject({ partial: true });
      expect(head.bytes.length).toBe(half);
      const prefix = reader.decodeStepsPrefix(0, head.bytes);
      expect((prefix.rows - 1) % 16).toBe(0);
      expect(prefix.rows).toBeGreaterThan(1);
      expect(prefix.rows).toBeLessThan(40);
      expect(prefix.problems).toEqual([]);
      expect(prefix.values.get('loss')).toEqual(whole.values.get('loss')!.subarray(0, prefix.rows));
      // A guess too short to hold the first batch's metadata: what it got, for the full read to follow.
      requests.length = 0;
      const short = await fetchFirstBatch(rangedBase, 'steps-0000.arrows', schemaEnd + 4);
      expect(requests).toHaveLength(1);
      expect(short.bytes.length).toBe(schemaEnd + 4);
      expect(reader.decodeStepsPrefix(0, short.bytes).rows).toBe(0);
    } finally {
      ranged.close();
    }
    const ignored = await fetchFirstBatch(`${base}/served`, 'steps-0000.arrows', half);
    expect(ignored.partial).toBe(false);
    expect(ignored.bytes.length).toBe(bytes.length);
  });
});
