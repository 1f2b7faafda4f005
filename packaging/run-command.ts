import { spawn } from 'node:child_process';
import { delimiter } from 'node:path';

export interface CommandResult {
  readonly code: number | null;
  readonly stdout: string;
  /** stdout and stderr, interleaved as they came. */
  readonly output: string;
}

/**
 * The environment of a user's shell: this process's, less what `npm test` added (its `npm_*`
 * variables, which would point a nested npm at the workspace, and the workspace's
 * `node_modules/.bin` directories on PATH).
 */
export function userEnvironment(workspace: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^npm_/i.test(name) && name !== 'INIT_CWD') env[name] = value;
  }
  env['PATH'] = (process.env['PATH'] ?? '')
    .split(delimiter)
    .filter((dir) => !dir.startsWith(workspace) || !dir.includes('node_modules'))
    .join(delimiter);
  return env;
}

/**
 * Runs a command to its end, at most `timeoutMs`: past it, the command's process group is
 * killed and the result says so. Never rejects for an exit code: callers assert on `code`.
 */
export function runCommand(
  command: string,
  args: readonly string[],
  options: { readonly cwd: string; readonly env: NodeJS.ProcessEnv; readonly timeoutMs: number },
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let output = '';
    const collect = (chunk: Buffer) => {
      if (output.length < 2_000_000) output += chunk.toString();
    };
    child.stdout.on('data', (chunk: Buffer) => {
      if (stdout.length < 2_000_000) stdout += chunk.toString();
      collect(chunk);
    });
    child.stderr.on('data', collect);
    const timer = setTimeout(() => {
      output += `\n[killed: ${command} ${args.join(' ')} ran past ${options.timeoutMs} ms]\n`;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }, options.timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, output });
    });
  });
}
