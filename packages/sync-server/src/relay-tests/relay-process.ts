import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const cli = fileURLToPath(new URL('../cli.ts', import.meta.url));

export interface RelayProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly url: string;
  /** The port of the metrics listener (`--metrics-port`), when it has one. */
  readonly metricsPort: number | undefined;
}

/** Starts `converge-relay` (the real CLI, from source) as a child process on 127.0.0.1, port 0. */
export function spawnRelay(args: readonly string[]): Promise<RelayProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', cli, '--port', '0', '--host', '127.0.0.1', ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CONVERGE_CURSOR_SECRET: 'durability-test-secret' },
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('relay did not start within 20 s')), 20_000);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('exit', (code) => reject(new Error(`relay exited with ${code}: ${stderr}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const entry = JSON.parse(line) as { port?: number; metricsPort?: number; msg?: string };
        if (entry.port !== undefined && entry.msg?.includes('listening') === true) {
          clearTimeout(timer);
          resolve({ child, port: entry.port, url: `ws://127.0.0.1:${entry.port}/`, metricsPort: entry.metricsPort });
        }
      } catch {
        // not a log line
      }
    });
  });
}

export function stopped(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));
}
