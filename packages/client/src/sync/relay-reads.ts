import { ConvergeError } from '@converge/conflict';
import type { DocRecord } from '../storage/storage-adapter.js';

/** Leader reads waiting for their `read-result`, each with a deadline. */
export class RelayReads {
  private readonly waiting = new Map<string, { resolve(records: DocRecord[]): void; reject(error: Error): void }>();

  constructor(private readonly timeoutMs: number) {}

  /** Registers read `id`; `send` sends its frame. */
  wait(id: string, send: () => void): Promise<DocRecord[]> {
    return new Promise<DocRecord[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new ConvergeError('timeout', `the relay did not answer read ${id} in time`));
      }, this.timeoutMs);
      this.waiting.set(id, {
        resolve: (records) => {
          clearTimeout(timer);
          resolve(records);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      send();
    });
  }

  has(id: string): boolean {
    return this.waiting.has(id);
  }

  resolve(id: string, records: DocRecord[]): void {
    this.waiting.get(id)?.resolve(records);
    this.waiting.delete(id);
  }

  reject(id: string, error: Error): void {
    this.waiting.get(id)?.reject(error);
    this.waiting.delete(id);
  }

  rejectAll(error: Error): void {
    for (const id of [...this.waiting.keys()]) this.reject(id, error);
  }
}
