import { ConvergeError } from '@converge/conflict';
import { int, object, refuse, shape, str } from '../json-schema.js';
import { docId } from '../replica/doc-records.js';
import { COLLECTIONS, metaCheck, REPLICA } from '../replica/export-meta.js';
import { META } from '../replica/meta-keys.js';
import type { ImportedData } from '../replica/replica-import.js';
import type { DocRecord, MetaValue, OutboxEntry, RejectedRecord, ReplicaRecord } from '../storage/storage-adapter.js';
import { EXPORT_FORMAT, EXPORT_VERSION, type ExportHeader } from './export-lines.js';
import { DOC, PENDING, REJECTED } from './record-decoders.js';

const HEADER = shape({ name: str, replicaId: REPLICA, exportedAt: int(), collections: COLLECTIONS });

/** A record line, by its `type`: where it goes, and under which key (a key seen twice is refused). */
type Staged = { meta: Map<string, MetaValue>; doc: Map<string, DocRecord>; pending: Map<string, OutboxEntry>; rejected: Map<string, RejectedRecord> };

function stage(staged: Staged, line: Readonly<Record<string, unknown>>): void {
  const { type } = line;
  let key: string;
  let value: unknown;
  if (type === 'meta') {
    key = str(line['key'], 'key') as string;
    value = (metaCheck(key) ?? refuse('key', `no meta entry is named ${JSON.stringify(key)}`))(line['value'], `meta ${JSON.stringify(key)}`);
  } else if (type === 'doc' || type === 'pending' || type === 'rejected') {
    value = (type === 'doc' ? DOC : type === 'pending' ? PENDING : REJECTED)(line, type);
    key = type === 'doc' ? docId((value as DocRecord).collection, (value as DocRecord).key) : (value as OutboxEntry).writeId;
  } else {
    return refuse('type', `no line is of type ${JSON.stringify(type)}`);
  }
  const map = staged[type] as Map<string, unknown>;
  if (map.has(key)) refuse(type, `${JSON.stringify(key)} appears twice`);
  map.set(key, value);
}

/** The records, checked against each other and against the first line. */
function imported(header: ExportHeader, staged: Staged): ImportedData {
  const replica = staged.meta.get(META.replica) as ReplicaRecord | undefined;
  if (replica?.id !== header.replicaId) refuse('replica', `the export holds no replica record of ${header.replicaId}`);
  staged.meta.delete(META.replica);
  const pendingDocs = new Set<string>();
  for (const entry of staged.pending.values()) {
    const id = docId(entry.collection, entry.key);
    pendingDocs.add(id);
    if (staged.doc.get(id)?.base === undefined) refuse(`pending ${entry.writeId}`, `its document ${entry.collection}/${entry.key} is missing, or has no base`);
  }
  for (const [id, doc] of staged.doc)
    if (doc.base !== undefined && !pendingDocs.has(id)) refuse(`doc ${doc.collection}/${doc.key}`, 'has a base but no pending write');
  return { replica, meta: [...staged.meta], docs: [...staged.doc.values()], pending: [...staged.pending.values()], rejected: [...staged.rejected.values()] };
}

const bad = (where: string, error: unknown): unknown =>
  error instanceof ConvergeError ? new ConvergeError('bad_message', `${where}: ${error.message}`, { cause: error }) : error;

/**
 * Reads an export (lines of JSON, `export-lines.ts`) and checks all of it — the first line's
 * format and version, every line's shape, the end line's count, the records against each other
 * — before anything is stored. Blank lines after the end line are ignored.
 *
 * @throws ConvergeError `bad_message` naming the line and the problem.
 */
export async function readExport(lines: AsyncIterable<string>): Promise<{ readonly header: ExportHeader; readonly data: ImportedData }> {
  const staged: Staged = { meta: new Map(), doc: new Map(), pending: new Map(), rejected: new Map() };
  let header: ExportHeader | undefined;
  let ended = false;
  let n = 0;
  for await (const raw of lines) {
    const text = raw.trimEnd();
    n++;
    if (ended && text === '') continue;
    try {
      if (ended) refuse('line', 'the export goes on after its end line');
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        refuse('line', 'not a line of JSON');
      }
      const line = object(json, 'line');
      if (n === 1) {
        if (line['format'] !== EXPORT_FORMAT) refuse('format', `not a Converge export: its first line must name the format "${EXPORT_FORMAT}"`);
        if (line['version'] !== EXPORT_VERSION)
          refuse('version', `export format version ${JSON.stringify(line['version'])}: this client reads version ${EXPORT_VERSION}`);
        header = HEADER(line, 'header') as ExportHeader;
      } else if (line['type'] === 'end') {
        if (line['lines'] !== n - 1) refuse('lines', `the end line counts ${JSON.stringify(line['lines'])} lines before it; there are ${n - 1}`);
        ended = true;
      } else {
        stage(staged, line);
      }
    } catch (error) {
      throw bad(`export line ${n}`, error);
    }
  }
  try {
    if (header === undefined) return refuse('export', 'it is empty');
    if (!ended) return refuse('export', 'it ends before its end line: it was cut short');
    return { header, data: imported(header, staged) };
  } catch (error) {
    throw bad('the export cannot be imported', error);
  }
}
