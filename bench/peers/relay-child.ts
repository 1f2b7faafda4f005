// A peer's relay script (plain JavaScript, run by node without a loader, so its RSS is the
// relay's own) in a child process. The script prints one JSON line `{"port": N}` once it
// listens on 127.0.0.1; SIGTERM stops it.
import { spawn } from 'node:child_process';
import { hwmOf, portFromLines, stopChild } from '../relay/relay-process.js';
import type { RelayHandle } from './driver.js';

export async function spawnRelayScript(script: string, urlOf: (port: number) => string, env: Record<string, string> = {}): Promise<RelayHandle> {
  const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  const port = await portFromLines<{ port?: unknown }>(child, script, (entry) => entry.port);
  const pid = child.pid!;
  return { url: urlOf(port), pid, hwmKB: () => hwmOf(pid), stop: () => stopChild(child) };
}
