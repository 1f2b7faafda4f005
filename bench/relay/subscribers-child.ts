// Child-process entry for the delivery subscribers (forked by relay.bench.ts with IPC):
//   argv: <url> <count> <collection>
// → {type:'ready'} once every subscriber is live; on {type:'mark'} starts CPU accounting; on
// {type:'summary', from} replies {type:'summary', summary} and exits.
import { startSubscribers } from './subscribers.js';

const [url, count, collection] = process.argv.slice(2);
if (url === undefined || count === undefined || collection === undefined || process.send === undefined) {
  throw new Error('usage (forked with IPC): subscribers-child.ts <url> <count> <collection>');
}
const send = process.send.bind(process);
const subs = await startSubscribers(url, Number(count), collection);
send({ type: 'ready' });
process.on('message', (message: { type: string; from?: number; to?: number }) => {
  if (message.type === 'mark') subs.markCpu();
  if (message.type === 'summary') {
    const summary = subs.summary(message.from ?? 0, message.to ?? Infinity);
    subs.close();
    send({ type: 'summary', summary }, () => process.exit(0));
  }
});
// Bounded: never outlive a parent that forgot us.
setTimeout(() => process.exit(1), Number(process.env['BENCH_SUBSCRIBERS_MAX_MS'] ?? 120_000)).unref();
process.on('disconnect', () => process.exit(0));
