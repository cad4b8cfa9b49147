/**
 * Profiles of this process around one measurement, when BENCH_PROFILE=<dir> is set: <dir>/<name>.cpuprofile (CPU,
 * sampled every 100 us) and <dir>/<name>.heapprofile (allocations, sampled every 4 KB, collected ones included: what
 * the garbage collector had to clear). Open them in Chrome DevTools or speedscope. Without BENCH_PROFILE it only runs
 * `work`. Profiling slows the measurement: its figures are not the bench's.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Session } from 'node:inspector/promises';

const DIR = process.env.BENCH_PROFILE;

export async function profiled<T>(name: string, work: () => Promise<T>): Promise<T> {
  if (!DIR) return work();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  await session.post('Profiler.start');
  await session.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true } as never);
  try {
    return await work();
  } finally {
    const { profile: heap } = await session.post('HeapProfiler.stopSampling');
    const { profile } = await session.post('Profiler.stop');
    fs.mkdirSync(DIR, { recursive: true });
    fs.writeFileSync(path.join(DIR, `${name}.cpuprofile`), JSON.stringify(profile));
    fs.writeFileSync(path.join(DIR, `${name}.heapprofile`), JSON.stringify(heap));
    session.disconnect();
  }
}
