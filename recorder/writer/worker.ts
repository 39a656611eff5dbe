/**
 * The writer thread. The training thread posts what each step read back (the batch and probe
 * rows of one pass, norms, weights); this thread derives the per-neuron batch statistics, the
 * probes' predictions and losses and the update ratios, runs the held-out evaluation on the
 * step's weights (the first layer in a kernel instance of its own, the rest on its own engine),
 * feeds the training-problem detectors, encodes Arrow record batches and writes the run folder.
 * Training never waits on disk.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Diagnostics } from '../../core/diagnostics/diagnostics.js';
import type { LayerStepStatistics } from '../../core/diagnostics/step-statistics.js';
import { columnNameOf, probeColumns } from '../../core/format/columns.js';
import type { LayerQuantity } from '../../core/format/quantities.js';
import { FINAL_TRAIN_STEPS } from '../../core/format/manifest.js';
import { HEARTBEAT_MS } from '../../core/format/run-status.js';
import { ACTIVATION_FUNCTIONS, type Activation } from '../../core/nn/activation.js';
import type { DenseLayer } from '../../core/format/manifest.js';
import { neuronStats, softmaxRows } from '../../core/nn/batch-stats.js';
import { HiddenStatsKernel } from '../kernel/hidden-stats.js';
import { markInactive } from '../../core/nn/inactive.js';
import { selectEngine } from '../engine.js';
import type { FinishMessage, FromWriter, LayerWeights, LinkGrads, SnapshotGrads, StepMessage, ToWriter, WriterInit } from './protocol.js';
import { RunWriter } from './run-writer.js';
import { TrailingMean } from './trailing-mean.js';
import { TfEvaluator } from './evaluator.js';

const port = parentPort!;
const init = workerData.init as WriterInit;
const post = (message: FromWriter) => port.postMessage(message);

const { manifest } = init;
const layerSizes = manifest.layers.map((layer) => layer.size);
const inputSize = layerSizes[0]!;
const denseCount = layerSizes.length - 1;
// run.json lists only files already written: it first appears once the probes file is on disk.
const writer = new RunWriter(init.directory, manifest, init.flushSteps, { deferManifest: true });
// The same engine as the training thread, so a run's numbers depend on one engine only.
await selectEngine(manifest.engine.name);
/** The held-out evaluation; none without held-out data. */
/** Each hidden layer's activation (index 0 = layer 1): a user's model may mix them. */
const hiddenActivations = manifest.layers.slice(1, -1).map((layer) => (layer as DenseLayer).activation as Activation);
const evaluator = init.test.labels.length > 0 ? new TfEvaluator(hiddenActivations, layerSizes, init.test) : undefined;
const probeCount = init.probes.labels.length;
/** Step columns this run cannot record (a user's model.fit seen through callbacks has no batch rows): written as NaN or null. */
const absent = new Set(manifest.source?.absent.map((entry) => entry.quantity) ?? []);
/** Whether the trainer sends the batch's rows; without them only the probe rows come. */
const batchRows = !absent.has('meanActivation');
const diagnostics = new Diagnostics(hiddenActivations, manifest.config.diagnostics, absent);
// Findings reach run.json whenever it is written; they may name steps up to a record batch ahead of stepCount.
/** The last steps' training loss and batch accuracy, for run.json's `finalTrain`. */
const trailingLoss = new TrailingMean(FINAL_TRAIN_STEPS);
const trailingAccuracy = new TrailingMean(FINAL_TRAIN_STEPS);
let stepsSeen = 0;

writer.beforeManifestWrite = () => {
  manifest.findings = diagnostics.findings();
  const loss = trailingLoss.mean;
  manifest.finalTrain =
    loss === undefined
      ? null
      : {
          steps: Math.min(stepsSeen, FINAL_TRAIN_STEPS),
          loss: Number.isFinite(loss) ? loss : null,
          accuracy: trailingAccuracy.mean!,
        };
};

/** Labels of the current batch's samples, and which classes it holds (reused every step). */
const batchLabels = new Uint8Array(manifest.config.batchSize);
/** The hidden layers' batch statistics, added up in the kernel module (the output layer's stay in neuronStats). */
const hiddenStats = new HiddenStatsKernel(manifest.config.batchSize, Math.max(1, ...layerSizes.slice(1, -1)), layerSizes.at(-1)!);
const classValid = new Uint8Array(layerSizes[denseCount]!);
/** Per hidden layer, which neurons are inactive on the step's batch (reused every step; the detectors read them). */
const inactiveNeurons = layerSizes.slice(1, -1).map((neurons) => new Uint8Array(neurons));

/** Time spent in recordStep. */
let busyMs = 0;

/** Set when a write failed: the run is marked failed, and later steps are not written over it. */
let failed = false;
/** Until the probes file is on disk, run.json must not list it. */
let probesWritten = false;

