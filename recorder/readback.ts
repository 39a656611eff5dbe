/**
 * Copying tensors out of the engine without allocating: on the WebAssembly backend a tensor's
 * values are read straight from the module's heap into a reused buffer (10 µs for a 784×128
 * matrix, against 130 µs for `dataSync`, most of which is allocating and zeroing the result).
 */
import * as tf from '@tensorflow/tfjs-core';

interface WasmBackendInternals {
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  wasm: { HEAPU8: Uint8Array };
}

function wasmInternals(): WasmBackendInternals | undefined {
  if (tf.getBackend() !== 'wasm') return undefined;
  const backend = tf.backend() as unknown as Partial<WasmBackendInternals>;
  return backend.dataIdMap && backend.wasm?.HEAPU8 ? (backend as WasmBackendInternals) : undefined;
}

/** Copies a float32 tensor's values into `target` (same length). */
export function readInto(tensor: tf.Tensor, target: Float32Array): Float32Array {
  if (tensor.size !== target.length) throw new RangeError(`readInto: tensor has ${tensor.size} values, target ${target.length}`);
  const wasm = wasmInternals();
  const entry = wasm?.dataIdMap.get(tensor.dataId);
  if (wasm && entry) target.set(new Float32Array(wasm.wasm.HEAPU8.buffer, entry.memoryOffset, tensor.size));
  else target.set(tensor.dataSync() as Float32Array);
  return target;
}

/** A Float32Array over shared memory: posting it to another thread shares it instead of detaching it. */
export function sharedFloat32(length: number): Float32Array<SharedArrayBuffer> {
  return new Float32Array(new SharedArrayBuffer(length * Float32Array.BYTES_PER_ELEMENT));
}

/**
 * Shared float32 buffers by length, handed back by the writer thread once it is done with them.
 * Shared, never transferred: once any ArrayBuffer is detached in an isolate, V8 guards every
 * typed-array access, and the tfjs training step gets 50% slower (1.9 → 2.9 ms measured).
 */
export class BufferPool {
  readonly #free = new Map<number, Float32Array<SharedArrayBuffer>[]>();

  take(length: number): Float32Array<SharedArrayBuffer> {
    return this.#free.get(length)?.pop() ?? sharedFloat32(length);
  }

  /**
   * Arrays of these lengths, one after another in one buffer: a step's read-back then posts to the
   * writer as one shared buffer instead of one per array, and comes back as one.
   */
  takeTogether(lengths: readonly number[]): Float32Array<SharedArrayBuffer>[] {
    const whole = this.take(lengths.reduce((sum, length) => sum + length, 0));
    let offset = 0;
    return lengths.map((length) => whole.subarray(offset, (offset += length)));
  }

  /** Hands a buffer back; each buffer once, however many arrays it holds. */
  give(buffer: SharedArrayBuffer): void {
    const array = new Float32Array(buffer);
    const list = this.#free.get(array.length) ?? [];
    list.push(array);
    this.#free.set(array.length, list);
  }
}
