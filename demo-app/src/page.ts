import type { KeyValue } from './edit-log.js';

const LAST_LINE = 'converge-demo:what-happened';

/**
 * What the devices of one page share: the device name of each replica id (from the `devices`
 * collection and from the devices opened here), who removed which item (seen here), and the
 * last "what just happened" line for the banner.
 */
export class Page {
  readonly names = new Map<string, string>();
  readonly removedBy = new Map<string, string>();
  private lastLine: string | undefined;
  private readonly listeners = new Set<(line: string | undefined) => void>();

  constructor(private readonly kv?: KeyValue) {
    this.lastLine = kv?.getItem(LAST_LINE) ?? undefined;
  }

  name(replicaId: string, device: string): void {
    this.names.set(replicaId, device);
  }

  removed(item: string, device: string): void {
    this.removedBy.set(item, device);
  }

  happened(line: string): void {
    this.lastLine = line;
    this.kv?.setItem(LAST_LINE, line);
    for (const listener of [...this.listeners]) listener(line);
  }

  /** Calls `listener` with the last line now and with every new one. */
  onHappened(listener: (line: string | undefined) => void): () => void {
    this.listeners.add(listener);
    listener(this.lastLine);
    return () => this.listeners.delete(listener);
  }
}
