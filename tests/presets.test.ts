/** End to end: each lesson preset shows its training problem in run.json, the default run shows none. */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NO_FINDINGS } from '../core/diagnostics/summary.js';
import { parseManifest, type RunManifest } from '../core/format/manifest.js';
import { PRESET_NAMES, PRESETS, unknownPresetMessage, type PresetName } from '../core/presets.js';
import { openRunFolder } from '../recorder/open-run.js';
import { runRecorder, startRecorder, tempDir, waitFor } from './helpers.js';

/** Steps each preset needs to show its findings reliably (the presets themselves run longer, to watch). */
const TEST_STEPS: Record<PresetName, number | undefined> = {
  healthy: undefined, // the real default run, all 560 steps
  vanishing: 75, // stalled needs three 25-step blocks
  exploding: undefined, // diverges at step 18 of its 100
  'dying-relu': 40,
  'bad-init': 75,
  saturation: 30,
};

function manifestOf(directory: string): RunManifest {
  const file = join(directory, 'run.json');
  return parseManifest(file, JSON.parse(readFileSync(file, 'utf8')));
}

describe('lesson presets', () => {
  it.each(PRESET_NAMES)(
    '%s shows the findings it is made for, and only healthy shows none',
    async (preset) => {
      const out = tempDir(`preset-${preset}`);
      const steps = TEST_STEPS[preset];
      const result = await runRecorder([
        '--preset',
        preset,
        '--out',
        out,
        '--name',
        preset,
        '--quiet',
        ...(steps ? ['--max-steps', String(steps)] : []),
      ]);
      expect(result.code, result.stderr).toBe(preset === 'exploding' ? 3 : 0);
      const manifest = manifestOf(join(out, preset));
      expect(manifest.config.preset).toBe(preset);
      const kinds = new Set(manifest.findings.map((finding) => finding.kind));
      if (preset === 'healthy') {
        expect(manifest.stepCount).toBe(560);
        expect(manifest.findings).toEqual([]);
        expect(result.stdout).toContain(NO_FINDINGS);
        return;
      }
      expect(PRESETS[preset].shows.length).toBeGreaterThan(0);
      for (const kind of PRESETS[preset].shows) expect([...kinds], `${preset} should show ${kind}`).toContain(kind);
      for (const finding of manifest.findings) {
        expect(finding.detectedAtStep).toBeLessThan(manifest.stepCount);
        expect(result.stdout).toContain(`  ${finding.kind}`);
      }
      expect(result.stdout).toContain(`Findings (${manifest.findings.length}):`);
    },
    60_000,
  );

  it('refuses an unknown preset, listing the presets, exit code 2, before anything is written', async () => {
    const out = tempDir('preset-unknown');
    const result = await runRecorder(['--preset', 'chaos', '--out', out]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`error: ${unknownPresetMessage('chaos')}`);
    expect(unknownPresetMessage('chaos')).toContain(PRESET_NAMES.join(', '));
    expect(readdirSync(out)).toEqual([]);
    const file = join(out, 'bad.yaml');
    writeFileSync(file, 'preset: chaos\n');
    const fromFile = await runRecorder(['--config', file, '--out', out]);
    expect(fromFile.code).toBe(2);
    expect(fromFile.stderr).toContain(unknownPresetMessage('chaos', `${file}: field "preset"`));
  });

  it('is overridden by a config file, which flags override; the file may name the preset', async () => {
    const out = tempDir('preset-order');
    const file = join(out, 'run.yaml');
    writeFileSync(file, 'layers: [16]\nmaxSteps: 4\nprobes: 2\n');
    const result = await runRecorder([
      '--preset',
      'vanishing',
      '--config',
      file,
      '--max-steps',
      '3',
      '--out',
      out,
      '--name',
      'order',
      '--quiet',
    ]);
    expect(result.code, result.stderr).toBe(0);
    const { config, reproduce } = manifestOf(join(out, 'order'));
    // activation and init from the preset, layers from the file, maxSteps from the flag.
    expect(config).toMatchObject({ preset: 'vanishing', activation: 'sigmoid', init: 'normal', initStd: 0.01, layers: [16], maxSteps: 3 });
    expect(reproduce).toMatch(/^npm run record -- --preset vanishing --name order-again /);

    writeFileSync(file, 'preset: bad-init\nmaxSteps: 2\nprobes: 2\n');
    const named = await runRecorder(['--config', file, '--out', out, '--name', 'named', '--quiet']);
    expect(named.code, named.stderr).toBe(0);
    expect(manifestOf(join(out, 'named')).config).toMatchObject({ preset: 'bad-init', init: 'zeros', maxSteps: 2 });
  });

  it('writes findings into run.json as they appear, while the run is still recording', async () => {
    const out = tempDir('preset-live');
    const recorder = startRecorder([
      '--preset',
      'bad-init',
      '--pace',
      '40',
      '--max-steps',
      '100',
      '--out',
      out,
      '--name',
      'live',
      '--quiet',
    ]);
    let seenWhileRecording: RunManifest | undefined;
    await waitFor(
      () => {
        try {
          const manifest = manifestOf(join(out, 'live'));
          if (manifest.status === 'recording' && manifest.findings.length > 0) seenWhileRecording = manifest;
        } catch {
          // Not written yet.
        }
        return seenWhileRecording !== undefined;
      },
      30_000,
      'a finding in run.json while recording',
    );
    expect(seenWhileRecording!.findings[0]).toMatchObject({ kind: 'dead-neurons', firstStep: 0, lastStep: null });
    const finished = await recorder.done;
    expect(finished.code).toBe(0);
    expect(manifestOf(join(out, 'live')).findings.map((finding) => finding.kind)).toEqual(['dead-neurons', 'dead-neurons', 'stalled']);
  }, 60_000);
});

