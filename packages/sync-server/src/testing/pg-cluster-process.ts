import { execFile, execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/**
 * The operating-system account the cluster's programs run as. `initdb` refuses to run as root,
 * so a root process runs them as `postgres` (Node's spawn `uid`/`gid`, which also drops root's
 * supplementary groups: the same as `runuser -u postgres --`, without a wrapper process between
 * the harness and the postmaster, so the pid the harness holds is the postmaster's own).
 * Any other user runs them as itself.
 */
export interface PgAccount {
  readonly uid: number;
  readonly gid: number;
  readonly name: string;
  /** Whether programs are started as another user (only when running as root). */
  readonly switchUser: boolean;
}

/** The spawn options that run a program as the account. */
export function spawnIdentity(account: PgAccount): { uid?: number; gid?: number } {
  return account.switchUser ? { uid: account.uid, gid: account.gid } : {};
}

export function pgAccount(): PgAccount {
  const uid = process.getuid?.() ?? -1;
  if (uid !== 0) return { uid, gid: process.getgid?.() ?? -1, name: 'the current user', switchUser: false };
  let ids: string;
  try {
    ids = execFileSync('id', ['postgres'], { encoding: 'utf8', timeout: 5_000, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    throw new Error('running as root, and there is no `postgres` user to run the PostgreSQL test cluster as (initdb refuses root)', { cause: error });
  }
  const uidMatch = /uid=(\d+)/.exec(ids);
  const gidMatch = /gid=(\d+)/.exec(ids);
  if (!uidMatch || !gidMatch) throw new Error(`cannot read the postgres user's ids from \`id postgres\`: ${ids.trim()}`);
  return { uid: Number(uidMatch[1]), gid: Number(gidMatch[1]), name: 'postgres', switchUser: true };
}

/** An environment free of the caller's PG* variables (PGHOST, PGPORT, PGDATA… would redirect the programs). */
export function pgEnvironment(home: string): NodeJS.ProcessEnv {
  return { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: home, LANG: 'C', LC_ALL: 'C', TZ: 'UTC' };
}

/** Runs a program as the account, bounded in time; rejects with its output when it fails. */
export function runAs(account: PgAccount, env: NodeJS.ProcessEnv, program: string, args: readonly string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      program,
      args,
      { ...spawnIdentity(account), env, timeout: timeoutMs, killSignal: 'SIGKILL', encoding: 'utf8', maxBuffer: 4 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${program} ${args.join(' ')} failed: ${error.message}\n${stderr}${stdout}`.trim(), { cause: error }));
        else resolve(stdout);
      },
    );
  });
}

/** The pids of the process's children (the postmaster's backends, walsenders, walreceiver, checkpointer…), read from /proc. */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // pid (comm) state ppid …: comm may hold spaces and parentheses, so read after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid === pid) out.push(Number(entry));
  }
  return out;
}

/** Whether a process with this pid exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/**
 * Signals a postmaster and every process it forked, as a machine's crash or freeze would hit
 * them all at once. The postmaster is stopped first, so it forks nothing between the listing of
 * its children and their signal.
 */
export function signalTree(pid: number, signal: 'SIGKILL' | 'SIGSTOP' | 'SIGCONT'): void {
  if (signal !== 'SIGCONT') trySignal(pid, 'SIGSTOP');
  for (const child of childPids(pid)) trySignal(child, signal);
  if (signal !== 'SIGSTOP') trySignal(pid, signal);
}

function trySignal(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

/**
 * Live processes whose command line contains `tag`: a test cluster's postmasters (`postgres -D
 * <root>/sN`) and their children, whose titles carry the cluster name (`postgres: <tag>-s1:
 * walreceiver`). Zombies are not counted: they hold no resources and their parent reaps them.
 */
export function processesMatching(tag: string): { pid: number; command: string }[] {
  const out: { pid: number; command: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    let command: string;
    try {
      command = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
    } catch {
      continue;
    }
    if (command.includes(tag) && isAlive(pid)) out.push({ pid, command });
  }
  return out;
}

/**
 * Kills every live process whose command line contains `tag` (all but `spare`) until none is
 * left: children of a killed postmaster may still be on their way out, so it waits, then kills
 * what is left. Throws naming the survivors after `timeoutMs`.
 */
export async function killLeftovers(tag: string, spare: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = processesMatching(tag).filter(({ pid }) => pid !== spare);
    if (left.length === 0) break;
    for (const { pid } of left) trySignal(pid, 'SIGKILL');
    if (Date.now() > deadline) throw new Error(`processes of the test cluster outlived stop(): ${left.map((p) => `${p.pid} ${p.command}`).join('; ')}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
