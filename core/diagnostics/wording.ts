/** Numbers and ranges as the one-line explanations print them. */

/** 3 significant digits; scientific notation outside [0.001, 10000). */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude < 1e-3 || magnitude >= 1e4) return value.toExponential(2).replace('e+', 'e');
  return String(Number(value.toPrecision(3)));
}

/** "3 of 128 neurons" with the right plural. */
export function countOf(count: number, total: number, noun: string): string {
  return `${count} of ${total} ${noun}${total === 1 ? '' : 's'}`;
}
