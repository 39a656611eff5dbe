/**
 * The writer thread. The training thread posts what each step read back from the engine; this
 * thread runs the probe set and held-out evaluation on those weights, picks the weight snapshots
 * to keep, encodes Arrow record batches and writes the run folder. Training never waits on disk.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { layerColumnName, probeColumns, type SnapshotReason } from '../../core/format/columns.js';
import type { DenseLayer } from '../../core/nn/mlp.js';
import { JumpDetector } from '../../core/snapshots.js';
import type { StepReadback } from '../model.js';
import { statsLayout } from '../step-stats.js';
import { Observer } from './observer.js';
import type { FromWriter, ToWriter, WriterInit } from './protocol.js';
import { RunWriter } from './run-writer.js';

const port = parentPort!;
const init = workerData.init as WriterInit;
const post = (message: FromWriter) => port.postMessage(message);

const { manifest } = init;
const layerSizes = manifest.layers.map((layer) => layer.size);
const denseCount = layerSizes.length - 1;
const layout = statsLayout(layerSizes[0]!, layerSizes.slice(1));
const hiddenActivation = manifest.config.activation;
const writer = new RunWriter(init.directory, manifest, init.flushSteps);
const observer = new Observer(hiddenActivation, layerSizes, init.probes, init.test);
const jumps = new JumpDetector();
const anomalyBudget = { left: init.plan.anomalyCapacity };

if (init.probes.labels.length > 0 && manifest.probes) {
  writer.writeWholeFile(
    manifest.probes.file,
    probeColumns(layerSizes[0]!),
    {
      probe: Int32Array.from(init.probes.labels, (_, index) => index),
      testIndex: init.probes.testIndices,
      label: init.probes.labels,
      input: init.probes.inputs,
    },
    init.probes.labels.length,
  );
}

/** The latest step, held until the next one arrives so that its snapshots can be marked "last". */
let pending: { step: number; row: number; readback: StepReadback; jump: boolean } | undefined;

function denseLayers(weights: Float32Array[], biases: Float32Array[]): DenseLayer[] {
  return weights.map((weight, index) => ({ fanIn: layerSizes[index]!, fanOut: layerSizes[index + 1]!, weight, bias: biases[index]! }));
}

function keepSnapshots(held: NonNullable<typeof pending>, isLast: boolean): void {
  const { step, readback } = held;
  const spendAnomaly = held.jump && !isLast && step !== 0 && anomalyBudget.left > 0;
  if (spendAnomaly) anomalyBudget.left--;
  for (let layer = 1; layer <= denseCount; layer++) {
    const index = layer - 1;
    let reason: SnapshotReason | undefined;
    if (step === 0) reason = 'first';
    else if (isLast) reason = 'last';
    else if (step % init.plan.strides[index]! === 0) reason = 'stride';
    else if (spendAnomaly) reason = 'anomaly';
    if (!reason) continue;
    writer.addSnapshot(layer, {
      step,
      reason,
      weight: readback.weights[index]!,
      bias: readback.biases[index]!,
      weightGrad: readback.weightGrads[index]!,
      biasGrad: readback.biasGrads[index]!,
    });
  }
}

function setEval(row: number, result: { loss: number; accuracy: number }): void {
  writer.rows.cell('evalLoss', row)[0] = result.loss;
  writer.rows.cell('evalAccuracy', row)[0] = result.accuracy;
}

