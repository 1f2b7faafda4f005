// A bench child process (a TypeScript file run through tsx, with IPC) that says {type:'ready'}
// once set up and answers messages with {type, …}. Every wait is bounded; kill() ends it.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BENCH_DIR = fileURLToPath(new URL('..', import.meta.url));

export interface BenchChild {
  /** The `ready` message (a child may say more in it than that it is ready). */
  readonly ready: { readonly type: 'ready'; readonly [field: string]: unknown };
  send(message: object): void;
  /** The next message of `type`; rejects after `timeoutMs`, or when the child exits first. */
  next<T extends { type: string }>(type: string, timeoutMs: number): Promise<T>;
  kill(): void;
}

export async function forkChild(file: string, args: readonly string[], env: Record<string, string> = {}, readyMs = 30_000): Promise<BenchChild> {
  const child: ChildProcess = fork(file, [...args], {
    execArgv: ['--import', 'tsx'],
    cwd: BENCH_DIR,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, ...env },
  });
  const next = <T extends { type: string }>(type: string, timeoutMs: number) =>
    new Promise<T>((resolve, reject) => {
      const onMessage = (m: T & { error?: string }) => {
        if (m.type === 'error') finish(() => reject(new Error(`${file}: ${m.error}`)));
        else if (m.type === type) finish(() => resolve(m));
      };
      const onExit = (code: number | null) => finish(() => reject(new Error(`${file} exited with ${code} before '${type}'`)));
      const timer = setTimeout(() => finish(() => reject(new Error(`${file}: no '${type}' within ${timeoutMs} ms`))), timeoutMs);
      const finish = (then: () => void) => {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
        then();
      };
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  let readyMessage: BenchChild['ready'] = { type: 'ready' };
  const handle: BenchChild = {
    get ready() {
      return readyMessage;
    },
    send: (message) => child.send(message),
    next,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
  try {
    readyMessage = await next<BenchChild['ready']>('ready', readyMs);
  } catch (error) {
    handle.kill();
    throw error;
  }
  return handle;
}
