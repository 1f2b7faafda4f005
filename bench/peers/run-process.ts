// Runs one replica role in a fresh child process (role.ts, under tsx) and returns its result.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROLE = fileURLToPath(new URL('./role.ts', import.meta.url));
const BENCH_DIR = fileURLToPath(new URL('..', import.meta.url));

export interface RoleOptions {
  /** Write a V8 CPU profile of the role's measured span to this file (measure.ts). */
  readonly profileFile?: string | undefined;
  readonly timeoutMs: number;
  /** Extra node flags for the role's process (e.g. a larger heap). */
  readonly execArgv?: readonly string[];
}

export function runRole<T>(system: string, role: 'w1-write' | 'w1-catchup' | 'w1-seed' | 'w2', args: readonly string[], options: RoleOptions): Promise<T> {
  // The child's stdout goes to our stderr: the runner's stdout is the Markdown report.
  const child = fork(ROLE, [system, role, ...args], {
    execArgv: ['--import', 'tsx', ...(options.execArgv ?? [])],
    cwd: BENCH_DIR,
    stdio: ['ignore', 2, 2, 'ipc'],
    env: { ...process.env, PEERS_CPU_PROFILE: options.profileFile ?? '' },
  });
  return new Promise<T>((resolve, reject) => {
    let answer: { result?: T; error?: string } | undefined;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${system} ${role}: no result within ${options.timeoutMs} ms`));
    }, options.timeoutMs);
    child.on('message', (m: { result?: T; error?: string }) => (answer = m));
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (answer?.error !== undefined) reject(new Error(`${system} ${role}: ${answer.error}`));
      else if (answer !== undefined && code === 0) resolve(answer.result as T);
      else reject(new Error(`${system} ${role}: exited with ${code ?? signal} and no result`));
    });
  });
}
