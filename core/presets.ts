/**
 * Lesson presets: `npm run record -- --preset <name>` records a run that shows one training
 * problem, and the finding it produces. A preset only fills config defaults: a config file
 * overrides it, and flags override both. What each one shows, and at which step with the default
 * seed: docs/diagnostics.md. (Presets never set `diagnostics` thresholds.)
 */
import type { ConfigInput } from './config.js';
import type { FindingKind } from './diagnostics/finding.js';

export const PRESET_NAMES = ['healthy', 'vanishing', 'exploding', 'dying-relu', 'bad-init', 'saturation'] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

export interface Preset {
  /** One line for --help and the docs. */
  description: string;
  config: Omit<ConfigInput, 'preset' | 'diagnostics'>;
  /** Finding kinds the preset is made to show (it may show others that follow from them). */
  shows: readonly FindingKind[];
}

export const PRESETS: Record<PresetName, Preset> = {
  healthy: {
    description: 'the default run: 784-128-64-10 ReLU, He init, SGD lr 0.1, 560 steps; no findings',
    config: {},
    shows: [],
  },
  vanishing: {
    description: 'four sigmoid layers with tiny weights (normal, std 0.01): the gradient fades layer by layer',
    config: { layers: [64, 64, 64, 64], activation: 'sigmoid', init: 'normal', initStd: 0.01, maxSteps: 150 },
    shows: ['vanishing-gradient', 'stalled'],
  },
  exploding: {
    description: 'linear activations with a learning rate too high (0.2): the loss and gradients blow up to NaN',
    config: { activation: 'linear', learningRate: 0.2, maxSteps: 100 },
    shows: ['exploding-gradient', 'nan-inf'],
  },
  'dying-relu': {
    description: 'ReLU with a learning rate too high (1): most first-layer neurons die within a few steps',
    config: { learningRate: 1, maxSteps: 120 },
    shows: ['dead-neurons'],
  },
  'bad-init': {
    description: 'all-zero weights: every ReLU is off from step 0, nothing differentiates, the loss stays at chance',
    config: { init: 'zeros', maxSteps: 120 },
    shows: ['dead-neurons', 'stalled'],
  },
  saturation: {
    description: 'tanh with large initial weights (normal, std 1.5): units pinned at ±1 pass no gradient',
    config: { activation: 'tanh', init: 'normal', initStd: 1.5, maxSteps: 120 },
    shows: ['saturation'],
  },
};

/** The message for a preset name that does not exist, given to `--preset` or in `where`; lists them all. */
export function unknownPresetMessage(name: string, where = '--preset'): string {
  return `${where}: unknown preset ${JSON.stringify(name)}; expected one of: ${PRESET_NAMES.join(', ')}`;
}

export function isPresetName(name: string): name is PresetName {
  return (PRESET_NAMES as readonly string[]).includes(name);
}
