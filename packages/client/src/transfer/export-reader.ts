import { ConvergeError, replicaIdProblem } from '@converge/conflict';
import { checked, integer, object, refuse, string } from '../json-checks.js';
import { docId } from '../replica/doc-records.js';
import { decodeCollections, decodeMetaEntry } from '../replica/export-meta.js';
import { META } from '../replica/meta-keys.js';
import type { ImportedData } from '../replica/replica-import.js';
import type { DocRecord, MetaValue, OutboxEntry, RejectedRecord, ReplicaRecord } from '../storage/storage-adapter.js';
import { EXPORT_FORMAT, EXPORT_VERSION, type ExportHeader } from './export-lines.js';
import { decodeDoc, decodePending, decodeRejected } from './record-decoders.js';

function decodeHeader(json: unknown): ExportHeader {
  const header = typeof json === 'object' && json !== null ? (json as Record<string, unknown>) : {};
  if (header['format'] !== EXPORT_FORMAT) refuse('format', `not a Converge export: its first line must name the format "${EXPORT_FORMAT}"`);
  if (header['version'] !== EXPORT_VERSION)
    refuse('version', `export format version ${JSON.stringify(header['version'])}: this client reads version ${EXPORT_VERSION}`);
  return {
    name: string(header['name'], 'name'),
    replicaId: checked(header['replicaId'], replicaIdProblem(header['replicaId']), 'replicaId'),
    exportedAt: integer(header['exportedAt'], 'exportedAt'),
    collections: decodeCollections(header['collections'], 'collections'),
  };
}

/** What `readExport` gathers, line by line. */
class Staged {
  header: ExportHeader | undefined;
  replica: ReplicaRecord | undefined;
  readonly meta = new Map<string, MetaValue>();
  readonly docs = new Map<string, DocRecord>();
  readonly pending = new Map<string, OutboxEntry>();
  readonly rejected = new Map<string, RejectedRecord>();
  ended = false;

  /** Line `n` (1-based), parsed. */
  add(json: unknown, n: number): void {
    if (n === 1) {
      this.header = decodeHeader(json);
      return;
    }
    const line = object(json, 'line');
    const type = line['type'];
    if (type === 'meta') {
      const key = string(line['key'], 'meta.key');
      const value = decodeMetaEntry(key, line['value'], `meta ${JSON.stringify(key)}`);
      if (key === META.replica) this.replica = once(this.replica, value as ReplicaRecord, 'the replica record');
      else put(this.meta, key, value, `meta ${JSON.stringify(key)}`);
    } else if (type === 'doc') {
      const doc = decodeDoc(line, 'doc');
      put(this.docs, docId(doc.collection, doc.key), doc, `document ${doc.collection}/${doc.key}`);
    } else if (type === 'pending') {
      const entry = decodePending(line, 'pending');
      put(this.pending, entry.writeId, entry, `pending write ${entry.writeId}`);
    } else if (type === 'rejected') {
      const record = decodeRejected(line, 'rejected');
      put(this.rejected, record.writeId, record, `rejected write ${record.writeId}`);
    } else if (type === 'end') {
      const lines = integer(line['lines'], 'end.lines');
      if (lines !== n - 1) refuse('end.lines', `says ${lines} lines came before it; ${n - 1} did: lines are missing or added`);
      this.ended = true;
    } else {
      refuse('type', `no line is of type ${JSON.stringify(type)}`);
    }
  }

  /** The records, once every line is in: checked against each other. */
  data(): { readonly header: ExportHeader; readonly data: ImportedData } {
    const { header, replica } = this;
    if (header === undefined) return refuse('export', 'the export is empty');
    if (!this.ended) return refuse('export', 'the export ends before its end line: it was cut short');
    if (replica === undefined) return refuse('export', 'the export holds no replica record');
    if (replica.id !== header.replicaId) refuse('export', `the replica record is of ${replica.id}, the first line names ${header.replicaId}`);
    const docs = [...this.docs.values()];
    const pendingKeys = new Set<string>();
    for (const entry of this.pending.values()) {
      const id = docId(entry.collection, entry.key);
      pendingKeys.add(id);
      if (this.docs.get(id)?.base === undefined)
        refuse(`pending write ${entry.writeId}`, `its document ${entry.collection}/${entry.key} is missing, or holds no confirmed state (base)`);
    }
    for (const doc of docs) {
      if (doc.base !== undefined && !pendingKeys.has(docId(doc.collection, doc.key)))
        refuse(`document ${doc.collection}/${doc.key}`, 'has a confirmed state (base) but no pending write');
    }
    const data = { replica, meta: [...this.meta], docs, pending: [...this.pending.values()], rejected: [...this.rejected.values()] };
    return { header, data };
  }
}

function once<T>(current: T | undefined, value: T, what: string): T {
  if (current !== undefined) refuse('export', `${what} appears twice`);
  return value;
}

function put<T>(map: Map<string, T>, key: string, value: T, what: string): void {
  map.set(key, once(map.get(key), value, what));
}

/**
 * Reads an export (lines of JSON, see `export-lines.ts`) and checks all of it — the first line's
 * format and version, every line's shape, the records against each other — before anything is
 * stored. Blank lines after the end line are ignored.
 *
 * @throws ConvergeError `bad_message` naming the line and the problem.
 */
export async function readExport(lines: AsyncIterable<string>): Promise<{ readonly header: ExportHeader; readonly data: ImportedData }> {
  const staged = new Staged();
  let n = 0;
  for await (const raw of lines) {
    n++;
    const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (staged.ended && text.trim() === '') continue;
    try {
      if (staged.ended) refuse('line', 'the export goes on after its end line');
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        refuse('line', 'not a line of JSON');
      }
      staged.add(json, n);
    } catch (error) {
      if (error instanceof ConvergeError) throw new ConvergeError('bad_message', `export line ${n}: ${error.message}`, { cause: error });
      throw error;
    }
  }
  try {
    return staged.data();
  } catch (error) {
    if (error instanceof ConvergeError) throw new ConvergeError('bad_message', `the export cannot be imported: ${error.message}`, { cause: error });
    throw error;
  }
}
