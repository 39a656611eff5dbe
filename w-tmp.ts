import { linkColumns } from './core/format/columns.js';
import { encodeBatchMessage } from './core/format/ipc.js';
import { quantizeInt8 } from './core/format/int8.js';
import { RowBuffer } from './recorder/writer/row-buffer.js';
const n = 784 * 128;
const w = Float32Array.from({ length: n }, () => (Math.random() - 0.5) * 0.1);
const g = Float32Array.from({ length: n }, () => (Math.random() - 0.5) * 0.001);
const columns = linkColumns(784, 128);
const rows = new RowBuffer(columns, 5);
const t = { q: 0, take: 0, enc: 0 };
for (let r = 0; r < 100; r++) {
  let a = performance.now();
  const row = rows.addRow();
  rows.quantityCell('linkStep', row)[0] = r;
  rows.quantityCell('weightScale', row)[0] = quantizeInt8(w, rows.quantityCell('weightCode', row));
  rows.quantityCell('weightGradScale', row)[0] = quantizeInt8(g, rows.quantityCell('weightGradCode', row));
  t.q += performance.now() - a;
  a = performance.now();
  const { values, rows: count } = rows.take();
  t.take += performance.now() - a;
  a = performance.now();
  encodeBatchMessage(columns, values, count);
  t.enc += performance.now() - a;
}
console.log(Object.entries(t).map(([k, v]) => `${k} ${(v / 100).toFixed(3)} ms`).join(', '));
