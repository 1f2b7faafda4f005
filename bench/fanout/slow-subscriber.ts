// A subscriber that reads its socket slowly: one WebSocket message every `minMs`–`maxMs` ms
// (uniform), and nothing in between. It speaks WebSocket itself over a paused TCP socket, so
// unread bytes stay in the kernel and back up to the relay as a real slow reader's would (a
// `ws` client reads everything the socket has and would only look slow).
//   forked with IPC: slow-subscriber.ts <url> <collection> <minMs> <maxMs>
// → {type:'ready'} once its (empty) catch-up is done; on {type:'summary', from, to} replies
// {type:'summary', summary} and exits. Says {type:'ended', at} when the relay ends its connection.
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { encodeFrame, PROTOCOL_VERSION } from '@converge/protocol';
import { newReplicaId, nowMs, percentile } from '../relay/wire.js';
import { SENT_AT } from '../relay/subscribers.js';

export interface SlowSummary {
  /** Messages read, and changes in them sent in [from, to). */
  readonly messages: number;
  readonly changes: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  /** The close code of the relay's close frame, once read; null when none was read. */
  readonly closeCode: number | null;
  readonly closeReason: string;
  /** When the TCP connection ended (nowMs clock), or null while open. */
  readonly endedAt: number | null;
  readonly bytesRead: number;
}

const sentAt = new RegExp(`"${SENT_AT}":(\\d+(?:\\.\\d+)?)`, 'g');

/** A client frame: FIN, text or control opcode, masked as RFC 6455 requires of clients. */
function clientFrame(opcode: number, payload: Buffer): Buffer {
  const mask = randomBytes(4);
  const length = payload.length;
  const header = length < 126 ? Buffer.alloc(2) : length < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
  header[0] = 0x80 | opcode;
  if (length < 126) header[1] = 0x80 | length;
  else if (length < 65536) {
    header[1] = 0x80 | 126;
    header.writeUInt16BE(length, 2);
  } else {
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(BigInt(length), 2);
  }
  const body = Buffer.alloc(length);
  for (let i = 0; i < length; i++) body[i] = payload[i]! ^ mask[i % 4]!;
  return Buffer.concat([header, mask, body]);
}

/** One server frame from the front of `buffer`, or undefined until it is all there. */
function serverFrame(buffer: Buffer): { opcode: number; payload: Buffer; size: number } | undefined {
  if (buffer.length < 2) return undefined;
  const opcode = buffer[0]! & 0x0f;
  let length = buffer[1]! & 0x7f;
  let offset = 2;
  if (length === 126) {
    if (buffer.length < 4) return undefined;
    length = buffer.readUInt16BE(2);
    offset = 4;
  } else if (length === 127) {
    if (buffer.length < 10) return undefined;
    length = Number(buffer.readBigUInt64BE(2));
    offset = 10;
  }
  if (buffer.length < offset + length) return undefined;
  return { opcode, payload: buffer.subarray(offset, offset + length), size: offset + length };
}

