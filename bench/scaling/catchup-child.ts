// One catch-up in a fresh process: a subscriber of `collection` from `cursor` (JSON, or `null`)
// that validates every frame (decodeRelayFrame) and grants each catch-up frame's size back as
// credit, as a client does once it stored the frame; timed from sending hello to the `done`
// frame. Replies {type:'done', run} over IPC, with the cursor of the last frame.
//   forked with IPC: catchup-child.ts <url> <collection> <cursor JSON | null>
import { decodeRelayFrame, encodeFrame, type Cursor } from '@converge/protocol';
import { newReplicaId, nowMs, WireClient } from '../relay/wire.js';

export interface CatchupRun {
  readonly ms: number;
  readonly docs: number;
  readonly frames: number;
  readonly bytes: number;
  readonly cursor: Cursor | null;
  readonly resync: boolean;
  readonly cpuMs: number;
}

export async function catchUpFrom(url: string, collection: string, cursor: Cursor | null, timeoutMs = 120_000): Promise<CatchupRun> {
  const client = await WireClient.open(url);
  let docs = 0;
  let frames = 0;
  let bytes = 0;
  let last: Cursor | null = null;
  let resync = false;
  const cpu0 = process.cpuUsage();
  const t0 = nowMs();
  const done = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`catch-up not done within ${timeoutMs} ms (${docs} docs)`)), timeoutMs);
    client.onFrame = (text, at) => {
      frames++;
      bytes += Buffer.byteLength(text);
      const decoded = decodeRelayFrame(text, { maxFrameBytes: 64 * 1024 * 1024, maxChangesPerFrame: 100_000 });
      if (!decoded.ok) return reject(new Error(`invalid frame: ${decoded.error.message}`));
      const frame = decoded.value;
      if (frame.type === 'error') return reject(new Error(`${frame.code}: ${frame.message}`));
      if (frame.type !== 'changes') return;
      docs += frame.docs.length;
      last = frame.cursor;
      if (frame.resync === true) resync = true;
      if (frame.phase === 'catchup') client.send(encodeFrame({ type: 'credit', collection, bytes: Buffer.byteLength(text) }));
      if (frame.done === true) {
        clearTimeout(timer);
        resolve(at);
      }
    };
    void client.closed.then(({ code, reason }) => reject(new Error(`closed during catch-up (${code} ${reason}) after ${docs} docs`)));
  });
  await client.hello(newReplicaId(), [{ collection, cursor }]);
  const doneAt = await done;
  const cpu = process.cpuUsage(cpu0);
  client.close();
  return { ms: doneAt - t0, docs, frames, bytes, cursor: last, resync, cpuMs: (cpu.user + cpu.system) / 1000 };
}

if (process.send !== undefined && process.argv[1]?.endsWith('catchup-child.ts')) {
  const [url, collection, cursor] = process.argv.slice(2);
  if (url === undefined || collection === undefined || cursor === undefined)
    throw new Error('usage (forked with IPC): catchup-child.ts <url> <collection> <cursor JSON | null>');
  const send = process.send.bind(process);
  send({ type: 'ready' });
  process.once('message', () => {
    void catchUpFrom(url, collection, JSON.parse(cursor) as Cursor | null).then(
      (run) => send({ type: 'done', run }, () => process.exit(0)),
      (error: unknown) => send({ type: 'error', error: String(error) }, () => process.exit(1)),
    );
  });
  setTimeout(() => process.exit(1), 180_000).unref();
}
