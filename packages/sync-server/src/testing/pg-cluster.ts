import { chown, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import postgres, { type Options, type Sql } from 'postgres';
import { findPgBinaries, type PgBinaries } from './pg-cluster-binaries.js';
import { COMMON_SETTINGS, includeNodeConf, writeHba, writeNodeConf, type PgSettingValue } from './pg-cluster-config.js';
import { PgNodeProcess, type PgNode } from './pg-cluster-node.js';
import type { PgClusterOptions, SynchronousMethod } from './pg-cluster-options.js';
import { freePorts } from './pg-cluster-ports.js';
import { killLeftovers, pgAccount, pgEnvironment, type PgAccount } from './pg-cluster-process.js';
import { promote, rankRunningStandbys, repoint, type Promotion } from './pg-cluster-promotion.js';
import { onNode, waitStreaming } from './pg-cluster-streaming.js';
import { startReaper } from './pg-cluster-reaper.js';

export type { PgNode, PgNodeState } from './pg-cluster-node.js';
export type { PgClusterOptions, SynchronousMethod } from './pg-cluster-options.js';
export type { Promotion, RankedStandby, StandbyPosition } from './pg-cluster-promotion.js';
export { rankStandbys } from './pg-cluster-promotion.js';

/**
 * A real PostgreSQL cluster for tests: a primary and streaming standbys, each its own postmaster
 * on a free 127.0.0.1 port with its data in a fresh temporary directory, run as the `postgres`
 * user when the test runs as root. Nodes are named `s0` (the first primary), `s1`, `s2`…, which
 * is also each standby's `application_name`. `stop()` kills everything the cluster started;
 * a watchdog does the same if the test process dies without calling it.
 */
export interface PgCluster {
  readonly nodes: readonly PgNode[];
  /** The node the harness last made primary (changes with `promoteMostUpToDate()`). */
  readonly primary: PgNode;
  /** Every node but the primary, in name order, whatever their state. */
  readonly standbys: readonly PgNode[];
  /** The server's major version, e.g. 15. */
  readonly major: number;
  /** The temporary directory holding every node's data and log. */
  readonly root: string;
  /** How long `startPgCluster` took. */
  readonly startMs: number;
  node(name: string): PgNode;
  /**
   * A `postgres` client on one node or URL (e.g. `multiHostUrl()`): one connection unless
   * `options.max` says otherwise, notices silenced, 2 s connect timeout unless the options or
   * the URL say otherwise. `stop()` ends it.
   */
  client(target: PgNode | string, options?: Options<Record<string, postgres.PostgresType>>): Sql;
  /**
   * SIGKILL (a crash: the postmaster and every child at once; resolves once the postmaster has
   * exited), SIGSTOP (a frozen machine: TCP still accepted by the kernel, nothing answers) or
   * SIGCONT (thawed).
   */
  kill(node: PgNode, signal: 'SIGKILL' | 'SIGSTOP' | 'SIGCONT'): Promise<void>;
  /**
   * Failover as an HA tool does it: rank the running standbys by the greater of received and
   * replayed LSN, give the best one the cluster's synchronous setting over its peers, promote it
   * with `pg_promote()`, then repoint every other running standby at it (`primary_conninfo` by
   * ALTER SYSTEM and a reload, which restarts the walreceiver; `recovery_target_timeline =
   * 'latest'` makes it follow the new timeline; no restart and no rewind, since none of them is
   * ahead of the promoted node). Throws if the current primary is still running: the harness
   * does not fence, so kill or stop it first.
   */
  promoteMostUpToDate(): Promise<Promotion>;
  /** Starts a node that is down on its data directory as it was: an old primary comes back as a primary on its old timeline. */
  restartAsItWas(node: PgNode): Promise<void>;
  /** Brings a node that is down back as a standby of the current primary: a checkpoint there, `pg_rewind` from it, then streaming. */
  rejoinAsStandby(node: PgNode): Promise<void>;
  /**
   * `postgres://postgres@127.0.0.1:p1,127.0.0.1:p2,…/postgres?target_session_attrs=primary&connect_timeout=2`
   * over `nodes` in that order (default: every node in name order). `connectTimeout: null`
   * leaves the parameter out.
   */
  multiHostUrl(options?: { readonly nodes?: readonly PgNode[]; readonly connectTimeout?: number | null; readonly targetSessionAttrs?: string }): string;
  /** Ends every client, kills every process the cluster started, removes its directory. Safe to call twice. */
  stop(): Promise<void>;
}

const MIN_MAJOR = 13;

export async function startPgCluster(options: PgClusterOptions = {}): Promise<PgCluster> {
  const started = Date.now();
  const standbyCount = options.standbys ?? 2;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const synchronous = options.synchronous === undefined ? 'ANY 1' : options.synchronous;
  if (!Number.isInteger(standbyCount) || standbyCount < 0) throw new Error(`standbys must be a whole number ≥ 0, not ${standbyCount}`);
  if (synchronous !== null) {
    const k = Number(synchronous.split(' ')[1]);
    if (!/^(ANY|FIRST) [1-9]\d*$/.test(synchronous) || k > standbyCount)
      throw new Error(`synchronous must be 'ANY k' or 'FIRST k' with 1 ≤ k ≤ ${standbyCount}, not '${synchronous}'`);
  }
  const binaries = findPgBinaries(options.binDir);
  if (binaries.major < MIN_MAJOR) throw new Error(`PostgreSQL ${binaries.major} in ${binaries.dir} is too old for the test cluster (needs ${MIN_MAJOR}+)`);
  const account = pgAccount();
  const root = await mkdtemp(join(options.parentDir ?? tmpdir(), 'converge-pg-'));
  const cluster = new Cluster(root, binaries, account, synchronous, timeoutMs, started);
  try {
    await cluster.create(standbyCount, { ...COMMON_SETTINGS, ...options.settings });
  } catch (error) {
    await cluster.stop();
    throw new Error(`the test cluster in ${root} did not start (everything it started is stopped and the directory removed): ${(error as Error).message}`, {
      cause: error,
    });
  }
  return cluster;
}

class Cluster implements PgCluster {
  readonly tag: string;
  readonly env: NodeJS.ProcessEnv;
  readonly #nodes: PgNodeProcess[] = [];
  readonly #clients = new Set<Sql>();
  #primary: PgNodeProcess | undefined;
  #startMs = 0;
  #stopped = false;
  readonly #reaper: { readonly pid: number; end(): void };
  readonly #onExit = () => {
    for (const node of this.#nodes) node.kill('SIGKILL');
  };

  constructor(
    readonly root: string,
    private readonly binaries: PgBinaries,
    private readonly account: PgAccount,
    private readonly synchronous: SynchronousMethod | null,
    private readonly timeoutMs: number,
    private readonly started: number,
  ) {
    this.tag = basename(root);
    this.env = pgEnvironment(root);
    this.#reaper = startReaper(root);
    process.on('exit', this.#onExit);
  }

  get major(): number {
    return this.binaries.major;
  }

  get nodes(): readonly PgNode[] {
    return this.#nodes;
  }

  get primary(): PgNode {
    if (!this.#primary) throw new Error('the cluster has no primary');
    return this.#primary;
  }

  get standbys(): readonly PgNode[] {
    return this.#nodes.filter((node) => node !== this.#primary);
  }

  get startMs(): number {
    return this.#startMs;
  }

  node(name: string): PgNode {
    const node = this.#nodes.find((candidate) => candidate.name === name);
    if (!node) throw new Error(`no node ${name} (nodes: ${this.#nodes.map((n) => n.name).join(', ')})`);
    return node;
  }

  async create(standbyCount: number, settings: Readonly<Record<string, PgSettingValue>>): Promise<void> {
    await this.#own(this.root);
    const ports = await freePorts(standbyCount + 1);
    const [primary, ...standbys] = ports.map((port, index) => this.#addNode(`s${index}`, port));
    if (!primary) throw new Error('no port for the primary');
    await primary.initdb(this.timeoutMs);
    await includeNodeConf(primary.dataDir, settings);
    await writeHba(primary.dataDir);
    await this.#writeNodeConf(primary, { synchronous_standby_names: this.#synchronousNames(primary) });
    await primary.start(this.timeoutMs);
    this.#primary = primary;
    await Promise.all(
      standbys.map(async (standby) => {
        await standby.baseBackup(primary.port, this.timeoutMs);
        await this.#writeNodeConf(standby, { synchronous_standby_names: '' });
        await standby.start(this.timeoutMs);
      }),
    );
    await waitStreaming(this.#process(primary), standbys, this.synchronous !== null, Date.now() + this.timeoutMs);
    this.#startMs = Date.now() - this.started;
  }

  client(target: PgNode | string, options: Options<Record<string, postgres.PostgresType>> = {}): Sql {
    const url = typeof target === 'string' ? target : target.url;
    const defaults = /[?&]connect_timeout=/.test(url) ? {} : { connect_timeout: 2 };
    const sql = postgres(url, { max: 1, onnotice: false, ...defaults, ...options });
    this.#clients.add(sql);
    return sql;
  }

  async kill(node: PgNode, signal: 'SIGKILL' | 'SIGSTOP' | 'SIGCONT'): Promise<void> {
    await this.#process(node).signal(signal);
  }

  async promoteMostUpToDate(): Promise<Promotion> {
    const old = this.#primary;
    if (old && old.state === 'running')
      throw new Error(`the primary ${old.name} is still running: kill or stop it before promoting (the harness does not fence)`);
    const began = Date.now();
    const deadline = began + this.timeoutMs;
    const { ranking, standbys } = await rankRunningStandbys(this.#nodes.filter((node) => node !== old && node.state === 'running'));
    const best = ranking[0];
    if (!best) throw new Error('no running standby to promote');
    const chosen = this.#process(this.node(best.name));
    await promote(chosen, this.#synchronousNames(chosen), deadline);
    const promoteMs = Date.now() - began;
    this.#primary = chosen;
    const followers = standbys.filter((node) => node !== chosen);
    await Promise.all(followers.map((node) => repoint(node, chosen)));
    await waitStreaming(this.#process(chosen), followers, this.synchronous !== null, deadline);
    return { node: chosen, ranking, promoteMs, followMs: followers.length === 0 ? 0 : Date.now() - began - promoteMs };
  }

  async restartAsItWas(node: PgNode): Promise<void> {
    await this.#process(node).start(this.timeoutMs);
  }

  async rejoinAsStandby(node: PgNode): Promise<void> {
    const target = this.#process(node);
    const primary = this.#process(this.primary);
    if (target === primary) throw new Error(`${node.name} is the primary`);
    if (target.state !== 'down') throw new Error(`${node.name} must be down to be rewound (kill it first)`);
    // pg_rewind reads the source's timeline from its control file, which names the old timeline
    // until the first checkpoint after a promotion: right after one it would find nothing to
    // rewind, and the node would then refuse the new timeline (forked before its position) forever.
    await onNode(primary, (sql) => sql`CHECKPOINT`);
    await target.rewind(primary.port, this.timeoutMs);
    // pg_rewind copied the source's configuration files: make the node itself again.
    await this.#writeNodeConf(target, { synchronous_standby_names: '' });
    await target.start(this.timeoutMs);
    await waitStreaming(this.#process(primary), [target], this.synchronous !== null, Date.now() + this.timeoutMs);
  }

  multiHostUrl(options: { readonly nodes?: readonly PgNode[]; readonly connectTimeout?: number | null; readonly targetSessionAttrs?: string } = {}): string {
    const nodes = options.nodes ?? this.#nodes;
    const params = new URLSearchParams({ target_session_attrs: options.targetSessionAttrs ?? 'primary' });
    const connectTimeout = options.connectTimeout === undefined ? 2 : options.connectTimeout;
    if (connectTimeout !== null) params.set('connect_timeout', String(connectTimeout));
    return `postgres://postgres@${nodes.map((node) => `127.0.0.1:${node.port}`).join(',')}/postgres?${params.toString()}`;
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await Promise.all([...this.#clients].map((sql) => sql.end({ timeout: 0 }).catch(() => undefined)));
    this.#clients.clear();
    await Promise.all(this.#nodes.map((node) => withTimeout(node.signal('SIGKILL'), 10_000)));
    await killLeftovers(this.tag, this.#reaper.pid, 10_000);
    this.#reaper.end();
    process.off('exit', this.#onExit);
    await rm(this.root, { recursive: true, force: true });
  }

  #addNode(name: string, port: number): PgNodeProcess {
    const node = new PgNodeProcess(name, port, join(this.root, name), this.binaries, this.account, this.env);
    this.#nodes.push(node);
    return node;
  }

  #process(node: PgNode): PgNodeProcess {
    const found = this.#nodes.find((candidate) => candidate === node);
    if (!found) throw new Error(`${node.name} is not a node of this cluster`);
    return found;
  }

  /** `ANY 1 (s1, s2)`: the cluster's method over every node but `primary`; '' when asynchronous. */
  #synchronousNames(primary: PgNode): string {
    if (this.synchronous === null) return '';
    const peers = this.#nodes.filter((node) => node !== primary).map((node) => node.name);
    return `${this.synchronous} (${peers.join(', ')})`;
  }

  async #writeNodeConf(node: PgNodeProcess, settings: Readonly<Record<string, PgSettingValue>>): Promise<void> {
    await writeNodeConf(node.dataDir, { port: node.port, socketDir: this.root, clusterName: `${this.tag}-${node.name}` }, settings);
    await this.#ownTree(node.dataDir);
  }

  /** Gives the cluster's account a path the harness (root) made. */
  async #own(path: string): Promise<void> {
    if (this.account.switchUser) await chown(path, this.account.uid, this.account.gid);
  }

  async #ownTree(dir: string): Promise<void> {
    if (!this.account.switchUser) return;
    for (const entry of await readdir(dir)) if (entry.endsWith('.conf')) await chown(join(dir, entry), this.account.uid, this.account.gid);
  }
}

async function withTimeout(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
