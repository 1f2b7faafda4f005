// One measured span in a replica's process: wall time, this process's CPU, TCP bytes at the
// sockets it opens, the peak of its V8 heap (sampled every 10 ms, and at the end) and the
// process's peak resident set size. With PEERS_CPU_PROFILE=<file> set, V8's CPU profiler (what
// `node --cpu-prof` runs) records exactly this span into <file>.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { getHeapStatistics } from 'node:v8';
import { SocketBytes, type WireBytes } from './socket-bytes.js';

export interface Measured {
  readonly ms: number;
  readonly bytes: WireBytes;
  readonly cpuMs: number;
  /** Largest V8 heap in use seen over the span (sampled), bytes. */
  readonly peakHeapBytes: number;
  /** Peak resident set size of the process over its life so far, kB (getrusage maxrss). */
  readonly maxRssKB: number;
}

export async function startMeasure(): Promise<{ stop(): Promise<Measured> }> {
  const profileFile = process.env['PEERS_CPU_PROFILE'];
  let session: Session | undefined;
  if (profileFile !== undefined && profileFile !== '') {
    session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
  }
  const bytes = new SocketBytes();
  let peakHeapBytes = getHeapStatistics().used_heap_size;
  const heapTimer = setInterval(() => (peakHeapBytes = Math.max(peakHeapBytes, getHeapStatistics().used_heap_size)), 10);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  return {
    async stop() {
      const ms = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      clearInterval(heapTimer);
      peakHeapBytes = Math.max(peakHeapBytes, getHeapStatistics().used_heap_size);
      const measured = { ms, bytes: bytes.stop(), cpuMs: (cpu.user + cpu.system) / 1000, peakHeapBytes, maxRssKB: process.resourceUsage().maxRSS };
      if (session !== undefined) {
        const { profile } = await session.post('Profiler.stop');
        // The first sample's delta covers starting the profiler, before the span began.
        const first = profile.timeDeltas?.[0] ?? 0;
        if (profile.timeDeltas !== undefined && profile.timeDeltas.length > 0) profile.timeDeltas[0] = 0;
        writeFileSync(profileFile!, JSON.stringify({ ...profile, startTime: profile.startTime + first }));
        session.disconnect();
      }
      return measured;
    },
  };
}