export async function startSlowSubscriber(url: string, collection: string, minMs: number, maxMs: number, onEnded: (at: number) => void = () => undefined) {
  const { hostname, port } = new URL(url);
  const socket: Socket = connect(Number(port), hostname);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const key = randomBytes(16).toString('base64');
  socket.write(
    `GET / HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  let buffer = Buffer.alloc(0);
  // The handshake's answer is read as it comes; after it, the socket is read only by the paced loop.
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      const end = buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      socket.pause();
      const head = buffer.subarray(0, end).toString();
      buffer = buffer.subarray(end + 4);
      if (!head.startsWith('HTTP/1.1 101')) reject(new Error(`upgrade refused: ${head.split('\r\n')[0]}`));
      else resolve();
    };
    socket.on('data', onData);
  });
  socket.write(
    clientFrame(
      0x1,
      Buffer.from(encodeFrame({ type: 'hello', protocol: PROTOCOL_VERSION, replicaId: newReplicaId(), subscriptions: [{ collection, cursor: null }] })),
    ),
  );

  let endedAt: number | null = null;
  let closeCode: number | null = null;
  let closeReason = '';
  let messages = 0;
  let bytesRead = 0;
  let live = false;
  const sent: number[] = [];
  const latency: number[] = [];
  let summarized = false;
  const ended = () => {
    if (endedAt !== null || summarized) return;
    endedAt = nowMs();
    onEnded(endedAt);
  };
  socket.on('end', ended);
  socket.on('close', ended);
  socket.on('error', ended);
  let markLive: () => void = () => undefined;
  const caughtUp = new Promise<void>((resolve) => (markLive = resolve));

  /** Reads one message: from what is buffered, pulling more from the socket only when needed. */
  const readOne = (): boolean => {
    for (;;) {
      const frame = serverFrame(buffer);
      if (frame !== undefined) {
        buffer = buffer.subarray(frame.size);
        bytesRead += frame.size;
        if (frame.opcode === 0x8) {
          closeCode = frame.payload.length >= 2 ? frame.payload.readUInt16BE(0) : 1005;
          closeReason = frame.payload.subarray(2).toString();
        } else if (frame.opcode === 0x9) socket.write(clientFrame(0xa, frame.payload));
        else if (frame.opcode === 0x1) {
          messages++;
          const at = nowMs();
          const text = frame.payload.toString();
          if (!live && text.includes('"done":true')) {
            live = true;
            markLive();
          }
          sentAt.lastIndex = 0;
          for (let m = sentAt.exec(text); m !== null; m = sentAt.exec(text)) {
            const t = Number(m[1]);
            sent.push(t);
            latency.push(at - t);
          }
        }
        return true;
      }
      const more = socket.read() as Buffer | null;
      if (more === null) return false;
      buffer = Buffer.concat([buffer, more]);
    }
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const pace = () => {
    if (stopped) return;
    // Before going live, read what comes (its catch-up); then one message per 2–5 ms.
    if (!live) while (readOne() && !live);
    else readOne();
    timer = setTimeout(pace, live ? minMs + Math.random() * (maxMs - minMs) : 1);
  };
  pace();
  // A client pings when it has sent nothing for a while (the relay closes connections silent for
  // limits.idleTimeoutMs); this one does so on its own clock, whatever it has read.
  const pinger = setInterval(() => {
    if (endedAt === null) socket.write(clientFrame(0x1, Buffer.from(encodeFrame({ type: 'ping', t: Math.floor(nowMs()) }))));
  }, 10_000);
  await caughtUp;
  return {
    /** The local port of its TCP connection (to find it in `ss`). */
    port: socket.localPort!,
    summary(from: number, to = Infinity): SlowSummary {
      stopped = true;
      summarized = true;
      clearInterval(pinger);
      clearTimeout(timer);
      const kept: number[] = [];
      for (let i = 0; i < sent.length; i++) if (sent[i]! >= from && sent[i]! < to) kept.push(latency[i]!);
      const sorted = Float64Array.from(kept).sort();
      socket.destroy();
      return {
        messages,
        changes: sorted.length,
        p50: percentile(sorted, 50),
        p99: percentile(sorted, 99),
        max: sorted.length === 0 ? NaN : sorted[sorted.length - 1]!,
        closeCode,
        closeReason,
        endedAt,
        bytesRead,
      };
    },
  };
}

if (process.send !== undefined && process.argv[1]?.endsWith('slow-subscriber.ts')) {
  const [url, collection, minMs, maxMs] = process.argv.slice(2);
  if (url === undefined || collection === undefined) throw new Error('usage (forked with IPC): slow-subscriber.ts <url> <collection> <minMs> <maxMs>');
  const send = process.send.bind(process);
  const slow = await startSlowSubscriber(url, collection, Number(minMs ?? 2), Number(maxMs ?? 5), (at) => send({ type: 'ended', at }));
  send({ type: 'ready', port: slow.port });
  process.on('message', (message: { type: string; from?: number; to?: number | null }) => {
    if (message.type === 'summary') send({ type: 'summary', summary: slow.summary(message.from ?? 0, message.to ?? Infinity) }, () => process.exit(0));
  });
  setTimeout(() => process.exit(1), Number(process.env['BENCH_SUBSCRIBERS_MAX_MS'] ?? 120_000)).unref();
  process.on('disconnect', () => process.exit(0));
}
