/**
 * IDX files, the format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/): a magic
 * number whose third byte is the element type (0x08 = unsigned byte) and fourth the number of
 * dimensions, then each dimension as a big-endian uint32, then the data.
 */
import { gunzipSync } from 'node:zlib';

export const IDX_UBYTE = 0x08;

export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

export class IdxError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = 'IdxError';
  }
}

const hex = (value: number) => `0x${value.toString(16).padStart(8, '0')}`;

/** Parses an IDX file of unsigned bytes with `expectedDims` dimensions; gzip is detected by its magic bytes. */
export function parseIdx(file: string, raw: Uint8Array, expectedDims: number): IdxArray {
  let bytes = raw;
  if (raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      bytes = gunzipSync(raw);
    } catch (error) {
      throw new IdxError(file, `is gzip-compressed but cannot be decompressed (${(error as Error).message})`);
    }
  }
  if (bytes.length < 4) throw new IdxError(file, `is ${bytes.length} bytes long, too short for an IDX header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  const expectedMagic = (IDX_UBYTE << 8) | expectedDims;
  if (magic !== expectedMagic) {
    throw new IdxError(
      file,
      `wrong magic number ${hex(magic)}, expected ${hex(expectedMagic)} (unsigned bytes, ${expectedDims} dimension${expectedDims > 1 ? 's' : ''})`,
    );
  }
  const headerBytes = 4 + 4 * expectedDims;
  if (bytes.length < headerBytes) throw new IdxError(file, `is truncated inside its header (${bytes.length} of ${headerBytes} bytes)`);
  const dims = Array.from({ length: expectedDims }, (_, index) => view.getUint32(4 + 4 * index, false));
  const expectedBytes = headerBytes + dims.reduce((product, size) => product * size, 1);
  if (bytes.length < expectedBytes) {
    throw new IdxError(file, `is truncated: dimensions ${dims.join('×')} need ${expectedBytes} bytes, the file has ${bytes.length}`);
  }
  if (bytes.length > expectedBytes) {
    throw new IdxError(file, `has ${bytes.length - expectedBytes} bytes after the data its dimensions ${dims.join('×')} describe`);
  }
  return { dims, data: bytes.subarray(headerBytes) };
}

/** Encodes unsigned bytes as IDX (used by tests to make small files). */
export function encodeIdx(dims: number[], data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, (IDX_UBYTE << 8) | dims.length, false);
  dims.forEach((size, index) => view.setUint32(4 + 4 * index, size, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}
