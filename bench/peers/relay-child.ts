// A peer's relay script (plain JavaScript, run by node without a loader, so its RSS is the
// relay's own) in a child process. The script prints one JSON line `{"port": N}` once it
// listens on 127.0.0.1; SIGTERM stops it.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { hwmOf } from '../relay/relay-process.js';
import type { RelayHandle } from './driver.js';

export function spawnRelayScript(script: string, urlOf: (port: number) => string, env: Record<string, string> = {}): Promise<RelayHandle> {
  const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script}: not listening within 20 s: ${stderr}`));
    }, 20_000);
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code} before listening: ${stderr}`));
    };
    child.once('exit', onExit);
    createInterface({ input: child.stdout }).on('line', (line) => {
      let port: unknown;
      try {
        port = (JSON.parse(line) as { port?: unknown }).port;
      } catch {
        return;
      }
      if (typeof port !== 'number') return;
      clearTimeout(timer);
      child.off('exit', onExit);
      const pid = child.pid!;
      resolve({ url: urlOf(port), pid, hwmKB: () => hwmOf(pid), stop: () => stopChild(child) });
    });
  });
}

function stopChild(child: ReturnType<typeof spawn>): Promise<void> {
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
