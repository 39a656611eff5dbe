/**
 * Compiles the first-layer kernel (assembly/first-layer.ts) with AssemblyScript. The .wasm is
 * committed, so recording needs no compiler; `npm run build:kernel` rebuilds it after a change
 * to the source, and a test checks that the committed file is what the source compiles to.
 */
import asc from 'assemblyscript/asc';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const KERNEL_SOURCE = fileURLToPath(new URL('./assembly/first-layer.ts', import.meta.url));
export const KERNEL_BINARY = fileURLToPath(new URL('./first-layer.wasm', import.meta.url));

/** The kernel's WebAssembly, compiled from its source (optimized, no runtime, SIMD). */
export async function compileKernel(): Promise<Uint8Array> {
  let binary: Uint8Array | undefined;
  let errors = '';
  const result = await asc.main(
    [KERNEL_SOURCE, '--outFile', 'first-layer.wasm', '-O3', '--noAssert', '--runtime', 'stub', '--enable', 'simd', '--noColors'],
    {
      writeFile: (name, contents) => {
        if (name.endsWith('.wasm') && typeof contents !== 'string') binary = contents;
      },
      stderr: { write: (text: string | Uint8Array) => void (errors += String(text)) } as never,
    },
  );
  if (result.error || !binary) throw new Error(`compiling ${KERNEL_SOURCE} failed: ${result.error?.message ?? 'no output'}\n${errors}`);
  return binary;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const binary = await compileKernel();
  writeFileSync(KERNEL_BINARY, binary);
  console.log(`${KERNEL_BINARY}: ${binary.length} bytes`);
}
