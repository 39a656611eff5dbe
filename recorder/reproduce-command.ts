/** The command line stored in run.json (`reproduce`) that records the same run, and the same findings, again. */
import type { Config } from '../core/config.js';
import { changedThresholds } from '../core/diagnostics/thresholds.js';
import type { EngineName } from './engine.js';

/** `word` as one word of a POSIX shell command: as it is when no shell treats any of its characters specially, else single-quoted. */
export function shellQuote(word: string): string {
  return /^[\w.,:/=+@%-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * Every flag that sets `config` from the defaults, for the run `name` recorded with `engine`. Thresholds
 * appear only when some differ from their defaults (presets set none), so most commands stay short.
 */
export function reproduceCommand(config: Config, name: string, engine: EngineName): string {
  const thresholds = changedThresholds(config.diagnostics);
  const flags: (readonly [flag: string, value: string | number])[] = [
    ...(config.preset !== null ? [['--preset', config.preset] as const] : []),
    ['--name', `${name}-again`],
    ['--dataset', config.dataset],
    ['--layers', config.layers.join(',')],
    ['--activation', config.activation],
    ['--init', config.init],
    ...(config.init === 'normal' ? [['--init-std', config.initStd] as const] : []),
    ...(config.init === 'constant' ? [['--init-value', config.initValue] as const] : []),
    ['--optimizer', config.optimizer],
    ['--lr', config.learningRate],
    ...(config.optimizer === 'momentum' ? [['--momentum', config.momentum] as const] : []),
    ['--batch-size', config.batchSize],
    ['--epochs', config.epochs],
    ...(config.maxSteps !== null ? [['--max-steps', config.maxSteps] as const] : []),
    ['--seed', config.seed],
    ['--probes', config.probes],
    ['--eval-every', config.evalEvery],
    ['--budget', config.budget],
    ['--link-age', config.linkAge],
    ...(Object.keys(thresholds).length > 0 ? [['--diagnostics', JSON.stringify(thresholds)] as const] : []),
    ['--engine', engine],
  ];
  return `npm run record -- ${flags.map(([flag, value]) => `${flag} ${shellQuote(String(value))}`).join(' ')}`;
}
