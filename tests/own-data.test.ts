/** `npm run record -- --data …` (and `--model …`): a user's own data and saved model from the command line. */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { blobsCsv, writeShapes } from '../examples/make-data.js';
import { selectEngine } from '../recorder/engine.js';
import { openRunFolder } from '../recorder/open-run.js';
import { runRecorder, startRecorder, tempDir, waitFor } from './helpers.js';

const data = tempDir('own-data');
const csv = join(data, 'blobs.csv');
writeFileSync(csv, blobsCsv(300));
const out = join(data, 'runs');
await selectEngine('wasm');
mkdirSync(join(data, 'wrong'));
/** A saved model with 4 outputs, for data of 3 classes. */
const wrongOutput = await saveModel(
  tfl.sequential({ name: 'four', layers: [tfl.layers.dense({ inputShape: [20], units: 4, activation: 'softmax' })] }),
  join(data, 'wrong'),
);

/** Saves a LayersModel as model.json and weights.bin, as `model.save('file://…')` would. */
async function saveModel(model: tfl.LayersModel, folder: string): Promise<string> {
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      writeFileSync(
        join(folder, 'model.json'),
        JSON.stringify({
          modelTopology: artifacts.modelTopology,
          weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
        }),
      );
      writeFileSync(join(folder, 'weights.bin'), new Uint8Array(artifacts.weightData as ArrayBuffer));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return join(folder, 'model.json');
}

const write = (name: string, text: string): string => {
  writeFileSync(join(data, name), text);
  return join(data, name);
};

function emptyClass(): string {
  writeShapes(join(data, 'empty'), 2);
  mkdirSync(join(data, 'empty', 'dog'));
  return join(data, 'empty');
}

/** What --data and --model refuse: the case, the data it makes, more flags, the message. */
const refusals: [string, () => string | undefined, string[], RegExp][] = [
  ['a ragged CSV row', () => write('ragged.csv', 'a,b,label\n1,2,x\n3,y\n'), [], /error: .*ragged\.csv: line 3: 2 cells, the header has 3/],
  [
    'a non-numeric cell',
    () => write('words.csv', 'a,b,label\n1,2,x\n3,four,y\n'),
    [],
    /error: .*words\.csv: line 3, column "b": "four" is not a finite number/,
  ],
  ['an empty class folder', () => emptyClass(), [], /error: .*empty\/dog: no images/],
  [
    'a model whose output does not match the classes',
    () => csv,
    ['--model', 'WRONG_OUTPUT'],
    /error: classNames: 3 names; the model "four" has 4 output classes/,
  ],
  ['--model without --data', () => undefined, ['--model', 'x.json'], /error: --model needs --data/],
];

