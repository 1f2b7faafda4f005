// The PostgreSQL traps of synchronous replication, on a real primary with two streaming standbys
// under `ANY 1 (s1, s2)`. One cluster serves every test here: each test that stops a standby
// or changes the setting puts it back before it ends.
import type { ISql, Notice, Sql } from 'postgres';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startPgCluster, type PgCluster } from '../testing/pg-cluster.js';
import { waitForAll } from './pg-replication-all.js';
import { commitAt, commitAtLevel } from './pg-replication-commit.js';
import { compareLsn } from './pg-replication-lsn.js';
import { isCancelledWaitNotice } from './pg-replication-notice.js';
import { parseSynchronousStandbyNames } from './pg-replication-setting.js';
import { readReplicationSetting } from './pg-replication-status.js';
import { timeline } from './pg-replication-timeline.js';

let cluster: PgCluster;
/** The pool a store would commit on: several connections, no query_timeout. */
let pool: Sql;
/** A separate connection, as an operator's psql would be. */
let admin: Sql;
let nextId = 1;

beforeAll(async () => {
  cluster = await startPgCluster({ standbys: 2, synchronous: 'ANY 1' });
  pool = cluster.client(cluster.primary, { max: 4 });
  admin = cluster.client(cluster.primary);
  await admin`CREATE TABLE docs (id int PRIMARY KEY, note text)`;
}, 90_000);

afterAll(() => cluster?.stop());

afterEach(async () => {
  // Whatever a test did, the standbys run again and the setting is back.
  for (const standby of cluster.standbys) await cluster.kill(standby, 'SIGCONT');
  await setSynchronous('ANY 1 (s1, s2)');
});

const insert = (note: string) => {
  const id = nextId++;
  return { id, work: (tx: ISql) => tx`INSERT INTO docs VALUES (${id}, ${note})` };
};

async function committedOnPrimary(id: number): Promise<boolean> {
  const rows = await admin`SELECT 1 FROM docs WHERE id = ${id}`;
  return rows.length === 1;
}

