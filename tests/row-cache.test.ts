/**
 * The viewer's RowCache (viewer/src/lib/row-cache.svelte.ts): large rows of the chunks used last,
 * read again one chunk at a time when a view wants them, the newest wish winning, and never
 * replacing rows newer than the ones a read brings back.
 */
import { describe, expect, it } from 'vitest';
import type { StepChunk } from '../core/format/reader.js';
import { TypedColumns } from '../core/format/typed-columns.js';
import { RowCache } from '../viewer/src/lib/row-cache.svelte.js';

const chunk = (index: number, rows = 16): StepChunk => ({
  index,
  firstStep: index * 16,
  rows,
  truncated: false,
  problems: [],
  values: new TypedColumns<'steps'>({
    'layer1.classActivation': { values: new Float32Array(rows).fill(index), valid: new Uint8Array(rows).fill(1) },
  }),
});

/** A read function whose reads finish when the test says, in the order asked. */
function controlledReads() {
  const pending: { index: number; finish: (rows?: number) => void }[] = [];
  const read = (index: number) =>
    new Promise<StepChunk>((resolve) => pending.push({ index, finish: (rows = 16) => resolve(chunk(index, rows)) }));
  return { read, pending };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('RowCache', () => {
  it('reads every wanted chunk, one at a time, and holds at most its capacity', async () => {
    const { read, pending } = controlledReads();
    const cache = new RowCache(['classActivation'], read, () => {}, 2);
    cache.want([chunk(0), chunk(1), chunk(2)]);
    expect(pending.map((entry) => entry.index)).toEqual([0]);
    pending.shift()!.finish();
    await settle();
    expect(pending.map((entry) => entry.index)).toEqual([1]);
    pending.shift()!.finish();
    await settle();
    pending.shift()!.finish();
    await settle();
    expect(cache.held.sort()).toEqual([1, 2]);
    expect(cache.get(2)?.get('classActivation', 1)?.values[0]).toBe(2);
  });

  it('lets the newest wish win over chunks of an earlier one not read yet', async () => {
    const { read, pending } = controlledReads();
    const cache = new RowCache(['classActivation'], read, () => {}, 8);
    cache.want([chunk(0), chunk(1)]);
    cache.want([chunk(5)]);
    pending.shift()!.finish();
    await settle();
    expect(pending.map((entry) => entry.index)).toEqual([5]);
    pending.shift()!.finish();
    await settle();
    expect(cache.held.sort()).toEqual([0, 5]);
  });

  it('keeps rows that arrived while a read of the same chunk was under way (a growing chunk of a live run)', async () => {
    const { read, pending } = controlledReads();
    const cache = new RowCache(['classActivation'], read, () => {}, 8);
    cache.want([chunk(3, 8)]);
    // The loader reads the grown chunk and hands its rows over first.
    cache.put(3, chunk(3, 16).values.only(['classActivation']));
    pending.shift()!.finish(8);
    await settle();
    expect(cache.get(3)?.get('classActivation', 1)?.values).toHaveLength(16);
  });

  it('reports a chunk it could not read once, and tries it again when fresh rows arrive', async () => {
    const problems: string[] = [];
    let fail = true;
    const cache = new RowCache(
      ['classActivation'],
      async (index) => {
        if (fail) throw new Error(`chunk ${index}: unreachable`);
        return chunk(index);
      },
      (message) => problems.push(message),
      1,
    );
    cache.want([chunk(4)]);
    await settle();
    cache.want([chunk(4)]);
    await settle();
    expect(problems).toEqual(['chunk 4: unreachable']);
    // Fresh rows of chunk 4 arrive (the loader read it), then go cold again: a later wish reads it.
    cache.put(4, chunk(4).values.only(['classActivation']));
    cache.put(5, chunk(5).values.only(['classActivation']));
    expect(cache.held).toEqual([5]);
    fail = false;
    cache.want([chunk(4)]);
    await settle();
    expect(cache.held.sort()).toEqual([4]);
  });
});
