/**
 * Writes the tables of docs/run-format.md — columns, views, activation functions — from the
 * vocabulary (core/format/quantities.ts, core/nn/activation.ts), between the "generated" markers. `npm run docs:format` rewrites them; a test fails when they drift.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { linkColumns, probeColumns, stepColumns, weightColumns, type ColumnSpec } from '../core/format/columns.js';
import { describeType } from '../core/format/ipc.js';
import { DEFAULT_DIAGNOSTICS } from '../core/diagnostics/thresholds.js';
import { SCHEMA_VERSION } from '../core/format/manifest.js';
import { quantity, VIEW_SPECS, VIEWS } from '../core/format/quantities.js';
import { ACTIVATION_FUNCTIONS, ACTIVATIONS } from '../core/nn/activation.js';

export const DOC_PATH = fileURLToPath(new URL('./run-format.md', import.meta.url));
const START = '<!-- generated from core/format/quantities.ts by `npm run docs:format` — do not edit -->';
const END = '<!-- end of generated columns -->';

// Sentinel sizes, replaced by their symbols in the tables.
const SYMBOLS = new Map([
  [1001, 'B'],
  [1002, 'P'],
  [1003, 'n_K'],
  [1004, 'n_(K−1)'],
  [1005, 'C'],
  [1006, 'D'],
]);

function symbolic(text: string): string {
  let out = text;
  for (const [value, symbol] of SYMBOLS) out = out.replaceAll(String(value), symbol);
  return out.replaceAll('layer1.', 'layerK.');
}

/** @param markSince mark columns newer than the first format (not in a table of a file that is newer itself) */
function table(columns: ColumnSpec[], markSince = true): string {
  const rows = columns.map((spec) => {
    const shape = spec.shape ? `[${spec.shape.join(', ')}]` : 'scalar';
    const type = describeType(spec).replace(/\[\d+\]$/, '');
    const nulls = spec.nullable === 'row' ? ' (nullable)' : spec.nullable === 'item' ? ' (items nullable)' : '';
    const since =
      markSince && spec.quantity && quantity(spec.quantity).since > 1 ? ` *(schemaVersion ${quantity(spec.quantity).since}+)*` : '';
    // A bar inside a cell (|W|) would end it.
    return `| \`${spec.name}\` | ${type}${nulls} | ${shape} | ${spec.unit} | ${spec.doc.replaceAll('|', '\\|')}${since} |`;
  });
  return symbolic(['| column | type | shape per row | unit | meaning |', '| --- | --- | --- | --- | --- |', ...rows].join('\n'));
}

function viewsTable(): string {
  const rows = VIEWS.map((view) => {
    const spec = VIEW_SPECS[view];
    const shown = quantity(spec.quantity);
    const encoding = {
      value: 'the value',
      magnitude: 'its magnitude (absolute value)',
      class: 'preferred class (hue) and selectivity (brightness)',
    }[spec.encoding];
    const twin = shown.probeTwin ? `\`${shown.probeTwin}\`` : '—';
    return `| \`${view}\` (key ${spec.key}) | \`${spec.quantity}\` (${shown.label}) | ${encoding} | \`${spec.edges}\` | ${twin} |`;
  });
  return ['| view | quantity | colour shows | edges | with a probe |', '| --- | --- | --- | --- | --- |', ...rows].join('\n');
}

function activationsTable(): string {
  const rows = ACTIVATIONS.map((name) => {
    const fn = ACTIVATION_FUNCTIONS[name];
    const saturates = fn.saturationCentre === undefined ? '—' : `around f = ${fn.saturationCentre}`;
    const inactive = fn.inactiveMeans(DEFAULT_DIAGNOSTICS.saturation);
    return `| \`${name}\` | ${fn.activeMeans} | ${inactive} | ${fn.maxDerivative} | ${saturates} | ${fn.canDie ? 'yes' : 'no'} |`;
  });
  return [
    '| activation | active on a sample when | inactive on a step’s batch when (default thresholds) | largest f′ | saturates | can die |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}

export function generatedSection(): string {
  const steps = stepColumns({
    inputSize: 1006,
    layerSizes: [1003],
    batchSize: 1001,
    probeCount: 1002,
    classCount: 1005,
    schemaVersion: SCHEMA_VERSION,
  });
  return [
    START,
    '',
    '### `steps-NNNN.arrows` — one row per step',
    '',
    'Columns named `layerK.*` repeat for every dense layer K = 1 … L (the last is the output layer). B = batch size,',
    'P = probe count (probe columns are absent when P = 0), n_K = neurons in layer K, C = classes, D = input values',
    "(the product of the input layer's `shape`). Columns marked with a schemaVersion are absent from older runs.",
    '',
    table(steps),
    '',
    '### `weights-layerK-NNNN.arrows` — one row per kept step of layer K',
    '',
    table(weightColumns(1004, 1003)),
    '',
    '### `links-layerK-NNNN.arrows` — one row per link frame of layer K *(schemaVersion 3+)*',
    '',
    table(linkColumns(1004, 1003), false),
    '',
    '### `probes.arrows` — one row per probe sample, written once',
    '',
    table(probeColumns(1006)),
    '',
    '### Views of the network picture',
    '',
    viewsTable(),
    '',
    '### Activation functions',
    '',
    activationsTable(),
    '',
    END,
  ].join('\n');
}

export function renderDoc(current: string): string {
  const start = current.indexOf(START);
  const end = current.indexOf(END);
  if (start < 0 || end < 0) throw new Error(`${DOC_PATH}: generated-section markers not found`);
  return current.slice(0, start) + generatedSection() + current.slice(end + END.length);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(DOC_PATH, renderDoc(readFileSync(DOC_PATH, 'utf8')));
  console.log(`wrote ${DOC_PATH}`);
}