describe('--data', () => {
  it('records a CSV of 20 features and 3 classes with the network of the flags, and its reproduce command gives the same files', async () => {
    const first = await runRecorder([
      '--data',
      csv,
      '--layers',
      '16',
      '--epochs',
      '2',
      '--batch-size',
      '16',
      '--out',
      out,
      '--name',
      'table',
      '--quiet',
    ]);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(
      /^Recording "table": blobs\.csv \(270 train \/ 30 held out, 3 classes\), 20-16-3 relu, sgd lr 0\.1, 32 steps/,
    );
    const run = await openRunFolder(join(out, 'table'));
    expect(run.manifest).toMatchObject({
      status: 'complete',
      stepCount: 32,
      config: { dataset: 'user', init: 'he', layers: [16] },
      dataset: {
        name: 'blobs.csv',
        trainCount: 270,
        testCount: 30,
        inputShape: [20],
        classNames: ['setosa-like', 'versicolor-like', 'virginica-like'],
      },
      source: { mode: 'fit' },
    });
    expect(run.manifest.dataset.featureNames).toHaveLength(20);
    expect(run.manifest.layers.map((layer) => layer.size)).toEqual([20, 16, 3]);
    const again = await runRecorder([...run.manifest.reproduce.replace(/^npm run record -- /, '').split(' '), '--quiet']);
    expect(again.code).toBe(0);
    for (const file of ['steps-0000.arrows', 'probes.arrows', 'weights-layer1-0000.arrows'])
      expect(readFileSync(join(out, 'table-again', file)).equals(readFileSync(join(out, 'table', file))), file).toBe(true);
  }, 120_000);

  it('Ctrl-C finishes the step, marks the run interrupted and exits 130; --pace holds the steps back as for MNIST', async () => {
    // 320 steps at 25 a second: without --pace the run would be over long before the signal.
    const flags = ['--data', csv, '--layers', '16', '--epochs', '20', '--batch-size', '16', '--pace', '25'];
    const recorder = startRecorder([...flags, '--out', out, '--name', 'stopped', '--quiet']);
    const directory = join(out, 'stopped');
    await waitFor(
      () =>
        existsSync(join(directory, 'run.json')) &&
        (JSON.parse(readFileSync(join(directory, 'run.json'), 'utf8')) as { stepCount: number }).stepCount >= 10,
      60_000,
      '10 steps in run.json',
    );
    recorder.child.kill('SIGINT');
    const finished = await recorder.done;
    expect(finished.code).toBe(130);
    expect(finished.stderr).toMatch(/interrupted by SIGINT after \d+ of 320 steps/);
    const run = await openRunFolder(directory);
    expect(run.manifest.status).toBe('interrupted');
    expect(run.manifest.stepCount).toBeLessThan(320);
    expect(run.manifest.chunks.every((chunk) => chunk.complete)).toBe(true);
    const steps = await run.readSteps(0);
    expect(steps.problems).toEqual([]);
    expect(steps.rows).toBe(run.manifest.stepCount);
  }, 90_000);

  it('records a folder of 32×32 colour images', async () => {
    writeShapes(join(data, 'shapes'), 20);
    const result = await runRecorder([
      '--data',
      join(data, 'shapes'),
      '--layers',
      '8',
      '--epochs',
      '1',
      '--batch-size',
      '9',
      '--out',
      out,
      '--name',
      'images',
      '--quiet',
    ]);
    expect(result.code).toBe(0);
    const run = await openRunFolder(join(out, 'images'));
    expect(run.manifest.dataset).toMatchObject({
      inputShape: [32, 32, 3],
      classNames: ['circle', 'square', 'stripes'],
      trainCount: 54,
      testCount: 6,
    });
  }, 120_000);

  it('trains a saved model given with --model', async () => {
    const model = tfl.sequential({
      name: 'saved',
      layers: [
        tfl.layers.dense({ inputShape: [20], units: 12, activation: 'tanh' }),
        tfl.layers.dense({ units: 3, activation: 'softmax' }),
      ],
    });
    const file = await saveModel(model, data);
    const result = await runRecorder(['--data', csv, '--model', file, '--epochs', '1', '--out', out, '--name', 'saved', '--quiet']);
    expect(result.code).toBe(0);
    const run = await openRunFolder(join(out, 'saved'));
    expect(run.manifest).toMatchObject({
      config: { init: 'model', activation: 'tanh', layers: [12] },
      source: { mode: 'fit', model: 'saved' },
    });
  }, 120_000);

  it.each(refusals)(
    'refuses %s, exit 2, and writes nothing',
    async (_case, prepare, extra, message) => {
      const path = prepare();
      const args = extra.map((arg) => (arg === 'WRONG_OUTPUT' ? wrongOutput : arg));
      const result = await runRecorder([...(path ? ['--data', path] : []), ...args, '--out', out, '--name', 'refused', '--quiet']);
      expect(result.stderr).toMatch(message);
      expect(result.code).toBe(2);
      expect(existsSync(join(out, 'refused'))).toBe(false);
    },
    60_000,
  );
});
