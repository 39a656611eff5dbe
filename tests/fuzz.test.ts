/**
 * Property-based fuzzing of everything that reads untrusted input (a short run; `npm run bench:fuzz`
 * runs ≥ 10,000 inputs per target): every input is accepted or refused with the error that names the
 * file or field — never another exception, never a hang.
 */
import fc from 'fast-check';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Field as FieldTable } from 'apache-arrow/fb/field';
import { Int as IntTable } from 'apache-arrow/fb/int';
import { Message as MessageTable } from 'apache-arrow/fb/message';
import { MessageHeader } from 'apache-arrow/fb/message-header';
import { MetadataVersion } from 'apache-arrow/fb/metadata-version';
import { Schema as SchemaTable } from 'apache-arrow/fb/schema';
import { Type } from 'apache-arrow/fb/type';
import { Builder } from 'flatbuffers';
import { decodeStream } from '../core/format/ipc.js';
import { parseManifest } from '../core/format/manifest.js';
import {
  chunkTarget,
  configTarget,
  fuzz,
  manifestTarget,
  LINK_COLUMNS,
  STEP_COLUMNS,
  STEP_COLUMNS_V2,
  validChunk,
  type FuzzTarget,
} from './fuzz/targets.js';
import { concatBytes, runRecorder, tempDir, TINY } from './helpers.js';

/** Fixed seeds: a failure here reproduces; bench/fuzz.ts varies them. */
const SEED = 20261124;

async function expectRobust<T>(target: FuzzTarget<T>, runs: number) {
  await fc.assert(
    fc.asyncProperty(target.inputs, async (input) => {
      await target.run(input);
    }),
    { numRuns: runs, seed: SEED },
  );
  const counts = await fuzz(target, runs, SEED + 1);
  expect(counts.unexpected).toEqual([]);
  expect(counts.slow).toBe(0);
  // Both outcomes happen: the mutations are neither all harmless nor all fatal.
  expect(counts.accepted).toBeGreaterThan(0);
  expect(counts.refused).toBeGreaterThan(0);
}