/** Resolves once some backend is waiting for synchronous replication (so a commit is blocked). */
async function syncRepWaiters(count = 1): Promise<number[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const rows = await admin<{ pid: number }[]>`SELECT pid FROM pg_stat_activity WHERE wait_event = 'SyncRep'`;
    if (rows.length >= count) return rows.map((row) => row.pid);
    if (Date.now() > deadline) throw new Error('no commit is waiting for synchronous replication');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function setSynchronous(names: string): Promise<void> {
  await admin.unsafe(`ALTER SYSTEM SET synchronous_standby_names = '${names}'`);
  await admin`SELECT pg_reload_conf()`;
  const deadline = Date.now() + 10_000;
  // The walsenders re-rank the standbys after the reload: wait until every one says so.
  const wanted = parseSynchronousStandbyNames(names);
  for (;;) {
    const status = await readReplicationSetting(admin);
    const ranked = status.standbys.length === 2 && status.standbys.every((s) => (wanted === null ? s.syncState === 'async' : s.syncState !== 'async'));
    if (status.raw === names && ranked) return;
    if (Date.now() > deadline) throw new Error(`the setting did not become ${names}: ${JSON.stringify(status)}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function pending<T>(promise: Promise<T>): () => boolean {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  return () => !settled;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('readReplicationSetting', () => {
  it('reads ANY 1 (s1, s2): k = 1 of n = 2, both standbys streaming as quorum candidates', async () => {
    const status = await readReplicationSetting(pool);
    expect(status).toMatchObject({ raw: 'ANY 1 (s1, s2)', setting: { method: 'ANY', k: 1, names: ['s1', 's2'] }, k: 1, n: 2, inRecovery: false });
    expect(status.standbys.map((s) => [s.name, s.state, s.syncState, s.configured])).toEqual([
      ['s1', 'streaming', 'quorum', true],
      ['s2', 'streaming', 'quorum', true],
    ]);
    for (const standby of status.standbys) {
      expect(compareLsn(standby.flushLsn!, status.currentLsn!)).toBeLessThanOrEqual(0);
      expect(standby.flushLagBytes).toBeGreaterThanOrEqual(0);
    }
  });

  it('follows the setting through a reload: FIRST 1, ANY 2, and none', async () => {
    await setSynchronous('FIRST 1 (s1, s2)');
    let status = await readReplicationSetting(pool);
    expect([status.k, status.n, status.standbys.map((s) => s.syncState)]).toEqual([1, 2, ['sync', 'potential']]);
    await setSynchronous('ANY 2 (s1, s2)');
    status = await readReplicationSetting(pool);
    expect([status.k, status.n, status.standbys.map((s) => s.syncState)]).toEqual([2, 2, ['quorum', 'quorum']]);
    await setSynchronous('');
    status = await readReplicationSetting(pool);
    expect([status.setting, status.k, status.n, status.standbys.map((s) => s.syncState)]).toEqual([null, 0, 0, ['async', 'async']]);
  });

  it('parses what PostgreSQL accepts and refuses what it refuses', async () => {
    // ALTER SYSTEM checks the value with PostgreSQL's own parser; a standby ignores the setting, so try it there.
    const standby = cluster.client(cluster.standbys[1]!);
    const accepts = async (text: string) =>
      standby.unsafe(`ALTER SYSTEM SET synchronous_standby_names = '${text.replaceAll("'", "''")}'`).then(
        () => true,
        () => false,
      );
    const parses = (text: string) => {
      try {
        parseSynchronousStandbyNames(text);
        return true;
      } catch {
        return false;
      }
    };
    const texts = [
      'ANY 1 (s1, s2)',
      'first 2(s1,s2)',
      '2 (s1, s2)',
      's1, s2',
      '*',
      'ANY 1 ("a b", "x""y", 42)',
      'ANY (s1)',
      'ANY 0 (s1)',
      's1 s2',
      'ANY 1 ()',
      's-1',
      '   ',
      'any, s1',
    ];
    for (const text of texts) expect([text, parses(text)]).toEqual([text, await accepts(text)]);
    await standby`ALTER SYSTEM RESET synchronous_standby_names`;
  });
});