/** Marks the run failed in run.json (in the space kept for it) and tells the training thread. */
function fail(error: unknown): void {
  failed = true;
  const text = error instanceof Error ? error.message : String(error);
  let marked = true;
  try {
    // On a full disk the reserve is the room for this last run.json.
    writer.releaseReserve();
    manifest.status = 'failed';
    manifest.message = `writer failed: ${text}`;
    if (!probesWritten) manifest.probes = null;
    writer.writeManifest();
  } catch {
    marked = false;
  }
  post({ type: 'error', message: marked ? `${text}; the run is marked failed` : `${text}; the run could not be marked failed` });
}

try {
  if (probeCount > 0 && manifest.probes) writeProbes(manifest.probes.file);
  probesWritten = true;
  writer.writeManifest();
} catch (error) {
  fail(error);
}

function writeProbes(file: string): void {
  writer.writeWholeFile(
    file,
    probeColumns(inputSize),
    {
      probe: Int32Array.from(init.probes.labels, (_, index) => index),
      testIndex: init.probes.testIndices,
      label: init.probes.labels,
      input: init.probes.inputs,
    },
    probeCount,
  );
}

/** The latest step, held until the run ends: its snapshot may be kept as the last one. */
let pending: { step: number; row: number } | undefined;

/** Layer `layer`'s weights and biases from what the trainer sent, which must include them. */
function layerWeights(sent: LayerWeights | undefined, layer: number, step: number): { weight: Float32Array; bias: Float32Array } {
  const weight = sent?.weights[layer - 1];
  const bias = sent?.biases[layer - 1];
  if (!weight || !bias) throw new Error(`step ${step}: the weights of layer ${layer} are needed but were not sent`);
  return { weight, bias };
}

/** Every layer's weights and biases, for an evaluation. */
function allWeights(sent: LayerWeights | undefined, step: number): { weights: Float32Array[]; biases: Float32Array[] } {
  const layers = Array.from({ length: denseCount }, (_, index) => layerWeights(sent, index + 1, step));
  return { weights: layers.map((layer) => layer.weight), biases: layers.map((layer) => layer.bias) };
}

function writeSnapshots(step: number, sent: LayerWeights | undefined, snapshots: SnapshotGrads[]): void {
  for (const { layer, reason, weightGrad, biasGrad } of snapshots) {
    writer.addSnapshot(layer, { step, reason, ...layerWeights(sent, layer, step), weightGrad, biasGrad });
  }
}

/** Quantises each link frame here, on the writer thread, where it costs training nothing. */
function writeLinks(step: number, sent: LayerWeights | undefined, links: LinkGrads[]): void {
  for (const { layer, weightGrad } of links)
    writer.addLinkFrame(layer, { step, weight: layerWeights(sent, layer, step).weight, weightGrad });
}

function setEval(row: number, result: { loss: number; accuracy: number }): void {
  writer.rows.quantityCell('evalLoss', row)[0] = result.loss;
  writer.rows.quantityCell('evalAccuracy', row)[0] = result.accuracy;
}

