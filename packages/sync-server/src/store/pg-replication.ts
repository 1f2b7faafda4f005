// Replication and durability levels on PostgreSQL: what the PostgreSQL store asks the server
// about synchronous standbys, commit levels, `all`, and timelines. Plain async functions over a
// postgres.js pool or transaction.
export { allFlushed, waitForAll } from './pg-replication-all.js';
export type { AllStatus } from './pg-replication-all.js';
export { commitAt, commitAtLevel, SYNCHRONOUS_COMMIT_FOR } from './pg-replication-commit.js';
export type { LevelCommit, SynchronousCommit } from './pg-replication-commit.js';
export { compareLsn, latestLsn, lsnDistance, lsnPosition } from './pg-replication-lsn.js';
export type { Lsn } from './pg-replication-lsn.js';
export { isCancelledWaitNotice, TransactionNotices } from './pg-replication-notice.js';
export { formatSynchronousStandbyNames, namesStandby, parseSynchronousStandbyNames } from './pg-replication-setting.js';
export type { SynchronousSetting } from './pg-replication-setting.js';
export { readReplicationSetting } from './pg-replication-status.js';
export type { ReplicationStatus, StandbyStatus } from './pg-replication-status.js';
export { timeline } from './pg-replication-timeline.js';
