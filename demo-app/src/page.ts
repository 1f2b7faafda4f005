import type { KeyValue } from './edit-log.js';

/** A device's last "what just happened" line, kept in localStorage under the device's name. */
interface SavedLine {
  readonly line: string;
  readonly at: number;
}

const lineKey = (device: string) => `converge-demo:${device}:what-happened`;

function savedLine(kv: KeyValue | undefined, device: string): SavedLine | undefined {
  try {
    const saved = JSON.parse(kv?.getItem(lineKey(device)) ?? 'null') as Partial<SavedLine> | null;
    return typeof saved?.line === 'string' && typeof saved.at === 'number' ? { line: saved.line, at: saved.at } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * What the devices of one page share: the device name of each replica id (from the `devices`
 * collection and from the devices opened here), who removed which item (seen here), and the
 * last "what just happened" line for the banner. The line is kept per device: windows of one
 * origin share localStorage, and a `?device=NAME` window shows only what happened to its device
 * (the page of three, the newest of its three).
 */
export class Page {
  readonly names = new Map<string, string>();
  readonly removedBy = new Map<string, string>();
  private lastLine: string | undefined;
  private readonly listeners = new Set<(line: string | undefined) => void>();

  constructor(
    private readonly kv: KeyValue | undefined,
    devices: readonly string[],
  ) {
    const saved = devices.map((device) => savedLine(kv, device)).filter((s) => s !== undefined);
    this.lastLine = saved.sort((a, b) => b.at - a.at)[0]?.line;
  }

  name(replicaId: string, device: string): void {
    this.names.set(replicaId, device);
  }

  removed(item: string, device: string): void {
    this.removedBy.set(item, device);
  }

  /** What just happened to `device` (one of this page's), at `at` (ms since the epoch). */
  happened(device: string, line: string, at = Date.now()): void {
    this.lastLine = line;
    try {
      this.kv?.setItem(lineKey(device), JSON.stringify({ line, at } satisfies SavedLine));
    } catch {
      // storage full or unavailable: the line lives in memory only
    }
    for (const listener of [...this.listeners]) listener(line);
  }

  /** Calls `listener` with the last line now and with every new one. */
  onHappened(listener: (line: string | undefined) => void): () => void {
    this.listeners.add(listener);
    listener(this.lastLine);
    return () => this.listeners.delete(listener);
  }
}
