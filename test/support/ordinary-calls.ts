// Ordinary calls made alongside an abuse test, to show the service keeps
// answering while it is under attack, not only once the attack is over.
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Makes `call` every `intervalMs` (the first at once) until `during`
 * settles, then once more; resolves with the durations of the calls made
 * while it ran (and the slowest, and the median) and of the one after, in
 * ms. A call that fails rejects the whole.
 */
export async function ordinaryCallsDuring(
  call: () => Promise<unknown>,
  during: Promise<unknown>,
  intervalMs = 200,
): Promise<{
  durations: number[];
  slowestDuring: number;
  medianDuring: number;
  calls: number;
  after: number;
}> {
  let done = false;
  const settled = during.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  const timed = async () => {
    const started = performance.now();
    await call();
    return performance.now() - started;
  };
  const durations: number[] = [];
  while (!done) {
    durations.push(await timed());
    await Promise.race([sleep(intervalMs), settled]);
  }
  await during;
  const sorted = [...durations].sort((a, b) => a - b);
  return {
    durations,
    slowestDuring: sorted.at(-1) ?? 0,
    medianDuring: sorted[Math.floor(sorted.length / 2)] ?? 0,
    calls: durations.length,
    after: await timed(),
  };
}