describe('commit levels', () => {
  it('a quorum commit blocks while both standbys are SIGSTOPped, a relay commit does not, and the quorum one completes after SIGCONT', async () => {
    for (const standby of cluster.standbys) await cluster.kill(standby, 'SIGSTOP');
    const quorumWrite = insert('quorum while frozen');
    const quorum = commitAtLevel(pool, 'quorum', quorumWrite.work);
    const waiting = pending(quorum);
    await syncRepWaiters();
    const relayWrite = insert('relay while frozen');
    const relay = await commitAtLevel(pool, 'relay', relayWrite.work);
    expect([relay.reached, relay.synchronousCommit, relay.shortfall]).toEqual(['relay', 'local', null]);
    await sleep(500);
    expect(waiting()).toBe(true);
    for (const standby of cluster.standbys) await cluster.kill(standby, 'SIGCONT');
    const done = await quorum;
    expect([done.reached, done.shortfall, done.notices.filter(isCancelledWaitNotice)]).toEqual(['quorum', null, []]);
    expect(await committedOnPrimary(quorumWrite.id)).toBe(true);
  });

  it('statement_timeout does not bound the synchronous wait', async () => {
    for (const standby of cluster.standbys) await cluster.kill(standby, 'SIGSTOP');
    const write = insert('statement_timeout 100ms');
    const commit = commitAtLevel(pool, 'quorum', async (tx) => {
      await tx`SET LOCAL statement_timeout = '100ms'`;
      return write.work(tx);
    });
    const waiting = pending(commit);
    await syncRepWaiters();
    await sleep(1_000); // ten times the statement_timeout
    expect(waiting()).toBe(true);
    for (const standby of cluster.standbys) await cluster.kill(standby, 'SIGCONT');
    expect((await commit).reached).toBe('quorum');
  });

  it('a statement cancel of the wait: the row IS committed, the statement returns success with only a WARNING', async () => {
    const notices: Notice[] = [];
    const client = cluster.client(cluster.primary, { onnotice: (notice) => notices.push(notice) });
    for (const standby of cluster.standbys) await cluster.kill(standby, 'SIGSTOP');
    const id = nextId++;
    const statement = client`INSERT INTO docs VALUES (${id}, 'cancelled statement')`.execute();
    await syncRepWaiters();
    statement.cancel();
    const result = await statement; // resolves: PostgreSQL reports success
    expect(result.command).toBe('INSERT');
    expect(await committedOnPrimary(id)).toBe(true);
    expect(notices.filter(isCancelledWaitNotice).map((n) => [n['severity'], n['message'], n['detail']])).toEqual([
      [
        'WARNING',
        'canceling wait for synchronous replication due to user request',
        'The transaction has already committed locally, but might not have been replicated to the standby.',
      ],
    ]);
  });

  it('pg_cancel_backend() of a waiting commit: committed locally, COMMIT succeeds, commitAtLevel reports relay (wait_cancelled)', async () => {
    for (const standby of cluster.standbys) await cluster.kill(standby, 'SIGSTOP');
    const write = insert('pg_cancel_backend');
    const commit = commitAtLevel(pool, 'quorum', write.work);
    const [pid] = await syncRepWaiters();
    await admin`SELECT pg_cancel_backend(${pid!})`;
    const done = await commit;
    expect([done.reached, done.shortfall]).toEqual(['relay', 'wait_cancelled']);
    expect(done.notices.filter(isCancelledWaitNotice)).toHaveLength(1);
    expect(await committedOnPrimary(write.id)).toBe(true);
  });

  it('a cancelled wait is pinned on its own transaction: concurrent commits on the same pool that waited normally report quorum', async () => {
    await cluster.kill(cluster.standbys[0]!, 'SIGSTOP');
    await cluster.kill(cluster.standbys[1]!, 'SIGSTOP');
    const writes = [insert('a'), insert('b'), insert('c')];
    const commits = writes.map((write) => commitAtLevel(pool, 'quorum', write.work));
    const pids = await syncRepWaiters(3);
    await admin`SELECT pg_cancel_backend(${pids[0]!})`;
    const cancelled = await Promise.race(commits);
    expect(cancelled.shortfall).toBe('wait_cancelled');
    expect(await syncRepWaiters(2)).toHaveLength(2); // the other two wait on
    await cluster.kill(cluster.standbys[0]!, 'SIGCONT');
    const done = await Promise.all(commits);
    expect(done.map((commit) => commit.reached).sort()).toEqual(['quorum', 'quorum', 'relay']);
  });

  it("a client-side timeout that cancels (postgres.js query_timeout) commits locally too, so a store's pool must not have one", async () => {
    const timed = cluster.client(cluster.primary, { max: 1, query_timeout: 0.5 });
    for (const standby of cluster.standbys) await cluster.kill(standby, 'SIGSTOP');
    const write = insert('query_timeout');
    const outcome = await commitAtLevel(timed, 'quorum', write.work).then(
      (commit) => ({ reached: commit.reached, shortfall: commit.shortfall }),
      (error: Error & { code?: string }) => ({ error: error.code ?? error.message }),
    );
    // Whichever way the client reports it, PostgreSQL committed the row without the quorum.
    expect(await committedOnPrimary(write.id)).toBe(true);
    expect(outcome).not.toMatchObject({ reached: 'quorum' });
    console.info(`pg-replication: commit whose wait query_timeout cancelled → ${JSON.stringify(outcome)}`);
  });

  it('clearing synchronous_standby_names releases a waiting commit without any warning: commitAtLevel reports relay (setting_changed)', async () => {
    for (const standby of cluster.standbys) await cluster.kill(standby, 'SIGSTOP');
    const write = insert('setting cleared');
    const commit = commitAtLevel(pool, 'quorum', write.work);
    await syncRepWaiters();
    await admin`ALTER SYSTEM SET synchronous_standby_names = ''`;
    await admin`SELECT pg_reload_conf()`;
    const done = await commit;
    expect(done.notices).toEqual([]);
    expect([done.reached, done.shortfall]).toEqual(['relay', 'setting_changed']);
  });

  it('with no synchronous standby a quorum commit is stored at relay and names why; all is unavailable', async () => {
    await setSynchronous('');
    const write = insert('no standby');
    const done = await commitAtLevel(pool, 'quorum', write.work);
    expect([done.reached, done.shortfall, done.setting]).toEqual(['relay', 'no_synchronous_standby', null]);
    expect(await waitForAll(pool, done.lsn, Date.now() + 1_000)).toMatchObject({ reached: false, unavailable: true });
  });

  it('remote_apply: the row is visible on a standby the moment the commit returns', async () => {
    const write = insert('remote_apply');
    const done = await commitAt(pool, 'remote_apply', write.work);
    expect(done.reached).toBe('quorum');
    let visible = 0;
    for (const standby of cluster.standbys) {
      const rows = await cluster.client(standby)`SELECT 1 FROM docs WHERE id = ${write.id}`;
      visible += rows.length;
    }
    expect(visible).toBeGreaterThanOrEqual(1);
  });

  it('the commit LSN is read after the commit: past the insert position the transaction saw before committing', async () => {
    const write = insert('lsn');
    let before = '';
    const done = await commitAtLevel(pool, 'quorum', async (tx) => {
      await write.work(tx);
      before = (await tx<{ lsn: string }[]>`SELECT pg_current_wal_insert_lsn()::text AS lsn`)[0]!.lsn;
    });
    expect(compareLsn(done.lsn, before)).toBeGreaterThan(0);
    // The quorum commit is on k = 1 standby by then.
    const status = await readReplicationSetting(pool);
    const flushed = status.standbys.filter((s) => compareLsn(s.flushLsn!, before) > 0);
    expect(flushed.length).toBeGreaterThanOrEqual(1);
  });
});

