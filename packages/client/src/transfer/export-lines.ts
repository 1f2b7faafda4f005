import { encodeContext, type ReplicaId } from '@converge/conflict';
import { stateToJson, type CollectionDeclaration } from '@converge/protocol';
import type { ExportRecord } from '../replica/replica-export.js';
import type { WriteIntent } from '../storage/storage-adapter.js';

/** The first line's `format`: what the file is. */
export const EXPORT_FORMAT = 'converge-export';
/** The first line's `version`: bumped whenever a line changes meaning (docs/CLIENT.md, "Export format"). */
export const EXPORT_VERSION = 1;

/** What the first line says besides the format and version. */
export interface ExportHeader {
  /** The exporting client's database name. */
  readonly name: string;
  /** The exporting replica's id (retired by whoever imports the export). */
  readonly replicaId: ReplicaId;
  /** When the export started, ms since the epoch. */
  readonly exportedAt: number;
  /** Each collection as the exporting client ran it. */
  readonly collections: Readonly<Record<string, CollectionDeclaration>>;
}

const line = (json: unknown): string => `${JSON.stringify(json)}\n`;

export const headerLine = (header: ExportHeader): string => line({ format: EXPORT_FORMAT, version: EXPORT_VERSION, ...header });

/** The last line: how many lines came before it, so a file cut short is refused. */
export const endLine = (lines: number): string => line({ type: 'end', lines });

const intentJson = (write: WriteIntent): unknown => (write.kind === 'op' ? write : { ...write, readContext: encodeContext(write.readContext) });

/** One record as its line of JSON (and a newline): states in their wire form (`stateToJson`), contexts in conflict's compact form. */
export function recordLine(r: ExportRecord): string {
  switch (r.type) {
    case 'meta':
      return line(r);
    case 'doc': {
      const { state, base, ...rest } = r.record;
      return line({ type: 'doc', ...rest, state: stateToJson(state), ...(base === undefined ? {} : { base: stateToJson(base) }) });
    }
    case 'pending': {
      const { id: _id, delta, write, ...rest } = r.entry;
      return line({ type: 'pending', ...rest, delta: stateToJson(delta), write: intentJson(write) });
    }
    case 'rejected': {
      const { write, current, ...rest } = r.record;
      return line({ type: 'rejected', ...rest, write: intentJson(write), ...(current === undefined ? {} : { current: stateToJson(current) }) });
    }
  }
}
