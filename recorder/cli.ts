/**
 * `npm run record -- [options]`: record a training run. Exit codes: 0 complete, 1 error,
 * 2 invalid configuration or flags, 3 training diverged (run kept, marked failed),
 * 130 interrupted by Ctrl-C (run kept, marked interrupted), 143 by SIGTERM.
 */
import { SingleBar } from 'cli-progress';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { basename, join, relative } from 'node:path';

/** A path as the user would type it from here: relative inside the working folder, absolute outside. */
function shown(path: string): string {
  const fromHere = relative(process.cwd(), path);
  return fromHere === '' || fromHere.startsWith('..') ? path : fromHere;
}
import { ACTIVATIONS } from '../core/nn/activation.js';
import {
  ConfigError,
  DATASETS,
  DEFAULT_LEARNING_RATE,
  ENGINES,
  formatByteSize,
  INITS,
  OPTIMIZERS,
  resolveConfig,
  type Config,
  type ConfigInput,
} from '../core/config.js';
import { summarizeFindings } from '../core/diagnostics/summary.js';
import { isPresetName, PRESET_NAMES, PRESETS, unknownPresetMessage } from '../core/presets.js';
import { BudgetError } from '../core/snapshots.js';
import { readConfigFile } from './config-file.js';
import { DataFileError } from '../datasets/user-data.js';
import { DataError } from './library/data.js';
import { UnsupportedModelError } from './library/model-spec.js';
import { recordOwnData } from './own-data.js';
import { recordRun, type RecordResult } from './record.js';
import { reproduceCommand, shellQuote } from './reproduce-command.js';
import { checkRunName, defaultRunName, RunFolderError } from './run-folder.js';

export const EXIT = { ok: 0, error: 1, usage: 2, diverged: 3, interrupted: 130, terminated: 143 } as const;

const defaults = resolveConfig({});

function number(value: string): number | string {
  const parsed = Number(value);
  return value.trim() === '' || Number.isNaN(parsed) ? value : parsed;
}

function layerList(value: string): (number | string)[] {
  return value.trim() === '' ? [] : value.split(',').map((part) => number(part.trim()));
}

function buildProgram(): Command {
  const lr = Object.entries(DEFAULT_LEARNING_RATE)
    .map(([optimizer, rate]) => `${rate} for ${optimizer}`)
    .join(', ');
  return new Command('record')
    .description('Train an MLP and record every step to a run folder of Arrow files.')
    .addOption(
      new Option(
        '--preset <name>',
        `a lesson that shows one training problem (${PRESET_NAMES.join(', ')}); a config file and flags override it`,
      ),
    )
    .addOption(new Option('--config <file>', 'JSON or YAML file of config fields; flags override it'))
    .addOption(new Option('--name <name>', 'run name, the folder under --out (default: <dataset>-<date>-<time>)'))
    .addOption(new Option('--out <dir>', 'folder that holds runs').default('runs'))
    .addOption(new Option('--dataset <name>', 'training data').choices(DATASETS).default(defaults.dataset))
    .addOption(new Option('--layers <sizes>', 'hidden layer sizes, comma-separated').default(defaults.layers.join(',')))
    .addOption(new Option('--activation <name>', 'hidden-layer activation').choices(ACTIVATIONS).default(defaults.activation))
    .addOption(new Option('--init <name>', 'weight initialisation (biases start at 0)').choices(INITS).default(defaults.init))
    .addOption(new Option('--init-std <x>', 'standard deviation for --init normal').default(String(defaults.initStd)))
    .addOption(new Option('--init-value <x>', 'weight value for --init constant').default(String(defaults.initValue)))
    .addOption(new Option('--optimizer <name>', 'update rule').choices(OPTIMIZERS).default(defaults.optimizer))
    .addOption(new Option('--lr <rate>', `learning rate (default: ${lr})`))
    .addOption(new Option('--momentum <x>', 'momentum coefficient for --optimizer momentum').default(String(defaults.momentum)))
    .addOption(new Option('--batch-size <n>', 'samples per step').default(String(defaults.batchSize)))
    .addOption(new Option('--epochs <n>', 'passes over the training split').default(String(defaults.epochs)))
    .addOption(new Option('--max-steps <n>', 'stop after this many steps (default: no limit)'))
    .addOption(new Option('--seed <n>', 'seed for initial weights and batch order').default(String(defaults.seed)))
    .addOption(new Option('--probes <n>', 'held-out probe samples recorded every step').default(String(defaults.probes)))
    .addOption(new Option('--eval-every <n>', 'held-out evaluation every n steps').default(String(defaults.evalEvery)))
    .addOption(new Option('--budget <bytes>', 'bytes for exact weight snapshots over the run, e.g. 8MiB').default('12MiB'))
    .addOption(
      new Option(
        '--link-age <fraction>',
        'how old drawn links may be, as a fraction of the run: int8 link frames are kept that often, beside the budget (0: none)',
      ).default(String(defaults.linkAge)),
    )
    .addOption(
      new Option(
        '--diagnostics <json>',
        `thresholds of the training-problem detectors, e.g. '{"stalled":{"window":50}}'; fields left out keep their defaults (docs/diagnostics.md); replaces a config file's "diagnostics"`,
      ),
    )
    .addOption(
      new Option('--engine <name>', 'TensorFlow.js backend; auto = tfjs-node if it loads, else wasm')
        .choices(ENGINES)
        .default(defaults.engine),
    )
    .addOption(
      new Option(
        '--data <path>',
        'your own data instead of --dataset: a .csv file, a folder of images (a sub-folder per class), or .npy / IDX inputs with --labels',
      ),
    )
    .addOption(new Option('--labels <file>', 'with --data x.npy or an IDX file of inputs: the file of class indices'))
    .addOption(new Option('--label-column <name>', 'with --data file.csv: the column that holds the class').default('label'))
    .addOption(
      new Option('--held-out <fraction>', 'with --data: fraction of each class held out for the probes and evaluation').default('0.1'),
    )
    .addOption(
      new Option('--model <model.json>', 'with --data: a TensorFlow.js LayersModel saved with model.save() to train instead of --layers'),
    )
    .option('--pace <steps/s>', 'train at most this many steps per second, to watch the run live (default: flat out)', pace)
    .option('--force', 'replace an existing run of the same name', false)
    .option('--quiet', 'no progress bar', false)
    .allowExcessArguments(false)
    .exitOverride();
}

