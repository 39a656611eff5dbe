/** The findings as the recorder prints them at the end of a run: one line each, then its fix. */
import type { Finding } from './finding.js';

export const NO_FINDINGS = 'Findings: none (no training problem detected)';

/** "steps 12–80", "from step 12 to the end", "at step 12". */
export function describeSteps(finding: Pick<Finding, 'firstStep' | 'lastStep'>): string {
  if (finding.lastStep === null) return `from step ${finding.firstStep} to the end`;
  return finding.lastStep === finding.firstStep ? `at step ${finding.firstStep}` : `steps ${finding.firstStep}–${finding.lastStep}`;
}

export function summarizeFindings(findings: readonly Finding[]): string[] {
  if (findings.length === 0) return [NO_FINDINGS];
  return [
    `Findings (${findings.length}):`,
    ...findings.flatMap((finding) => [
      `  ${finding.kind}${finding.layer === null ? '' : ` in layer ${finding.layer}`}, ${describeSteps(finding)}: ${finding.explanation}`,
      `    fix: ${finding.suggestion}`,
    ]),
  ];
}
