// The offered load, in a process of its own: one writer pushing blind writes to new keys at a
// fixed rate, a push every ~1 ms carrying the changes due (so the rate holds whatever it is).
// Each value is a plain-JSON record carrying its send time (nowMs, a clock every process on the
// machine shares).
//   forked with IPC: load-child.ts <url> <collection> <changes/s> <warm-up ms> <run ms> [<window ms>]
// → {type:'done', run} after warm-up + run time (and up to 2 s for the last acks). The measured
// window is the first <window ms> (default: all) of the run after the warm-up; {type:'stop'}
// ends the run early.
import { encodeValue } from '@converge/protocol';
import { SENT_AT } from '../relay/subscribers.js';
import { blindChange, newReplicaId, nowMs, pushText, sleep, WireClient, type Envelope } from '../relay/wire.js';

export interface LoadRun {
  /** Start and end of the measured window (nowMs clock). */
  readonly from: number;
  readonly to: number;
  readonly sent: number;
  /** Changes sent within the measured window [from, from + window). */
  readonly measured: number;
  readonly pushes: number;
  readonly acked: number;
  readonly cpuMs: number;
  readonly errors: readonly string[];
}

export async function offerLoad(url: string, collection: string, rate: number, warmMs: number, runMs: number, windowMs = runMs): Promise<LoadRun> {
  const writer = await WireClient.open(url);
  const replica = newReplicaId();
  await writer.hello(replica);
  let acked = 0;
  const errors: string[] = [];
  writer.onFrame = (text) => {
    const frame = JSON.parse(text) as Envelope;
    if (frame.type === 'ack') acked += frame.results!.filter((r) => r.status === 'accepted').length;
    else if (frame.type === 'error' && errors.length < 5) errors.push(`${frame.code}: ${frame.message}`);
  };
  let sent = 0;
  let measured = 0;
  let pushes = 0;
  const start = nowMs();
  const from = start + warmMs;
  const to = from + runMs;
  const windowEnd = from + windowMs;
  let cpu = process.cpuUsage();
  let marked = false;
  let stop = false;
  process.on('message', (m: { type?: string }) => {
    if (m.type === 'stop') stop = true;
  });
  for (let now = nowMs(); now < to && !stop; now = nowMs()) {
    if (!marked && now >= from) {
      marked = true;
      cpu = process.cpuUsage();
    }
    const due = Math.min(Math.floor(((now - start) * rate) / 1000) + 1 - sent, 5000);
    if (due > 0) {
      const changes = [];
      for (let i = 0; i < due; i++) {
        const n = ++sent;
        const at = nowMs();
        if (at >= from && at < windowEnd) measured++;
        const value = { title: `Record ${n}`, done: n % 3 === 0, tags: ['alpha', 'beta'], owner: `user-${n % 1000}`, [SENT_AT]: at };
        changes.push(blindChange(collection, `k${n}`, replica, n, encodeValue(value), Math.floor(at)));
      }
      writer.send(pushText(`p${++pushes}`, changes));
    }
    await sleep(1);
  }
  const used = process.cpuUsage(cpu);
  for (let waited = 0; acked < sent && waited < 2000; waited += 50) await sleep(50);
  writer.close();
  return { from, to, sent, measured, pushes, acked, cpuMs: (used.user + used.system) / 1000, errors };
}

if (process.send !== undefined && process.argv[1]?.endsWith('load-child.ts')) {
  const [url, collection, rate, warmMs, runMs, windowMs] = process.argv.slice(2);
  if (url === undefined || collection === undefined)
    throw new Error('usage (forked with IPC): load-child.ts <url> <collection> <rate> <warmMs> <runMs> [<windowMs>]');
  const send = process.send.bind(process);
  process.once('message', () => {
    void offerLoad(url, collection, Number(rate), Number(warmMs), Number(runMs), Number(windowMs ?? runMs)).then(
      (run) => send({ type: 'done', run }, () => process.exit(0)),
      (error: unknown) => send({ type: 'error', error: String(error) }, () => process.exit(1)),
    );
  });
  send({ type: 'ready' });
  setTimeout(() => process.exit(1), Number(warmMs) + Number(runMs) + 60_000).unref();
}