/** A flag's JSON value, left for the config schema to narrow. */
function json(flag: string): (value: string) => unknown {
  return (value) => {
    try {
      return JSON.parse(value) as unknown;
    } catch (error) {
      throw new ConfigError([`${flag}: got ${value}, expected JSON (${(error as Error).message})`]);
    }
  };
}

function pace(value: string): number {
  const parsed = Number(value);
  if (!(parsed > 0) || !Number.isFinite(parsed))
    throw new InvalidArgumentError(`expected a positive number of steps per second, got "${value}"`);
  return parsed;
}

/** Flags the user typed, mapped onto config fields (commander fills defaults; those do not override a config file). */
function flagsToConfig(program: Command): ConfigInput {
  const options = program.opts<Record<string, string | undefined>>();
  const given = (key: string) => program.getOptionValueSource(key) === 'cli';
  const fields: Record<string, unknown> = {};
  const map: [string, keyof Config, (value: string) => unknown][] = [
    ['dataset', 'dataset', String],
    ['layers', 'layers', layerList],
    ['activation', 'activation', String],
    ['init', 'init', String],
    ['initStd', 'initStd', number],
    ['initValue', 'initValue', number],
    ['optimizer', 'optimizer', String],
    ['lr', 'learningRate', number],
    ['momentum', 'momentum', number],
    ['batchSize', 'batchSize', number],
    ['epochs', 'epochs', number],
    ['maxSteps', 'maxSteps', number],
    ['seed', 'seed', number],
    ['probes', 'probes', number],
    ['evalEvery', 'evalEvery', number],
    ['budget', 'budget', String],
    ['linkAge', 'linkAge', number],
    ['diagnostics', 'diagnostics', json('--diagnostics')],
    ['engine', 'engine', String],
    ['preset', 'preset', String],
  ];
  for (const [option, field, convert] of map) {
    const value = options[option];
    if (given(option) && value !== undefined) fields[field] = convert(value);
  }
  return fields as ConfigInput;
}

/**
 * Preset defaults, then the config file, then flags: each overrides the one before. The preset is
 * named by `--preset` or by the file's `preset` field (the flag wins).
 */
function mergedConfigInput(configFile: string | undefined, flags: ConfigInput): Record<string, unknown> {
  const fromFile = configFile ? (readConfigFile(configFile) as Record<string, unknown>) : {};
  const presetName = flags.preset ?? fromFile.preset;
  if (presetName === undefined || presetName === null) return { ...fromFile, ...flags };
  if (typeof presetName !== 'string' || !isPresetName(presetName)) {
    const where = flags.preset === undefined ? `${configFile}: field "preset"` : '--preset';
    throw new ConfigError([unknownPresetMessage(typeof presetName === 'string' ? presetName : JSON.stringify(presetName), where)]);
  }
  return { ...PRESETS[presetName].config, ...fromFile, ...flags, preset: presetName };
}