/** Per step, per neuron of dense layer `layer`: dead by the detector's rule (fraction active 0, every probe f(z) ≤ 0), from the step files. */
async function deadByStep(directory: string, layer: number): Promise<Uint8Array[]> {
  const run = await openRunFolder(directory);
  const neurons = run.manifest.layers[layer]!.size;
  const probes = run.manifest.probes?.count ?? 0;
  const steps: Uint8Array[] = [];
  for (let index = 0; index < run.manifest.chunks.length; index++) {
    const chunk = await run.readSteps(index);
    expect(chunk.problems).toEqual([]);
    const active = chunk.values.get('fractionActive', layer)!;
    const probeActivation = chunk.values.get('probeActivation', layer)!;
    for (let row = 0; row < chunk.rows; row++) {
      steps.push(
        Uint8Array.from({ length: neurons }, (_, neuron) => {
          if (active[row * neurons + neuron] !== 0) return 0;
          for (let probe = 0; probe < probes; probe++) if (probeActivation[(row * probes + probe) * neurons + neuron]! > 0) return 0;
          return 1;
        }),
      );
    }
  }
  return steps;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

describe('dead-neuron findings of the dying-relu preset, recomputed from its step files', () => {
  it('give each dead neuron its death step, start where the threshold count was reached, and say the median', async () => {
    const out = tempDir('preset-dying-steps');
    const result = await runRecorder(['--preset', 'dying-relu', '--out', out, '--name', 'dying', '--quiet']);
    expect(result.code, result.stderr).toBe(0);
    const directory = join(out, 'dying');
    const manifest = manifestOf(directory);
    const { minSteps, minFraction } = manifest.config.diagnostics.deadNeurons;
    let layersWithFindings = 0;
    for (let layer = 1; layer < manifest.layers.length - 1; layer++) {
      const dead = await deadByStep(directory, layer);
      expect(dead).toHaveLength(manifest.stepCount);
      const neurons = manifest.layers[layer]!.size;
      const minCount = Math.max(1, Math.ceil(minFraction * neurons));
      // Each neuron's current unbroken stretch, step by step; the first step with minCount neurons in a stretch of minSteps,
      // and the step from which those neurons (each from its own first step) were minCount.
      const since = new Array<number>(neurons).fill(-1);
      let detected: { step: number; threshold: number } | undefined;
      const counting = (step: number) => since.flatMap((first, neuron) => (first >= 0 && step - first + 1 >= minSteps ? [neuron] : []));
      dead.forEach((flags, step) => {
        flags.forEach((flag, neuron) => (since[neuron] = flag ? (since[neuron]! >= 0 ? since[neuron]! : step) : -1));
        const now = counting(step);
        if (!detected && now.length >= minCount) {
          const starts = now.map((neuron) => since[neuron]!).sort((a, b) => a - b);
          detected = { step, threshold: starts[minCount - 1]! };
        }
      });
      const findings = manifest.findings.filter((finding) => finding.kind === 'dead-neurons' && finding.layer === layer);
      if (!detected) {
        expect(findings).toEqual([]);
        continue;
      }
      layersWithFindings++;
      // The dying-relu layers die for good: one finding, still open at the end.
      expect(findings).toHaveLength(1);
      const finding = findings[0]!;
      const deadAtEnd = counting(manifest.stepCount - 1);
      expect(finding.lastStep).toBeNull();
      expect(finding.neurons).toEqual(deadAtEnd);
      // Each neuron's death step: the first step of its final unbroken stretch of fraction active 0 and probes off.
      expect(finding.neuronSteps).toEqual(deadAtEnd.map((neuron) => since[neuron]));
      expect(finding.firstStep).toBe(detected.threshold);
      expect(finding.detectedAtStep).toBe(detected.step);
      expect(finding.detectedAtStep).toBe(finding.firstStep + minSteps - 1);
      expect(finding.explanation).toContain(
        `: the first at step ${Math.min(...finding.neuronSteps!)}, median death step ${median(finding.neuronSteps!)}; ` +
          `${minCount} (≥ 10% of the layer) were dead by step ${finding.firstStep}.`,
      );
      expect(finding.explanation).toMatch(
        new RegExp(`^${finding.neurons!.length} of ${neurons} neurons in layer ${layer} \\(relu\\) died`),
      );
    }
    expect(layersWithFindings).toBe(2);
  }, 60_000);
});
