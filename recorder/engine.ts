/**
 * Choosing the TensorFlow.js backend. `@tensorflow/tfjs-node` (native TensorFlow) when it loads;
 * otherwise the WebAssembly backend, which runs offline in Node with SIMD on one thread. The
 * pure-JS `cpu` backend is about 5× slower and is used only when asked for by name.
 */
import * as tf from '@tensorflow/tfjs-core';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { EngineChoice } from '../core/config.js';

export type EngineName = 'node' | 'wasm' | 'cpu';

export interface EngineInfo {
  name: EngineName;
  simd?: boolean;
  threads?: number;
  versions: Record<string, string>;
}

const require = createRequire(import.meta.url);

/** The installed version of a package, found from its entry point (some packages do not export package.json). */
function packageVersion(name: string): string | undefined {
  try {
    let directory = dirname(require.resolve(name));
    for (;;) {
      const manifest = join(directory, 'package.json');
      if (existsSync(manifest)) {
        const parsed = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string; version?: string };
        if (parsed.name === name && parsed.version) return parsed.version;
      }
      const parent = dirname(directory);
      if (parent === directory) return undefined;
      directory = parent;
    }
  } catch {
    return undefined;
  }
}

function ownVersion(): string | undefined {
  try {
    return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

export class EngineError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EngineError';
  }
}

async function tryNode(): Promise<Error | undefined> {
  try {
    await import('@tensorflow/tfjs-node' as string);
    if (!(await tf.setBackend('tensorflow'))) return new Error('the "tensorflow" backend did not initialise');
    return undefined;
  } catch (error) {
    return error as Error;
  }
}

async function useWasm(): Promise<void> {
  // The Emscripten module installs process-wide handlers that re-throw every uncaught error
  // with a dump of its minified source; remove them so our own messages stay readable.
  const before = new Set(process.listeners('uncaughtException'));
  const beforeRejection = new Set(process.listeners('unhandledRejection'));
  await import('@tensorflow/tfjs-backend-wasm');
  if (!(await tf.setBackend('wasm'))) throw new EngineError('--engine wasm: the WebAssembly backend did not initialise');
  await tf.ready();
  for (const listener of process.listeners('uncaughtException')) if (!before.has(listener)) process.off('uncaughtException', listener);
  for (const listener of process.listeners('unhandledRejection')) {
    if (!beforeRejection.has(listener)) process.off('unhandledRejection', listener);
  }
}

/** Loads and activates the backend for `choice`, and says what ran. */
export async function selectEngine(choice: EngineChoice): Promise<EngineInfo> {
  let name: EngineName;
  if (choice === 'node' || choice === 'auto') {
    const failure = await tryNode();
    if (!failure) name = 'node';
    else if (choice === 'node') {
      throw new EngineError(
        `--engine node: @tensorflow/tfjs-node is not installed or did not load (${failure.message.split('\n')[0]}); use --engine wasm or --engine auto`,
        { cause: failure },
      );
    } else {
      await useWasm();
      name = 'wasm';
    }
  } else if (choice === 'wasm') {
    await useWasm();
    name = 'wasm';
  } else {
    await import('@tensorflow/tfjs-backend-cpu');
    if (!(await tf.setBackend('cpu'))) throw new EngineError('--engine cpu: the cpu backend did not initialise');
    name = 'cpu';
  }
  return engineInfo(name);
}

/** What runs on the engine `name` (already active): its versions, and for wasm whether SIMD and threads are on. */
export function engineInfo(name: EngineName): EngineInfo {
  const versions: Record<string, string> = { node: process.versions.node };
  for (const dependency of ['@tensorflow/tfjs-core', `@tensorflow/tfjs-${name === 'node' ? 'node' : `backend-${name}`}`, 'apache-arrow']) {
    const version = packageVersion(dependency);
    if (version) versions[dependency] = version;
  }
  const neuralVision = ownVersion();
  if (neuralVision) versions['neural-vision'] = neuralVision;
  return {
    name,
    ...(name === 'wasm'
      ? { simd: tf.env().getBool('WASM_HAS_SIMD_SUPPORT'), threads: tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT') ? 2 : 1 }
      : {}),
    versions,
  };
}
