import { readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_LEARNING_RATE, parseByteSize, resolveConfig } from '../core/config.js';
import { loadEmbeddedMnist } from '../datasets/embedded.js';
import { checkAgainstDataset } from '../recorder/record.js';
import { runRecorder, tempDir, TINY } from './helpers.js';

const tfjsNodeInstalled = (() => {
  try {
    createRequire(import.meta.url).resolve('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
})();

function problems(input: unknown): string[] {
  try {
    resolveConfig(input, 'flags');
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('config validation', () => {
  it('fills every default and picks the learning rate for the optimizer', () => {
    const config = resolveConfig({});
    expect(config).toMatchObject({ layers: [128, 64], activation: 'relu', init: 'he', optimizer: 'sgd', batchSize: 64, learningRate: 0.1 });
    expect(resolveConfig({ optimizer: 'adam' }).learningRate).toBe(DEFAULT_LEARNING_RATE.adam);
    expect(resolveConfig({ optimizer: 'adam', learningRate: 0.02 }).learningRate).toBe(0.02);
  });

  it.each([
    [{ learningRate: -1 }, 'flags: field "learningRate" (--lr): got -1, expected a number > 0'],
    [{ learningRate: 'fast' }, 'flags: field "learningRate" (--lr): got "fast", expected a value of type number'],
    [
      { activation: 'swish' },
      'flags: field "activation" (--activation): got "swish", expected one of "relu", "leaky-relu", "sigmoid", "tanh", "linear"',
    ],
    [{ layers: [128, 0] }, 'flags: field "layers.1" (--layers): got 0, expected a number ≥ 1'],
    [{ layers: [10_000_000] }, 'flags: field "layers.0" (--layers): got 10000000, expected a number ≤ 4096'],
    [{ batchSize: 0 }, 'flags: field "batchSize" (--batch-size): got 0, expected a number ≥ 1'],
    [{ batchSize: 2.5 }, 'flags: field "batchSize" (--batch-size): got 2.5, expected an integer'],
    [{ budget: 'lots' }, 'flags: field "budget" (--budget): got "lots", expected a byte size such as 8MiB, 500kB or 1000000'],
    [{ linkAge: 2 }, 'flags: field "linkAge" (--link-age): got 2, expected a number ≤ 1'],
    [{ linkAge: -0.01 }, 'flags: field "linkAge" (--link-age): got -0.01, expected a number ≥ 0'],
    [{ epochs: 1, wings: 2 }, 'flags: unknown field "wings"'],
  ])('%j is refused with a message naming the field, the value and what is allowed', (input, message) => {
    expect(problems(input).join('\n')).toContain(message);
  });

  it('parses byte sizes with units', () => {
    expect(parseByteSize('8MiB')).toBe(8 * 1024 * 1024);
    expect(parseByteSize('500kB')).toBe(500_000);
    expect(parseByteSize('1e6')).toBe(1_000_000);
    expect(parseByteSize('8 parsecs')).toBe('8 parsecs');
  });
});

describe('a config nested thousands deep', () => {
  it('is a config error that shows what was given cut short, not a stack overflow', () => {
    let deep: unknown = 1;
    for (let level = 0; level < 5000; level++) deep = { a: deep };
    let wide: unknown = [];
    for (let level = 0; level < 5000; level++) wide = [wide];
    expect(() => resolveConfig({ layers: deep }, 'deep.json')).toThrow(ConfigError);
    expect(() => resolveConfig({ layers: deep }, 'deep.json')).toThrow(
      'deep.json: field "layers" (--layers): got {"a":{"a":{…}}}, expected a value of type array',
    );
    expect(() => resolveConfig({ layers: wide }, 'deep.json')).toThrow('got [[[…]]], expected a value of type number');
    const long = Array.from({ length: 50 }, (_, index) => `layer-${index}`);
    const message = (() => {
      try {
        resolveConfig({ optimizer: long });
      } catch (error) {
        return (error as ConfigError).problems.join('\n');
      }
      return '';
    })();
    expect(message).toContain('got ["layer-0","layer-1",');
    expect(message).toContain(',…]');
  });
});

describe('the CLI on bad input', () => {
  it('exits 2 naming the flag, before anything is written', async () => {
    const out = tempDir('badflags');
    const result = await runRecorder(['--out', out, '--lr', '-0.5', '--layers', '128,abc']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('error: flags: field "learningRate" (--lr): got -0.5, expected a number > 0');
    expect(result.stderr).toContain('error: flags: field "layers.1" (--layers): got "abc", expected a value of type number');
    const unknown = await runRecorder(['--out', out, '--activation', 'swish']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("option '--activation <name>' argument 'swish' is invalid");
    const thresholds = await runRecorder(['--out', out, '--diagnostics', '{"stalled":{"window":0}}']);
    expect(thresholds.code).toBe(2);
    expect(thresholds.stderr).toContain('error: flags: field "diagnostics.stalled.window" (--diagnostics): got 0, expected a number ≥ 1');
    const notJson = await runRecorder(['--out', out, '--diagnostics', '{stalled}']);
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toContain('error: --diagnostics: got {stalled}, expected JSON (');
    const escaping = await runRecorder(['--out', out, '--name', '../x']);
    expect(escaping.code).toBe(2);
    expect(escaping.stderr).toContain('error: --name "../x" is not a safe run name');
    const linkAge = await runRecorder(['--out', out, '--link-age', 'fresh']);
    expect(linkAge.code).toBe(2);
    expect(linkAge.stderr).toContain('error: flags: field "linkAge" (--link-age): got "fresh", expected a value of type number');
    const pace = await runRecorder(['--out', out, '--pace', '0']);
    expect(pace.code).toBe(2);
    expect(pace.stderr).toContain('expected a positive number of steps per second, got "0"');
    expect(readdirSync(out)).toEqual([]);
  });

  it('reads YAML and JSON config files, flags win, and names the file on errors', async () => {
    const out = tempDir('configfile');
    const yaml = join(out, 'run.yaml');
    writeFileSync(yaml, 'layers: [12]\nactivation: tanh\nbatchSize: 16\nprobes: 2\nmaxSteps: 5\nlearningRate: 0.05\n');
    const ok = await runRecorder(['--config', yaml, '--out', out, '--name', 'fromfile', '--lr', '0.2', '--quiet']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('784-12-10 tanh, sgd lr 0.2, 5 steps');
    const bad = join(out, 'bad.json');
    writeFileSync(bad, JSON.stringify({ epochs: 0, optimizer: 'rmsprop' }));
    const refused = await runRecorder(['--config', bad, '--out', out]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`${bad} + flags: field "epochs" (--epochs): got 0, expected a number ≥ 1`);
    expect(refused.stderr).toContain('field "optimizer" (--optimizer): got "rmsprop", expected one of "sgd", "momentum", "adam"');
    writeFileSync(bad, '{ not json');
    const broken = await runRecorder(['--config', bad, '--out', out]);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain(`--config ${bad}: not valid JSON`);
  }, 60_000);

  it('refuses a batch larger than the training split and more probes than held-out samples', () => {
    const split = { images: new Float32Array(0), labels: new Uint8Array(0), count: 100 };
    const dataset = { ...loadEmbeddedMnist(), train: split, test: { ...split, count: 20 } };
    expect(() => checkAgainstDataset(resolveConfig({ batchSize: 128, probes: 30 }), dataset)).toThrowError(
      'config: field "batchSize" (--batch-size): got 128, expected at most 100 (training samples in mnist-embedded)\n' +
        'config: field "probes" (--probes): got 30, expected at most 20 (held-out samples in mnist-embedded)',
    );
  });

  // Where tfjs-node installed (it needs internet at install time), there is nothing to refuse.
  it.skipIf(tfjsNodeInstalled)('says what to do when --engine node cannot load, and never falls back silently', async () => {
    const out = tempDir('engine');
    const result = await runRecorder([...TINY, '--out', out, '--engine', 'node', '--max-steps', '2']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('--engine node: @tensorflow/tfjs-node is not installed or did not load');
    expect(result.stderr).toContain('use --engine wasm or --engine auto');
  });

  it('refuses a budget too small for the first and last snapshots', async () => {
    const out = tempDir('limits');
    const budget = await runRecorder([...TINY, '--out', out, '--budget', '1kB']);
    expect(budget.code).toBe(2);
    expect(budget.stderr).toMatch(/--budget 1000 bytes is too small: the first and last steps' weights and gradients alone take \d+ bytes/);
  }, 60_000);
});
