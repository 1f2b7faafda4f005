import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PgBinaries, PgProgram } from './pg-cluster-binaries.js';
import { primaryConninfo } from './pg-cluster-config.js';
import { runAs, signalTree, spawnIdentity, type PgAccount } from './pg-cluster-process.js';

/** What the harness last did to a node's processes. */
export type PgNodeState = 'running' | 'stopped' | 'down';

/** One PostgreSQL server of a test cluster, as tests see it. */
export interface PgNode {
  /** `s0` (the first primary), `s1`, `s2`…: also the node's `application_name` as a standby. */
  readonly name: string;
  readonly port: number;
  /** `postgres://postgres@127.0.0.1:<port>/postgres` */
  readonly url: string;
  readonly dataDir: string;
  /** The postmaster's pid while it runs (also while SIGSTOPped); `undefined` once it is down. */
  readonly pid: number | undefined;
  readonly state: PgNodeState;
  /** The server's log file (stderr of the postmaster). */
  readonly logFile: string;
}

/**
 * The harness's handle on one node: its data directory, made by the server's programs, and its
 * postmaster, started as a direct child (running as the cluster's account), watched until it
 * exits, signalled together with its children.
 */
export class PgNodeProcess implements PgNode {
  readonly url: string;
  readonly logFile: string;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #state: PgNodeState = 'down';
  constructor(
    readonly name: string,
    readonly port: number,
    readonly dataDir: string,
    private readonly binaries: PgBinaries,
    private readonly account: PgAccount,
    private readonly env: NodeJS.ProcessEnv,
  ) {
    this.url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    this.logFile = `${dataDir}.log`;
  }

  get pid(): number | undefined {
    return this.#state === 'down' ? undefined : this.#child?.pid;
  }

  get state(): PgNodeState {
    return this.#state;
  }

  /** Makes the data directory of a first primary with `initdb`. */
  async initdb(timeoutMs: number): Promise<void> {
    await this.#run('initdb', ['-D', this.dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions'], timeoutMs);
  }

  /** Makes the data directory of a standby of the primary on `primaryPort`: `pg_basebackup`, set up to stream from it. */
  async baseBackup(primaryPort: number, timeoutMs: number): Promise<void> {
    const args = ['-D', this.dataDir, '-d', primaryConninfo(primaryPort, this.name), '-R', '-X', 'stream', '-c', 'fast', '--no-sync'];
    await this.#run('pg_basebackup', args, timeoutMs);
  }

  /** Turns the data directory of a node that is down into a standby of the primary on `primaryPort`: `pg_rewind`, set up to stream from it. */
  async rewind(primaryPort: number, timeoutMs: number): Promise<void> {
    await this.#run('pg_rewind', ['-D', this.dataDir, '--source-server', primaryConninfo(primaryPort, this.name), '-R', '--no-sync'], timeoutMs);
  }

  /** Starts the postmaster and resolves once it accepts connections (as a primary or a hot standby). */
  async start(timeoutMs: number): Promise<void> {
    if (this.#state !== 'down') throw new Error(`${this.name} is already running`);
    const log = openSync(this.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(this.binaries.path('postgres'), ['-D', this.dataDir], {
        ...spawnIdentity(this.account),
        env: this.env,
        stdio: ['ignore', log, log],
      });
    } finally {
      closeSync(log);
    }
    this.#child = child;
    this.#state = 'running';
    let exitCode: string | undefined;
    this.#exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        exitCode = signal ?? String(code);
        if (this.#child === child) this.#state = 'down';
        resolve();
      });
      child.once('error', (error) => {
        exitCode = error.message;
        if (this.#child === child) this.#state = 'down';
        resolve();
      });
    });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (exitCode !== undefined) throw new Error(`${this.name} (port ${this.port}) exited while starting (${exitCode}):\n${this.logTail()}`);
      if (this.#status(child.pid) === 'ready' || this.#status(child.pid) === 'standby') return;
      if (Date.now() > deadline) {
        this.kill('SIGKILL');
        await this.#exited;
        throw new Error(`${this.name} (port ${this.port}) did not accept connections within ${timeoutMs} ms:\n${this.logTail()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Signals the postmaster and every child it has; SIGKILL resolves once the postmaster is gone. */
  async signal(signal: 'SIGKILL' | 'SIGSTOP' | 'SIGCONT'): Promise<void> {
    this.kill(signal);
    if (signal === 'SIGKILL') await this.#exited;
  }

  /** Synchronous SIGKILL/SIGSTOP/SIGCONT of the tree (usable from a process 'exit' handler). */
  kill(signal: 'SIGKILL' | 'SIGSTOP' | 'SIGCONT'): void {
    const pid = this.pid;
    if (pid === undefined) return;
    signalTree(pid, signal);
    if (signal === 'SIGSTOP') this.#state = 'stopped';
    if (signal === 'SIGCONT') this.#state = 'running';
  }

  logTail(lines = 30): string {
    try {
      return readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  async #run(program: PgProgram, args: readonly string[], timeoutMs: number): Promise<void> {
    await runAs(this.account, this.env, this.binaries.path(program), args, timeoutMs);
  }

  /** The status line of postmaster.pid: 'starting', 'ready', 'standby' or 'stopping'. */
  #status(pid: number | undefined): string | undefined {
    try {
      const lines = readFileSync(join(this.dataDir, 'postmaster.pid'), 'utf8').split('\n');
      if (Number(lines[0]) !== pid) return undefined;
      return lines[7]?.trim();
    } catch {
      return undefined;
    }
  }
}
