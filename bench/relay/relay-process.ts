// A relay in a child process (the real CLI from dist/), on 127.0.0.1 port 0, with its RSS and
// CPU time read from /proc; bench/peers starts its relay scripts with the same child handling.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
/** The relay CLI the benchmarks run: the built one, or `BENCH_RELAY_CLI` (another build's cli.js, for A/B runs). */
export const CLI = process.env['BENCH_RELAY_CLI'] ?? join(root, 'packages/sync-server/dist/cli.js');
const CURSOR_SECRET = 'bench-cursor-secret-0123456789';

export interface RelayChild {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly url: string;
  /** Log lines at error and above, and every "closing session" line (a session the relay ended). */
  readonly notable: string[];
  /** Resident set size now, kB (VmRSS). */
  rssKB(): number;
  /** Peak resident set size since the relay started, kB (VmHWM). */
  hwmKB(): number;
  /** user + system CPU time so far, ms. */
  cpuMs(): number;
  /** SIGTERM (graceful: the relay closes its store; a --cpu-prof profile is written), SIGKILL after 10 s. */
  stop(): Promise<void>;
}

export interface RelayStartOptions {
  /** The SQLite file (`--db`); with `store`, only where the relay's --config file goes (its directory). */
  readonly db: string;
  /** PostgreSQL instead of SQLite: `--store url --schema schema`. */
  readonly store?: { readonly url: string; readonly schema: string } | undefined;
  /** `cli`: the CLI as shipped; `unlimited`: the CLI with a --config lifting the rate limits. */
  readonly kind: 'cli' | 'unlimited';
  /** Write a V8 CPU profile of the relay here (`node --cpu-prof`). */
  readonly profileDir?: string | undefined;
  /** Collections the relay declares (its --config), by name. */
  readonly collections?: Readonly<Record<string, { readonly mode: 'multi-leader' | 'leader-follower'; readonly strategy: string }>>;
}

export function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (m === null) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]);
}

/** Peak resident set size over the process's life, kB (VmHWM). */
export function hwmOf(pid: number): number {
  const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (m === null) throw new Error(`no VmHWM for ${pid}`);
  return Number(m[1]);
}

export function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command (which may hold spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10; // utime + stime, at 100 ticks/s
}

/** A relay config: for `unlimited`, the per-connection and per-principal rate limits lifted (throughput runs); any collections declared. */
function configFile(options: RelayStartOptions): string {
  const file = join(dirname(options.db), 'relay.config.json');
  const unlimited = { changesPerSecond: 1e9, burst: 1e9 };
  const limits = options.kind === 'unlimited' ? { rateLimit: unlimited, principalRateLimit: unlimited } : {};
  writeFileSync(file, JSON.stringify({ ...limits, ...(options.collections === undefined ? {} : { collections: options.collections }) }));
  return file;
}

/** The bench's relays serve /metrics on their sync port to this bearer token (it is off by default). */
export const METRICS_TOKEN = 'bench-metrics-token-0123456789';

export async function startRelay(options: RelayStartOptions): Promise<RelayChild> {
  const prof = options.profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`];
  const config = options.kind === 'cli' && options.collections === undefined ? [] : ['--config', configFile(options)];
  const storage = options.store === undefined ? ['--db', options.db] : ['--store', options.store.url, '--schema', options.store.schema];
  const child = spawn(process.execPath, [...prof, CLI, '--port', '0', '--host', '127.0.0.1', ...storage, ...config], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CONVERGE_CURSOR_SECRET: CURSOR_SECRET, CONVERGE_METRICS_TOKEN: METRICS_TOKEN },
  });
  const notable: string[] = [];
  const port = await portFromLines<{ port?: number; msg?: string; level?: number }>(child, 'relay', (entry, line) => {
    if ((entry.level ?? 0) >= 50 || entry.msg?.startsWith('closing session') === true) {
      if (notable.length < 1000) notable.push(line);
    }
    return entry.msg?.includes('listening') === true ? entry.port : undefined;
  });
  const pid = child.pid!;
  return {
    child,
    pid,
    url: `ws://127.0.0.1:${port}/`,
    notable,
    rssKB: () => rssOf(pid),
    hwmKB: () => hwmOf(pid),
    cpuMs: () => cpuMsOf(pid),
    stop: () => stopChild(child),
  };
}

/**
 * The port a child process announces on stdout: every line that is JSON goes to `portOf`, and
 * the first port it returns resolves the promise (later lines still reach it). Rejects when the
 * child exits first, or is killed after 20 s without one; `what` names it in the error.
 */
export function portFromLines<E>(child: ChildProcess, what: string, portOf: (entry: E, line: string) => unknown): Promise<number> {
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${what} was not listening within 20 s: ${stderr}`));
    }, 20_000);
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${code} before listening: ${stderr}`));
    };
    child.once('exit', onExit);
    let found = false;
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let entry: unknown;
      try {
        entry = JSON.parse(line);
      } catch {
        return;
      }
      if (typeof entry !== 'object' || entry === null) return;
      const port = portOf(entry as E, line);
      if (found || typeof port !== 'number') return;
      found = true;
      clearTimeout(timer);
      child.off('exit', onExit);
      resolve(port);
    });
  });
}

/** SIGTERM, then SIGKILL if the child is still there after 10 s; resolves once it exited. */
export function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** A temp directory for one scenario's database; removed by `cleanup`. */
export function tempDb(name: string): { db: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `converge-bench-${name}-`));
  return { db: join(dir, 'relay.db'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Samples `rss()` every `everyMs` until stopped; reports the peak. */
export function sampleRss(rss: () => number, everyMs = 10): { stop: () => { peakKB: number; samples: number } } {
  let peakKB = rss();
  let samples = 1;
  const timer = setInterval(() => {
    try {
      peakKB = Math.max(peakKB, rss());
      samples++;
    } catch {
      // the process is gone
    }
  }, everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      try {
        peakKB = Math.max(peakKB, rss());
      } catch {
        // gone
      }
      return { peakKB, samples };
    },
  };
}
