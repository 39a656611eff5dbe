/**
 * Writes the thresholds and presets tables of docs/diagnostics.md from
 * core/diagnostics/thresholds.ts and core/presets.ts, between the "generated" markers.
 * `npm run docs:format` rewrites them; a test fails when they drift.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DEFAULT_DIAGNOSTICS } from '../core/diagnostics/thresholds.js';
import { PRESET_NAMES, PRESETS } from '../core/presets.js';

export const DIAGNOSTICS_DOC_PATH = fileURLToPath(new URL('./diagnostics.md', import.meta.url));
const START = '<!-- generated from core/diagnostics/thresholds.ts and core/presets.ts by `npm run docs:format` — do not edit -->';
const END = '<!-- end of generated tables -->';

function thresholdsTable(): string {
  const rows = Object.entries(DEFAULT_DIAGNOSTICS).flatMap(([detector, fields]) =>
    Object.entries(fields).map(([field, value]) => `| \`${detector}.${field}\` | ${value} |`),
  );
  return ['| `diagnostics.` field | default |', '| --- | --- |', ...rows].join('\n');
}

function presetsTable(): string {
  const rows = PRESET_NAMES.map((name) => {
    const { description, config, shows } = PRESETS[name];
    const fields = Object.entries(config).map(([field, value]) => `${field}: ${JSON.stringify(value)}`);
    return `| \`${name}\` | ${description} | ${fields.length ? `\`${fields.join(', ')}\`` : '(the defaults)'} | ${shows.length ? shows.map((kind) => `\`${kind}\``).join(', ') : 'none'} |`;
  });
  return ['| preset | what it is | config it sets | findings it shows |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

export function generatedDiagnosticsSection(): string {
  return [START, '', '### Thresholds', '', thresholdsTable(), '', '### Presets', '', presetsTable(), '', END].join('\n');
}

export function renderDiagnosticsDoc(current: string): string {
  const start = current.indexOf(START);
  const end = current.indexOf(END);
  if (start < 0 || end < 0) throw new Error(`${DIAGNOSTICS_DOC_PATH}: generated-section markers not found`);
  return current.slice(0, start) + generatedDiagnosticsSection() + current.slice(end + END.length);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(DIAGNOSTICS_DOC_PATH, renderDiagnosticsDoc(readFileSync(DIAGNOSTICS_DOC_PATH, 'utf8')));
  console.log(`wrote ${DIAGNOSTICS_DOC_PATH}`);
}