describe('waitForAll', () => {
  it('is false while a standby is SIGSTOPped (behind) and true once it runs again', async () => {
    await cluster.kill(cluster.standbys[1]!, 'SIGSTOP');
    const write = insert('all, s2 frozen');
    const done = await commitAtLevel(pool, 'all', write.work);
    expect(done.reached).toBe('quorum'); // s1 confirmed ANY 1
    const frozen = await waitForAll(pool, done.lsn, Date.now() + 300);
    expect(frozen).toEqual({ reached: false, missing: [], behind: ['s2'], unavailable: false });
    await cluster.kill(cluster.standbys[1]!, 'SIGCONT');
    expect(await waitForAll(pool, done.lsn, Date.now() + 10_000)).toEqual({ reached: true, missing: [], behind: [], unavailable: false });
  });

  it('is false while a configured standby is down (missing), and true after it is restarted', async () => {
    const s2 = cluster.standbys[1]!;
    await cluster.kill(s2, 'SIGKILL');
    const write = insert('all, s2 down');
    const done = await commitAtLevel(pool, 'all', write.work);
    const status = await waitForAll(pool, done.lsn, Date.now() + 300);
    expect(status).toMatchObject({ reached: false, missing: ['s2'] });
    await cluster.restartAsItWas(s2);
    expect(await waitForAll(pool, done.lsn, Date.now() + 15_000)).toMatchObject({ reached: true });
  });
});

describe('timeline', () => {
  it('is 1 on every node of a cluster never failed over', async () => {
    for (const node of cluster.nodes) expect(await timeline(cluster.client(node))).toBe(1);
  });
});