describe('fuzzing', () => {
  let recorded: { manifest: unknown; chunk: Uint8Array; files: Record<string, Uint8Array> };

  beforeAll(async () => {
    const out = tempDir('fuzz');
    // A budget small enough that layers 1 and 2 keep link frames: run.json lists links files too.
    const result = await runRecorder([...TINY, '--out', out, '--name', 'seed', '--max-steps', '20', '--budget', '300kB']);
    expect(result.code).toBe(0);
    const folder = join(out, 'seed');
    recorded = {
      manifest: JSON.parse(readFileSync(join(folder, 'run.json'), 'utf8')),
      chunk: new Uint8Array(readFileSync(join(folder, 'steps-0000.arrows'))),
      files: Object.fromEntries(
        readdirSync(folder)
          .filter((file) => /^(weights|links)-/.test(file))
          .map((file) => [file, new Uint8Array(readFileSync(join(folder, file)))]),
      ),
    };
    expect(Object.keys(recorded.files)).toContain('links-layer1-0000.arrows');
  }, 60_000);

  it('the chunk decoder refuses damaged chunks with a RunFormatError or reads their whole batches', async () => {
    expect(decodeStream('valid', validChunk(), STEP_COLUMNS).rows).toBe(20);
    await expectRobust(chunkTarget(), 400);
    expect(decodeStream('valid', validChunk(20, STEP_COLUMNS_V2), STEP_COLUMNS_V2).rows).toBe(20);
    await expectRobust(chunkTarget(STEP_COLUMNS_V2), 400);
  });

  it('the decoder refuses damaged links files (int8 codes) with a RunFormatError or reads their whole batches', async () => {
    expect(decodeStream('valid', validChunk(20, LINK_COLUMNS), LINK_COLUMNS).columns.weightCode).toBeInstanceOf(Int8Array);
    await expectRobust(chunkTarget(LINK_COLUMNS), 300);
  });

  it('run.json validation refuses damaged manifests with a ManifestError or RunFormatError', async () => {
    await expectRobust(manifestTarget(recorded), 400);
    // A weights or links file listed for a layer the run does not have is refused by name, not read.
    const misplaced = structuredClone(recorded.manifest) as { chunks: { links: { layer: number }[] }[] };
    misplaced.chunks[0]!.links[0]!.layer = 9;
    expect(() => parseManifest('fuzz/run.json', misplaced)).toThrowError(
      'fuzz/run.json: field "chunks.0.links.0.layer": 9, the run has 3 dense layers',
    );
    // Found by the long run (seed 12345): no layers passed validation, then the reader crashed on them.
    const noLayers = JSON.stringify({ ...(recorded.manifest as object), layers: [] });
    expect(await manifestTarget(recorded).run(noLayers)).toBe('refused');
    expect(() => parseManifest('fuzz/run.json', JSON.parse(noLayers))).toThrowError(
      'fuzz/run.json: field "layers.0": Invalid input: expected object, received undefined; field "layers": expected the input layer and at least the output layer',
    );
    // 60,000 wrong findings: a ManifestError, not the stack overflow zod's issue gathering ran into.
    const wrongFindings = { ...(recorded.manifest as object), findings: Array.from({ length: 60_000 }, () => ({ kind: 'x' })) };
    expect(() => parseManifest('fuzz/run.json', wrongFindings)).toThrowError(
      'fuzz/run.json: document: too many wrong fields to list them (tens of thousands)',
    );
    // The per-snapshot lists are checked in one pass each (for speed), and still name their field.
    const manifest = structuredClone(recorded.manifest) as { chunks: { weights: { steps: unknown[]; reasons: unknown[] }[] }[] };
    manifest.chunks[0]!.weights[0]!.steps.push(-1);
    manifest.chunks[0]!.weights[0]!.reasons.push('sideways');
    expect(() => parseManifest('fuzz/run.json', manifest)).toThrowError(
      'fuzz/run.json: field "chunks.0.weights.0.steps": expected a list of whole numbers ≥ 0; ' +
        'field "chunks.0.weights.0.reasons": expected a list of "first", "stride", "anomaly", "last"',
    );
  });

  it('config validation refuses damaged values and files with a ConfigError', async () => {
    await expectRobust(configTarget(), 400);
  });

  it('names a column whose type table a damaged schema lost (found by the long run, seed 42)', () => {
    const damaged = validChunk();
    damaged[3038] = 0;
    expect(() => decodeStream('damaged.arrows', damaged, STEP_COLUMNS)).toThrowError(
      'damaged.arrows: column "step" has type an unreadable type, expected Int32',
    );
  });

  it('stops at a batch whose node and buffer counts are huge and negative (a hang found by the long run, seed 7)', () => {
    // Three bytes inserted into the second batch's metadata: counts of 889,192,448 nodes and −1,155,304,361
    // buffers summed to a plausible negative number, and the buffer check then ran a billion times.
    const valid = validChunk();
    const damaged = concatBytes(valid.subarray(0, 10685), Uint8Array.from([116, 35, 187]), valid.subarray(10685));
    expect(decodeStream('damaged.arrows', damaged, STEP_COLUMNS)).toMatchObject({
      rows: 10,
      truncated: true,
      truncation: 'byte 10600: unreadable message metadata (implausible 889192448 nodes and -1155304361 buffers in 2328 bytes)',
    });
  });

  it('refuses a schema whose fields all point at one child table, before walking it k⁸ times', () => {
    // 8 levels of 9 children, every child the same table: 544 bytes that took seconds to check (a review found it).
    const builder = new Builder(1024);
    IntTable.startInt(builder);
    IntTable.addBitWidth(builder, 32);
    IntTable.addIsSigned(builder, true);
    const int = IntTable.endInt(builder);
    FieldTable.startField(builder);
    FieldTable.addTypeType(builder, Type.Int);
    FieldTable.addType(builder, int);
    let field = FieldTable.endField(builder);
    for (let level = 0; level < 8; level++) {
      const children = FieldTable.createChildrenVector(builder, Array<number>(9).fill(field));
      FieldTable.startField(builder);
      FieldTable.addTypeType(builder, Type.Struct_);
      FieldTable.addChildren(builder, children);
      field = FieldTable.endField(builder);
    }
    const fields = SchemaTable.createFieldsVector(builder, [field]);
    SchemaTable.startSchema(builder);
    SchemaTable.addFields(builder, fields);
    const schema = SchemaTable.endSchema(builder);
    MessageTable.startMessage(builder);
    MessageTable.addVersion(builder, MetadataVersion.V5);
    MessageTable.addHeaderType(builder, MessageHeader.Schema);
    MessageTable.addHeader(builder, schema);
    MessageTable.addBodyLength(builder, 0n);
    builder.finish(MessageTable.endMessage(builder));
    const metadata = builder.asUint8Array();
    const padded = (metadata.length + 7) & ~7;
    const bytes = new Uint8Array(8 + padded);
    new DataView(bytes.buffer).setUint32(0, 0xffffffff, true);
    new DataView(bytes.buffer).setInt32(4, padded, true);
    bytes.set(metadata, 8);
    expect(() => decodeStream('shared.arrows', bytes, STEP_COLUMNS)).toThrowError(
      'shared.arrows: not an Arrow IPC stream (byte 0: unreadable message metadata (implausible number of fields))',
    );
  });

  it('refuses the damage that made Arrow loop for minutes: a schema overwritten from byte 1616 on', () => {
    const damaged = validChunk();
    damaged.fill(2, 1616);
    expect(() => decodeStream('damaged.arrows', damaged, STEP_COLUMNS)).toThrowError(
      'damaged.arrows: not an Arrow IPC stream (byte 0: unreadable message metadata (implausible field nesting or lengths))',
    );
  });
});
