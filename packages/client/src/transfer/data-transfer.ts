import { ConvergeError, type ReplicaId } from '@converge/conflict';
import type { ClientCore } from '../client-core.js';
import { declarationOf } from '../collection-spec.js';
import { endLine, headerLine, recordLine } from './export-lines.js';
import { readExport } from './export-reader.js';
import { linesOf, type ExportSource } from './export-source.js';

/** What `importData` loaded. */
export interface ImportSummary {
  /** The client's new replica id (the exported one is retired). */
  readonly replicaId: ReplicaId;
  readonly documents: number;
  /** Pending writes, each written again under the new replica id; they sync at the next connection. */
  readonly pending: number;
  readonly rejected: number;
}

/**
 * The client's database as lines of JSON (docs/CLIENT.md, "Export and import"): the header,
 * the records as the replica reads them (`exportSnapshot`), the end line. Nothing is read
 * until the lines are iterated, and no more than a page of documents is held at a time.
 */
export async function* exportLines(core: ClientCore): AsyncGenerator<string> {
  const snapshot = await core.replica.exportSnapshot();
  if (snapshot === undefined) throw new ConvergeError('internal', 'the replica has not been opened: nothing to export');
  const collections = Object.fromEntries(core.replica.collections().map((spec) => [spec.name, declarationOf(spec)]));
  yield headerLine({ name: core.replica.name, replicaId: snapshot.replica.id, exportedAt: core.options.now(), collections });
  let lines = 1;
  for await (const record of snapshot.records) {
    yield recordLine(record);
    lines++;
  }
  yield endLine(lines);
}

/**
 * Reads and checks a whole export, then loads it into the (empty) replica in one transaction
 * under a new replica id (`LocalReplica.importData`); then the rest of the client follows:
 * the status, the watchers and the other tabs, the `written` event of each rewritten write, and
 * a fresh connection that speaks for the new id and starts from the imported cursors.
 */
export async function importInto(core: ClientCore, source: ExportSource): Promise<ImportSummary> {
  const { header, data } = await readExport(linesOf(source));
  const result = await core.replica.importData(data, header.collections);
  const replicaId = result.rep.id;
  core.status.update({ replicaId });
  core.feed.committed(result.changes, data.pending.length > 0);
  for (const w of result.rewritten) core.events.emit('written', { writeId: w.writeId, collection: w.collection, key: w.key, dot: w.dot, version: w.version });
  core.tabs.post({ type: 'replica' });
  core.link.restart();
  await core.views.refresh();
  return { replicaId, documents: data.docs.length, pending: data.pending.length, rejected: data.rejected.length };
}
