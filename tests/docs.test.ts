import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DIAGNOSTICS_DOC_PATH, renderDiagnosticsDoc } from '../docs/generate-diagnostics.js';
import { DOC_PATH, renderDoc } from '../docs/generate-run-format.js';

describe('docs/run-format.md', () => {
  it('has column tables that match core/format/columns.ts (run `npm run docs:format` after changing columns)', () => {
    const current = readFileSync(DOC_PATH, 'utf8');
    expect(renderDoc(current)).toBe(current);
  });
});

describe('docs/diagnostics.md', () => {
  it('has threshold and preset tables that match the code (run `npm run docs:format` after changing them)', () => {
    const current = readFileSync(DIAGNOSTICS_DOC_PATH, 'utf8');
    expect(renderDiagnosticsDoc(current)).toBe(current);
  });
});