function recordStep(message: StepMessage): void {
  const { step, epoch, batchIndices } = message;
  const batch = batchRows ? batchIndices.length : 0;
  // Each buffer once: several arrays may share one (BufferPool.takeTogether). The batch indices,
  // labels and norms share one (RecordingSession.record).
  const returned = [
    ...new Set(
      [
        ...(message.weights ? [...message.weights.weights, ...message.weights.biases].filter((array) => array !== undefined) : []),
        message.batchIndices,
        message.labels,
        message.weightNorms,
        message.meanInput,
        ...message.preActivation,
        ...message.activation,
        ...message.gradPreActivation,
        // Copied into the snapshot rows as they are added.
        ...message.snapshots.flatMap((snapshot) => [snapshot.weightGrad, snapshot.biasGrad]),
        ...message.links.map((link) => link.weightGrad),
      ].map((array) => array.buffer as SharedArrayBuffer),
    ),
  ];
  const row = writer.beginRow(step);
  const rows = writer.rows;
  rows.quantityCell('step', row)[0] = step;
  rows.quantityCell('epoch', row)[0] = epoch;
  rows.quantityCell('loss', row)[0] = message.loss;
  rows.quantityCell('accuracy', row)[0] = message.accuracy;
  trailingLoss.add(message.loss);
  trailingAccuracy.add(message.accuracy);
  stepsSeen++;
  rows.quantityCell('batchIndices', row).set(batchIndices);
  rows.quantityCell('meanInput', row).set(message.meanInput);
  const classes = layerSizes[denseCount]!;
  batchLabels.set(message.labels);
  const probeRows = (values: Float32Array, neurons: number) => values.subarray(batch * neurons, (batch + probeCount) * neurons);
  const probeOutput = softmaxRows(probeRows(message.preActivation[denseCount - 1]!, classes), init.probes.labels, classes);
  const layerStatistics: LayerStepStatistics[] = [];
  for (let index = 0; index < denseCount; index++) {
    const layer = index + 1;
    const neurons = layerSizes[layer]!;
    const cell = (quantity: LayerQuantity) => rows.quantityCell(quantity, row, layer);
    const activation = index < denseCount - 1 ? message.activation[index]!.subarray(0, batch * neurons) : undefined;
    const stats = {
      meanActivation: cell('meanActivation'),
      fractionActive: cell('fractionActive'),
      gradPreActivation: cell('gradPreActivation'),
    };
    if (batch > 0) {
      const byClass = { classActivation: cell('classActivation'), classValid };
      if (activation)
        hiddenStats.stats(message.preActivation[index]!, activation, message.gradPreActivation[index]!, batch, batchLabels, stats, byClass);
      else
        neuronStats(message.preActivation[index]!, undefined, message.gradPreActivation[index]!, batch, stats, {
          labels: batchLabels,
          out: byClass,
        });
      // A class absent from the batch has no mean: null for every neuron.
      if (classValid.includes(0)) {
        const validity = rows.itemValidity(columnNameOf('classActivation', layer), row);
        for (let item = 0; item < validity.length; item++) validity[item] = classValid[item % classes]!;
      }
    } else {
      for (const values of Object.values(stats)) values.fill(Number.NaN);
      rows.itemValidity(columnNameOf('classActivation', layer), row).fill(0);
    }
    const weightNorm = message.weightNorms[index]!;
    const gradNorm = message.gradNorms[index]!;
    const updateRatio = message.updateNorms[index]! / weightNorm;
    cell('weightNorm')[0] = weightNorm;
    cell('gradNorm')[0] = gradNorm;
    cell('updateRatio')[0] = updateRatio;
    // Once per step, for the column and the detectors: O(neurons) for ReLU, one pass over f(z) for sigmoid and tanh.
    const inactive = activation && batch > 0 ? inactiveNeurons[index]! : undefined;
    cell('fractionInactive')[0] = inactive
      ? markInactive(
          ACTIVATION_FUNCTIONS[hiddenActivations[index]!],
          stats.fractionActive,
          activation!,
          manifest.config.diagnostics.saturation,
          inactive,
        ) / neurons
      : Number.NaN;
    // f(z) of the probes; softmax probabilities for the output layer.
    const probeActivation = activation ? probeRows(message.activation[index]!, neurons) : probeOutput.probabilities;
    if (probeCount > 0) {
      cell('probeActivation').set(probeActivation);
      cell('probeGradPreActivation').set(probeRows(message.gradPreActivation[index]!, neurons));
    }
    layerStatistics.push({ weightNorm, gradNorm, updateRatio, ...stats, inactive, probeActivation });
  }
  diagnostics.observe({ step, loss: message.loss, probeLoss: probeOutput.loss, layers: layerStatistics });
  if (probeCount > 0) {
    rows.quantityCell('probePredicted', row).set(probeOutput.predicted);
    rows.quantityCell('probeLoss', row).set(probeOutput.loss);
  }
  let evaluation: { loss: number; accuracy: number } | undefined;
  if (evaluator && step % manifest.config.evalEvery === 0) {
    const { weights, biases } = allWeights(message.weights, step);
    evaluation = evaluator.evaluate(weights, biases);
    setEval(row, evaluation);
  }
  writeSnapshots(step, message.weights, message.snapshots);
  writeLinks(step, message.weights, message.links);
  pending = { step, row };
  post({ type: 'progress', step, ...(evaluation ? { evalLoss: evaluation.loss, evalAccuracy: evaluation.accuracy } : {}), returned });
}

function finish(message: FinishMessage): void {
  if (pending && message.lastWeights) {
    writeSnapshots(pending.step, message.lastWeights, message.last);
    if (evaluator && pending.step % manifest.config.evalEvery !== 0) {
      const { weights, biases } = allWeights(message.lastWeights, pending.step);
      setEval(pending.row, evaluator.evaluate(weights, biases));
    }
  }
  if (evaluator && message.final) {
    const result = evaluator.evaluate(message.final.weights, message.final.biases);
    manifest.finalEval = {
      step: pending ? pending.step + 1 : 0,
      loss: Number.isFinite(result.loss) ? result.loss : null,
      accuracy: result.accuracy,
    };
  }
  writer.close();
  manifest.status = message.status;
  if (message.message) manifest.message = message.message;
  if (message.divergedAtStep !== undefined) manifest.divergedAtStep = message.divergedAtStep;
  clearInterval(heartbeat);
  writer.writeManifest();
  writer.releaseReserve();
  post({
    type: 'finished',
    stepCount: manifest.stepCount,
    bytesWritten: writer.bytesWritten,
    linkBytesWritten: writer.linkBytesWritten,
    finalEval: manifest.finalEval,
    findings: manifest.findings,
    busySeconds: busyMs / 1000,
  });
}

// A heartbeat: run.json stays fresh while recording, even when steps come slowly (--pace, large
// networks), so that readers can tell a killed recorder's run from a live one (core/format/run-status.ts).
const heartbeat = setInterval(() => {
  if (failed || manifest.status !== 'recording') return;
  try {
    writer.writeManifest(false);
  } catch (error) {
    fail(error);
  }
}, HEARTBEAT_MS);
heartbeat.unref();

port.on('message', (message: ToWriter) => {
  if (failed) return;
  try {
    if (message.type === 'step') {
      const started = performance.now();
      recordStep(message);
      busyMs += performance.now() - started;
    } else finish(message);
  } catch (error) {
    fail(error);
  }
});
if (!failed) post({ type: 'ready' });