function recordStep(message: Extract<ToWriter, { type: 'step' }>): void {
  const { step, epoch, batchIndices, readback } = message;
  const { stats } = readback;
  if (pending) keepSnapshots(pending, false);
  const row = writer.beginRow(step);
  const rows = writer.rows;
  rows.cell('step', row)[0] = step;
  rows.cell('epoch', row)[0] = epoch;
  rows.cell('loss', row)[0] = stats[layout.loss]!;
  rows.cell('accuracy', row)[0] = stats[layout.accuracy]!;
  rows.cell('batchIndices', row).set(batchIndices);
  rows.cell('meanInput', row).set(stats.subarray(layout.meanInput, layout.meanInput + layerSizes[0]!));
  const layers = denseLayers(readback.weights, readback.biases);
  const probes = init.probes.labels.length > 0 ? observer.probe(layers) : undefined;
  const gradNorms: number[] = [];
  layout.layers.forEach((offsets, index) => {
    const layer = index + 1;
    const { size } = offsets;
    rows.cell(layerColumnName(layer, 'meanActivation'), row).set(stats.subarray(offsets.meanActivation, offsets.meanActivation + size));
    rows.cell(layerColumnName(layer, 'fractionActive'), row).set(stats.subarray(offsets.fractionActive, offsets.fractionActive + size));
    rows
      .cell(layerColumnName(layer, 'gradPreActivation'), row)
      .set(stats.subarray(offsets.gradPreActivation, offsets.gradPreActivation + size));
    const weightNorm = stats[offsets.weightNorm]!;
    rows.cell(layerColumnName(layer, 'weightNorm'), row)[0] = weightNorm;
    rows.cell(layerColumnName(layer, 'gradNorm'), row)[0] = stats[offsets.gradNorm]!;
    rows.cell(layerColumnName(layer, 'updateRatio'), row)[0] = stats[offsets.updateNorm]! / weightNorm;
    gradNorms.push(stats[offsets.gradNorm]!);
    if (probes) {
      rows.cell(layerColumnName(layer, 'probeActivation'), row).set(probes.activation[index]!);
      rows.cell(layerColumnName(layer, 'probeGradPreActivation'), row).set(probes.gradPreActivation[index]!);
    }
  });
  if (probes) {
    rows.cell('probePredicted', row).set(probes.predicted);
    rows.cell('probeLoss', row).set(probes.loss);
  }
  let evaluation: { loss: number; accuracy: number } | undefined;
  if (step % manifest.config.evalEvery === 0) {
    evaluation = observer.evaluate(layers);
    setEval(row, evaluation);
  }
  pending = { step, row, readback, jump: jumps.observe(stats[layout.loss]!, gradNorms) };
  post({
    type: 'progress',
    step,
    stepCount: manifest.stepCount,
    ...(evaluation ? { evalLoss: evaluation.loss, evalAccuracy: evaluation.accuracy } : {}),
  });
}

function finish(message: Extract<ToWriter, { type: 'finish' }>): void {
  if (pending) {
    keepSnapshots(pending, true);
    if (pending.step % manifest.config.evalEvery !== 0) {
      const { weights, biases } = pending.readback;
      setEval(pending.row, observer.evaluate(denseLayers(weights, biases)));
    }
  }
  if (message.final) {
    const result = observer.evaluate(denseLayers(message.final.weights, message.final.biases));
    manifest.finalEval = {
      step: manifest.stepCount + writer.rows.rows,
      loss: Number.isFinite(result.loss) ? result.loss : null,
      accuracy: result.accuracy,
    };
  }
  writer.close();
  manifest.status = message.status;
  if (message.message) manifest.message = message.message;
  if (message.divergedAtStep !== undefined) manifest.divergedAtStep = message.divergedAtStep;
  writer.writeManifest();
  post({ type: 'finished', stepCount: manifest.stepCount, bytesWritten: writer.bytesWritten, finalEval: manifest.finalEval });
}

port.on('message', (message: ToWriter) => {
  try {
    if (message.type === 'step') recordStep(message);
    else finish(message);
  } catch (error) {
    const text = error instanceof Error ? error.message : String(error);
    try {
      manifest.status = 'failed';
      manifest.message = `writer failed: ${text}`;
      writer.writeManifest();
    } catch {
      // The folder itself is unwritable; the training thread reports the original error.
    }
    post({ type: 'error', message: text });
  }
});
post({ type: 'ready' });
