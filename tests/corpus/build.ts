/**
 * The malformed-input corpus: damaged copies of a small recorded run, one folder per kind of
 * damage, each with the message a reader must give (the viewer shows it; `npm run check` prints it).
 * Built from a fresh recording so that it always matches the current format.
 */
import { cpSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { probeColumns, stepColumns } from '../../core/format/columns.js';
import { encodeStream } from '../../core/format/ipc.js';
import { openRunFolder } from '../../recorder/open-run.js';

export interface CorpusCase {
  name: string;
  /** What is wrong, in words. */
  damage: string;
  /** Text the reader's message must contain (`<run>` stands for the run's place: a folder or URL). */
  message: string | undefined;
  /** Whether some steps are still readable (and the network drawn). */
  readable: boolean;
}

type Damage = (directory: string) => void | Promise<void>;

/** The source run's flags beside tests/helpers.ts's TINY: 60 steps, and a budget small enough that layers 1 and 2 keep link frames. */
export const SOURCE_FLAGS = ['--max-steps', '60', '--budget', '300kB'];

const editManifest = (directory: string, edit: (manifest: Record<string, unknown>) => void) => {
  const file = join(directory, 'run.json');
  const manifest = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  edit(manifest);
  writeFileSync(file, JSON.stringify(manifest, null, 2));
};

const CASES: (CorpusCase & { apply: Damage })[] = [
  {
    name: 'chunk-cut-in-schema',
    damage: 'the step chunk cut inside its schema message',
    message: '<run>/steps-0000.arrows: not an Arrow IPC stream',
    readable: false,
    apply: (directory) => truncateSync(join(directory, 'steps-0000.arrows'), 100),
  },
  {
    name: 'chunk-cut-mid-batch',
    damage: 'the step chunk cut inside its fourth record batch',
    message: '<run>/steps-0000.arrows: run.json lists 60 steps, the file holds 33 (cut short)',
    readable: true,
    apply: (directory) => {
      const file = join(directory, 'steps-0000.arrows');
      // Keep 60% of the file: three of its five record batches (1, 16, 16, 16 and 11 steps) stay whole.
      truncateSync(file, Math.floor(readFileSync(file).length * 0.6));
    },
  },
  {
    name: 'chunk-garbage',
    damage: 'the step chunk replaced by random bytes',
    message: '<run>/steps-0000.arrows: not an Arrow IPC stream',
    readable: false,
    apply: (directory) => {
      let seed = 7;
      const noise = Uint8Array.from({ length: 5000 }, () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) & 0xff);
      writeFileSync(join(directory, 'steps-0000.arrows'), noise);
    },
  },
  {
    name: 'chunk-wrong-schema',
    damage: 'the step chunk replaced by a valid Arrow stream of other columns',
    message: '<run>/steps-0000.arrows: missing column "step" (expected Int32)',
    readable: false,
    apply: (directory) => {
      const columns = probeColumns(784);
      const bytes = encodeStream(
        columns,
        { probe: new Int32Array(1), testIndex: new Int32Array(1), label: new Uint8Array(1), input: new Float32Array(784) },
        1,
      );
      writeFileSync(join(directory, 'steps-0000.arrows'), bytes);
    },
  },
  {
    name: 'chunk-missing',
    damage: 'the step chunk listed in run.json deleted',
    message: '<run>/steps-0000.arrows: is listed in run.json but cannot be read',
    readable: false,
    apply: (directory) => rmSync(join(directory, 'steps-0000.arrows')),
  },
  {
    name: 'weights-missing',
    damage: 'a weight snapshot file listed in run.json deleted',
    message: '<run>/weights-layer2-0000.arrows: is listed in run.json but cannot be read',
    readable: true,
    apply: (directory) => rmSync(join(directory, 'weights-layer2-0000.arrows')),
  },
  {
    name: 'links-cut-mid-batch',
    damage: 'a link frame file cut inside a record batch',
    message: '<run>/links-layer2-0000.arrows: run.json lists 20 link frames, the file holds 11 (cut short)',
    readable: true,
    apply: (directory) => {
      const file = join(directory, 'links-layer2-0000.arrows');
      truncateSync(file, Math.floor(readFileSync(file).length * 0.6));
    },
  },
  {
    name: 'manifest-not-json',
    damage: 'run.json is not JSON',
    message: '<run>/run.json: not valid JSON',
    readable: false,
    apply: (directory) => writeFileSync(join(directory, 'run.json'), '{"schemaVersion": 1, "name": '),
  },
  {
    name: 'manifest-wrong-types',
    damage: 'run.json with a step count that is text and a layer size that is negative',
    message:
      '<run>/run.json: field "layers.1.size": Too small: expected number to be >=1; field "stepCount": Invalid input: expected number, received string',
    readable: false,
    apply: (directory) =>
      editManifest(directory, (manifest) => {
        manifest.stepCount = 'many';
        (manifest.layers as { size: number }[])[1]!.size = -3;
      }),
  },
  {
    name: 'manifest-unknown-version',
    damage: 'run.json from a future format',
    message: '<run>/run.json: unknown schemaVersion 99; this version of Neural Vision reads schemaVersion 1, 2, 3 and 4',
    readable: false,
    apply: (directory) => editManifest(directory, (manifest) => (manifest.schemaVersion = 99)),
  },
  {
    name: 'manifest-counts-disagree',
    damage: 'run.json lists more steps than the chunk holds',
    message: '<run>/steps-0000.arrows: run.json lists 90 steps, the file holds 60',
    readable: true,
    apply: (directory) =>
      editManifest(directory, (manifest) => {
        manifest.stepCount = 90;
        (manifest.chunks as { stepCount: number }[])[0]!.stepCount = 90;
      }),
  },
  {
    name: 'values-nan-inf',
    damage: 'NaN and ±Inf in recorded values (shown with their own colours, not an error)',
    message: undefined,
    readable: true,
    apply: async (directory) => {
      const run = await openRunFolder(directory);
      const chunk = await run.readSteps(0);
      const mean = chunk.values.get('meanActivation', 2)!;
      for (let row = 0; row < chunk.rows; row++) {
        mean[row * 8] = Number.NaN;
        mean[row * 8 + 1] = Number.POSITIVE_INFINITY;
        mean[row * 8 + 2] = Number.NEGATIVE_INFINITY;
      }
      chunk.values.get('loss')![30] = Number.NaN;
      writeFileSync(
        join(directory, 'steps-0000.arrows'),
        encodeStream(stepColumns(run.shape), chunk.values.byColumnName() as never, chunk.rows),
      );
    },
  },
];

/** Writes every corpus case as a damaged copy of `source` (a run folder) into `runsDirectory`. */
export async function buildCorpus(source: string, runsDirectory: string): Promise<CorpusCase[]> {
  for (const entry of CASES) {
    const directory = join(runsDirectory, entry.name);
    cpSync(source, directory, { recursive: true });
    await entry.apply(directory);
  }
  return CASES.map(({ name, damage, message, readable }) => ({ name, damage, message, readable }));
}
