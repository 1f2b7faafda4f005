/**
 * @converge/react — React bindings for a Converge client, built on `useSyncExternalStore`.
 * The package README is the guide.
 */
export { ConvergeProvider, useClient } from './provider.js';
export type { ConvergeProviderProps } from './provider.js';
export { useDoc } from './use-doc.js';
export type { DocSnapshot } from './use-doc.js';
export { useScan } from './use-scan.js';
export type { ScanSnapshot } from './use-scan.js';
export { useSyncStatus } from './use-sync-status.js';
export { useOutbox } from './use-outbox.js';
export type { OutboxSnapshot } from './use-outbox.js';
export { useRejected } from './use-rejected.js';
export type { RejectedSnapshot } from './use-rejected.js';
export { useWriteStatus } from './use-write-status.js';
