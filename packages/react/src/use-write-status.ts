import type { WriteStatus } from '@converge/client';
import { useSource } from './source.js';

/**
 * Where a write stands (`client.writeStatus(writeId)`), kept current: `local` while it waits
 * in the outbox, then the level the relay acknowledged (`relay`, `quorum`, `all`), or `rejected`
 * with the relay's `code` and `message`. Undefined while it is read, for a write the client does
 * not know, and for `writeId` undefined (say, before the first write).
 *
 * @example
 * ```tsx
 * function Saved({ writeId }: { writeId: string | undefined }) {
 *   const status = useWriteStatus(writeId);
 *   return <small>{status?.status === 'local' ? 'saved on this device' : status?.status === 'rejected' ? status.message : 'saved'}</small>;
 * }
 * ```
 */
export function useWriteStatus(writeId: string | undefined): WriteStatus | undefined {
  return useSource<WriteStatus | undefined>(
    `write\0${writeId ?? ''}`,
    () => undefined,
    (source, client) => {
      if (writeId === undefined) return () => undefined;
      let reads = 0;
      let running = true;
      const read = (): void => {
        const n = ++reads;
        client.writeStatus(writeId).then(
          (status) => running && n === reads && source.set(status),
          () => undefined, // storage closed: the client reports it in its status
        );
      };
      const stops = [client.on('acked', (e) => e.writeIds.includes(writeId) && read()), client.on('rejected', (e) => e.writeId === writeId && read())];
      read();
      return () => {
        running = false;
        for (const stop of stops) stop();
      };
    },
  );
}
