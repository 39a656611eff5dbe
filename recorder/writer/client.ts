/** The training thread's handle on the writer thread. */
import { Worker } from 'node:worker_threads';
import type { BufferPool } from '../readback.js';
import type { FinishMessage, FromWriter, StepMessage, WriterInit } from './protocol.js';

/**
 * Steps posted but not yet processed before the trainer waits. It bounds memory if the writer falls
 * behind (a step of the default network holds about 0.2 MB, 0.6 MB more with a first-layer snapshot
 * or an evaluation's weights; the large network's, several MB), and leaves room for the writer's
 * slow steps (an evaluation, a chunk roll-over) without stalling training: at 8 the trainer waited
 * 0.09 ms a step on average, at 32 0.01 ms.
 */
export const MAX_STEPS_IN_FLIGHT = 32;

type Finished = Extract<FromWriter, { type: 'finished' }>;
type Progress = Extract<FromWriter, { type: 'progress' }>;

export class WriterClient {
  readonly #worker: Worker;
  #inFlight = 0;
  #failure: Error | undefined;
  #waiters: (() => void)[] = [];
  #finished: ((result: Finished) => void) | undefined;
  #onProgress: (progress: Progress) => void;
  readonly #pool: BufferPool;

  private constructor(worker: Worker, pool: BufferPool, onProgress: (progress: Progress) => void) {
    this.#worker = worker;
    this.#pool = pool;
    this.#onProgress = onProgress;
    worker.on('message', (message: FromWriter) => this.#receive(message));
    worker.on('error', (error) => this.#fail(error));
    worker.on('exit', (code) => {
      if (!this.#failure && this.#finished) this.#fail(new Error(`writer thread exited (code ${code}) before finishing`));
    });
  }

  static async start(init: WriterInit, pool: BufferPool, onProgress: (progress: Progress) => void): Promise<WriterClient> {
    const worker = new Worker(new URL('./entry.mjs', import.meta.url), {
      workerData: { entry: new URL('./worker.ts', import.meta.url).href, init },
    });
    const client = new WriterClient(worker, pool, onProgress);
    await new Promise<void>((resolve, reject) => {
      const onMessage = (message: FromWriter) => {
        if (message.type === 'ready') {
          worker.off('message', onMessage);
          resolve();
        } else if (message.type === 'error') reject(new Error(message.message));
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
    }).catch(async (error: unknown) => {
      // A writer that could not start (e.g. a full disk) must not keep the process alive.
      await worker.terminate();
      throw error;
    });
    return client;
  }

  #receive(message: FromWriter): void {
    if (message.type === 'progress') {
      this.#inFlight--;
      for (const buffer of message.returned) this.#pool.give(buffer);
      this.#onProgress(message);
      this.#wake();
    } else if (message.type === 'finished') this.#finished?.(message);
    else if (message.type === 'error') this.#fail(new Error(message.message));
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    this.#wake();
    this.#finished = undefined;
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  get failure(): Error | undefined {
    return this.#failure;
  }

  /** Posts a step. Its large arrays are shared memory (see BufferPool): nothing is copied or detached. */
  sendStep(message: StepMessage): void {
    if (this.#failure) throw this.#failure;
    this.#inFlight++;
    this.#worker.postMessage(message);
  }

  /** Resolves once fewer than `limit` steps are in flight; rejects if the writer failed. */
  async waitBelow(limit = MAX_STEPS_IN_FLIGHT): Promise<void> {
    while (this.#inFlight >= limit && !this.#failure) await new Promise<void>((resolve) => this.#waiters.push(resolve));
    if (this.#failure) throw this.#failure;
  }

  async finish(message: FinishMessage): Promise<Finished> {
    if (this.#failure) throw this.#failure;
    const done = new Promise<Finished>((resolve, reject) => {
      this.#finished = resolve;
      this.#waiters.push(() => this.#failure && reject(this.#failure));
    });
    this.#worker.postMessage(message);
    try {
      return await done;
    } finally {
      await this.#worker.terminate();
    }
  }

  async abort(): Promise<void> {
    await this.#worker.terminate();
  }
}