/** What the int8 link frames kept and took, beside the exact snapshots' budget; undefined when none were planned. */
function linkFramesLine(result: Pick<RecordResult, 'linkFrames' | 'linkBytesWritten'>, budget: number): string | undefined {
  const plan = result.linkFrames;
  if (!plan) return undefined;
  const layers = plan.strides.flatMap((stride, index) => (stride > 0 ? [index + 1] : []));
  const fresh = `drawn links at most ${plan.maxAge} step${plan.maxAge === 1 ? '' : 's'} old`;
  if (layers.length === 0) return `  links: ${fresh}; every layer's snapshots within the ${formatByteSize(budget)} budget are that fresh`;
  return (
    `  links: ${fresh}; int8 link frames of layer${layers.length > 1 ? 's' : ''} ${layers.join(', ')} every ${Math.max(...plan.strides)} steps, ` +
    `${formatByteSize(result.linkBytesWritten)} beside the ${formatByteSize(budget)} budget of exact snapshots`
  );
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    program.parse(argv);
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    throw error;
  }
  const options = program.opts<{
    config?: string;
    name?: string;
    out: string;
    force: boolean;
    quiet: boolean;
    pace?: number;
    data?: string;
    labels?: string;
    labelColumn: string;
    heldOut: string;
    model?: string;
  }>();
  const heldOut = Number(options.heldOut);
  const ownDataProblem =
    options.model !== undefined && options.data === undefined
      ? '--model needs --data: the data to train it on'
      : options.data === undefined && (options.labels !== undefined || program.getOptionValueSource('heldOut') === 'cli')
        ? '--labels and --held-out go with --data'
        : !(heldOut > 0 && heldOut < 1)
          ? `--held-out: got ${options.heldOut}, expected a fraction between 0 and 1`
          : options.data !== undefined && program.getOptionValueSource('dataset') === 'cli'
            ? '--data and --dataset: choose one'
            : undefined;
  if (ownDataProblem) {
    console.error(`error: ${ownDataProblem}`);
    return EXIT.usage;
  }
  let config: Config;
  try {
    config = resolveConfig(
      mergedConfigInput(options.config, flagsToConfig(program)),
      options.config ? `${options.config} + flags` : 'flags',
    );
  } catch (error) {
    if (error instanceof ConfigError) {
      for (const problem of error.problems) console.error(`error: ${problem}`);
      return EXIT.usage;
    }
    throw error;
  }
  const name =
    options.name ??
    defaultRunName(
      options.data
        ? basename(options.data)
            .replace(/\.[^.]*$/, '')
            .replace(/[^A-Za-z0-9._-]/g, '-') || 'data'
        : config.dataset,
    );
  // A name that would leave --out is a usage error, like any other bad flag.
  try {
    checkRunName(name);
  } catch (error) {
    if (error instanceof RunFolderError) {
      console.error(`error: ${error.message}`);
      return EXIT.usage;
    }
    throw error;
  }
  const stopSignal: { stop: boolean; reason?: string } = { stop: false };
  let exitForSignal: number = EXIT.interrupted;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopSignal.stop) return;
    stopSignal.stop = true;
    stopSignal.reason = `interrupted by ${signal}`;
    exitForSignal = signal === 'SIGTERM' ? EXIT.terminated : EXIT.interrupted;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const interactive = process.stderr.isTTY && !options.quiet;
  const bar = new SingleBar({
    format:
      ' {bar} {percentage}% | step {value}/{total} | {speed} steps/s | ETA {eta_formatted} | loss {loss} | acc {accuracy} | held-out {evalAccuracy}',
    barsize: 24,
    hideCursor: true,
    etaBuffer: 50,
  });
  let lastLine = 0;
  let beganAt = performance.now();
  let held = '–';
  let result: Omit<RecordResult, 'writerBusySeconds' | 'trainingSeconds'>;
  const abort = new AbortController();
  const stopWatcher = setInterval(() => stopSignal.stop && abort.abort(stopSignal.reason), 50);
  stopWatcher.unref();
  /** --data: the user's data (and --model), through the library's fit. */
  const recordOwn = async (data: string, startedAt: number) => {
    const own = await recordOwnData({
      config,
      name,
      out: options.out,
      force: options.force,
      data,
      labels: options.labels,
      labelColumn: options.labelColumn,
      heldOut,
      model: options.model,
      reproduce: `npm run record -- ${process.argv
        .slice(2)
        .filter((word, index, words) => word !== '--force' && word !== '--name' && words[index - 1] !== '--name')
        .map(shellQuote)
        .join(' ')} --name ${shellQuote(`${name}-again`)}`,
      signal: abort.signal,
      pace: options.pace,
      onStart: ({ data: loaded, model, plannedSteps }) => {
        console.log(
          `Recording "${name}": ${loaded.name} (${loaded.train.count} train / ${loaded.test.count} held out, ${loaded.classNames.length} classes), ` +
            `${options.model ? `model ${model.name}` : `${[loaded.inputShape.join('×'), ...config.layers, loaded.classNames.length].join('-')} ${config.activation}`}, ` +
            `${config.optimizer} lr ${config.learningRate}, ${plannedSteps} steps\n  → ${shown(join(options.out, name))}`,
        );
        beganAt = performance.now();
        if (interactive) bar.start(plannedSteps, 0, { speed: '0', loss: '–', accuracy: '–', evalAccuracy: held });
      },
      onEval: ({ accuracy }) => {
        held = `${(accuracy * 100).toFixed(1)}%`;
      },
      onStep: progress,
    });
    return { ...own, linkFrames: null, linkBytesWritten: 0, seconds: (performance.now() - startedAt) / 1000 };
  };
  const progress = ({ step, loss, accuracy }: { step: number; loss: number; accuracy: number }) => {
    const elapsed = (performance.now() - beganAt) / 1000;
    if (interactive) {
      bar.update(step + 1, {
        speed: ((step + 1) / elapsed).toFixed(0),
        loss: loss.toFixed(3),
        accuracy: `${(accuracy * 100).toFixed(0)}%`,
        evalAccuracy: held,
      });
    } else if (!options.quiet && elapsed - lastLine >= 5) {
      lastLine = elapsed;
      console.log(`  step ${step + 1}, ${((step + 1) / elapsed).toFixed(0)} steps/s, loss ${loss.toFixed(3)}, held-out ${held}`);
    }
  };
  try {
    const startedAt = performance.now();
    result = options.data
      ? await recordOwn(options.data, startedAt)
      : await recordRun({
          config,
          name,
          out: options.out,
          force: options.force,
          reproduce: (engine) => reproduceCommand(config, name, engine),
          stopSignal,
          pace: options.pace,
          onStart: ({ directory, plannedSteps, engine, dataset }) => {
            const engineText = `${engine.name}${engine.simd ? ' (SIMD)' : ''}`;
            console.log(
              `Recording "${name}"${config.preset ? ` (preset ${config.preset})` : ''}: ${dataset.name} (${dataset.train.count} train / ${dataset.test.count} held out), ` +
                `784-${[...config.layers, 10].join('-')} ${config.activation}, ${config.optimizer} lr ${config.learningRate}, ` +
                `${plannedSteps} steps, engine ${engineText}\n  → ${shown(directory)}`,
            );
            beganAt = performance.now();
            if (interactive) bar.start(plannedSteps, 0, { speed: '0', loss: '–', accuracy: '–', evalAccuracy: held });
          },
          onEval: ({ accuracy }) => {
            held = `${(accuracy * 100).toFixed(1)}%`;
          },
          onStep: progress,
        });
  } catch (error) {
    if (interactive) bar.stop();
    if (
      error instanceof ConfigError ||
      error instanceof BudgetError ||
      error instanceof DataFileError ||
      error instanceof UnsupportedModelError ||
      error instanceof DataError
    ) {
      console.error(`error: ${error.message}`);
      return EXIT.usage;
    }
    if (error instanceof RunFolderError) {
      console.error(`error: ${error.message}`);
      return EXIT.error;
    }
    console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
    return EXIT.error;
  } finally {
    clearInterval(stopWatcher);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (interactive) bar.stop();
  const where = shown(result.directory);
  const held_out = result.finalEval ? `, held-out accuracy ${(result.finalEval.accuracy * 100).toFixed(1)}%` : '';
  console.log(
    `${result.status === 'complete' ? 'Recorded' : `Stopped (${result.status})`}: ${result.stepCount} steps in ${result.seconds.toFixed(1)} s` +
      `, ${formatByteSize(result.bytesWritten)}${held_out}\n  → ${where}`,
  );
  const links = linkFramesLine(result, config.budget);
  if (links) console.log(links);
  for (const line of summarizeFindings(result.findings)) console.log(line);
  if (result.message) console.error(result.status === 'failed' ? `error: ${result.message}` : result.message);
  if (result.status === 'interrupted') return exitForSignal;
  if (result.status === 'failed') return EXIT.diverged;
  return EXIT.ok;
}

process.exitCode = await main(process.argv);
