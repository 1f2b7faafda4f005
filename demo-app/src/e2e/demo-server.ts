import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const START = fileURLToPath(new URL('../../scripts/start.mjs', import.meta.url));
const REPO = fileURLToPath(new URL('../../..', import.meta.url));

/** `npm start` as the e2e tests run it: the same script, on free ports and a data directory of their own. */
export interface DemoServer {
  /** The demo's page, as the script printed it. */
  readonly url: string;
  /** Everything the script printed so far. */
  output(): string;
  /** Ctrl-C: resolves with the exit code once the script stopped the relay and the demo server. */
  stop(): Promise<number | null>;
}

/** `cluster`: `npm start -- --cluster` (PostgreSQL under the data directory, two relays). */
export async function startDemoServer(options: { readonly dataDir: string; readonly staticDir?: string; readonly cluster?: boolean }): Promise<DemoServer> {
  const args = [START, '--port', '0', '--relay-port', '0', '--data', options.dataDir];
  if (options.staticDir !== undefined) args.push('--static', '--dist', options.staticDir);
  if (options.cluster === true) args.push('--cluster');
  const child: ChildProcess = spawn(process.execPath, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`npm start printed no URL within 90 s:\n${output}`)), 90_000);
    const check = () => {
      const match = /Converge demo: (http:\/\/\S+)/.exec(output);
      if (match === null) return;
      clearTimeout(timer);
      resolve(match[1]!);
    };
    const fail = (error: Error) => {
      child.kill('SIGKILL');
      reject(error);
    };
    child.stdout!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`npm start exited with ${code}:\n${output}`));
    });
  });
  return {
    url,
    output: () => output,
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
