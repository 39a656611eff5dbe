/**
 * Writes the column tables of docs/run-format.md from core/format/columns.ts, between the
 * "generated" markers. `npm run docs:format` rewrites them; a test fails when they drift.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { probeColumns, stepColumns, weightColumns, type ColumnSpec } from '../core/format/columns.js';
import { describeType } from '../core/format/ipc.js';

export const DOC_PATH = fileURLToPath(new URL('./run-format.md', import.meta.url));
const START = '<!-- generated from core/format/columns.ts by `npm run docs:format` — do not edit -->';
const END = '<!-- end of generated columns -->';

// Sentinel sizes, replaced by their symbols in the tables.
const SYMBOLS = new Map([
  [1001, 'B'],
  [1002, 'P'],
  [1003, 'n_K'],
  [1004, 'n_(K−1)'],
]);

function symbolic(text: string): string {
  let out = text;
  for (const [value, symbol] of SYMBOLS) out = out.replaceAll(String(value), symbol);
  return out.replaceAll('layer1.', 'layerK.');
}

function table(columns: ColumnSpec[]): string {
  const rows = columns.map((spec) => {
    const shape = spec.shape ? `[${spec.shape.join(', ')}]` : 'scalar';
    const type = describeType(spec).replace(/\[\d+\]$/, '');
    return `| \`${spec.name}\` | ${type}${spec.nullable ? ' (nullable)' : ''} | ${shape} | ${spec.unit} | ${spec.doc} |`;
  });
  return symbolic(['| column | type | shape per row | unit | meaning |', '| --- | --- | --- | --- | --- |', ...rows].join('\n'));
}

export function generatedSection(): string {
  const steps = stepColumns({ inputSize: 784, layerSizes: [1003], batchSize: 1001, probeCount: 1002 });
  return [
    START,
    '',
    '### `steps-NNNN.arrows` — one row per step',
    '',
    'Columns named `layerK.*` repeat for every dense layer K = 1 … L (the last is the output layer). B = batch size,',
    'P = probe count (probe columns are absent when P = 0), n_K = neurons in layer K.',
    '',
    table(steps),
    '',
    '### `weights-layerK-NNNN.arrows` — one row per kept step of layer K',
    '',
    table(weightColumns(1004, 1003)),
    '',
    '### `probes.arrows` — one row per probe sample, written once',
    '',
    table(probeColumns(784)),
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
