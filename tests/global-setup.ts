import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Each test run starts with an empty scratch folder for the runs it records. */
export default function setup(): void {
  rmSync(join(fileURLToPath(new URL('.', import.meta.url)), '.tmp'), { recursive: true, force: true });
}
