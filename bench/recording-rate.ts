/** The recorder's end-to-end rate, as the benches measure it. */
import type { Config } from '../core/config.js';
import { recordRun } from '../recorder/record.js';

/**
 * The recorder end to end, recording everything, into `out/name`. Its rate is taken from the training
 * thread's clock between the first quarter of the run and its last step: each recording starts a fresh
 * writer thread, whose code is compiled again while the first steps stream in, and the loops it is set
 * against are measured warm. `writerMs`: the writer thread's busy time per step.
 */
export async function recordingRate(
  config: Config,
  out: string,
  name: string,
): Promise<{ stepsPerSecond: number; writerMs: number; directory: string }> {
  const from = Math.floor((config.maxSteps ?? 0) / 4);
  let fromTime = 0;
  let lastTime = 0;
  let lastStep = 0;
  const result = await recordRun({
    config,
    name,
    out,
    force: true,
    reproduce: () => `npm run bench (${name})`,
    onStep: ({ step }) => {
      if (step === from) fromTime = performance.now();
      lastTime = performance.now();
      lastStep = step;
    },
  });
  return {
    stepsPerSecond: (lastStep - from) / ((lastTime - fromTime) / 1000),
    writerMs: (result.writerBusySeconds * 1000) / result.stepCount,
    directory: result.directory,
  };
}
