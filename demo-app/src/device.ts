import {
  createClient,
  type Client,
  type ClientStatus,
  type Inspection,
  type RejectedEvent,
  type StorageChoice,
  type WriteReceipt,
  type WrittenEvent,
} from '@converge/client';
import { cartEntries, type CartEntry } from './cart-entries.js';
import { applyEdit, CART_KEY, formatEdit, formatItems, type CartEdit, type CartValue } from './cart.js';
import type { DottedWrite } from './cluster.js';
import { COLLECTIONS } from './collections.js';
import { EditLog, type EditRow, type KeyValue } from './edit-log.js';
import { lwwOutcome } from './lww-cart.js';
import type { Page } from './page.js';
import { purchase, type Stock } from './purchase.js';
import { refusedWrites, type DeviceView } from './device-view.js';
import { describeReconnect } from './what-happened.js';
import { labelWrite } from './write-labels.js';

export interface DeviceOptions {
  readonly name: string;
  /** The relay's WebSocket URL; none: local only (tests). */
  readonly url?: string;
  readonly storage?: StorageChoice;
  /** The page the device lives in (names of replicas, who removed what). */
  readonly page: Page;
  /** Where the online switch, the outbox rows and the offline baseline are kept (localStorage). */
  readonly kv?: KeyValue;
  /** The client's database name (default `converge-demo-NAME`). */
  readonly database?: string;
  /**
   * The level the device's edits and purchases ask the relay for (default `local`: nothing
   * beyond the relay's ack). With `all` (the cluster demo) each write's chip climbs
   * `local → relay → quorum → all` as the relay confirms each level; an edit does not wait for it.
   */
  readonly ack?: WriteReceipt['level'];
  /** The relay the device talks to, as the card names it (the cluster demo). */
  readonly relayName?: string;
}

/** Writes whose status reached `quorum` or `all`. */
const QUORUM: ReadonlySet<string> = new Set(['quorum', 'all']);

interface Baseline {
  readonly entries: readonly CartEntry[];
}

/**
 * One device of the demo: an independent Converge client (its own IndexedDB database, so its own
 * replica id) plus what its card shows. Every edit goes through `edit`, which writes the same
 * change to the correct cart and to the two wrong-on-purpose carts in one batch.
 */
export class Device {
  private view: DeviceView;
  private readonly listeners = new Set<(view: DeviceView) => void>();
  private readonly log: EditLog;
  private readonly unsubscribe: (() => void)[] = [];
  private queue: Promise<unknown> = Promise.resolve();
  private refreshing: Promise<void> | undefined;
  private refreshAgain = false;
  private awaitingSync = false;
  private refusalsSinceResume: RejectedEvent[] = [];
  private closed = false;
  /** The client's pending writes, as `watchOutbox` last listed them. */
  private pendingWrites: readonly string[] = [];
  /** Notes for writes whose outbox row is not added yet. */
  private readonly notes = new Map<string, string>();
  /** The key and dot of each write made here (the last dot, when one was written again under a new one). */
  private readonly dots = new Map<string, DottedWrite>();

  private constructor(
    readonly client: Client,
    private readonly options: DeviceOptions,
    online: boolean,
  ) {
    this.log = new EditLog(`converge-demo:${options.name}:writes`, options.kv);
    this.view = {
      name: options.name,
      online,
      status: client.status.get(),
      cart: undefined,
      naive: undefined,
      lww: undefined,
      lwwOutcome: undefined,
      products: [],
      edits: [],
      pending: { edits: 0, writes: 0 },
      refused: [],
      lwwDropped: undefined,
    };
  }

  /** Opens the device's client; a device switched offline before a reload stays offline (its client opens no socket). */
  static async open(options: DeviceOptions): Promise<Device> {
    const online = options.kv?.getItem(`converge-demo:${options.name}:offline`) !== 'true';
    const client = await createClient({
      name: options.database ?? `converge-demo-${options.name}`,
      ...(options.url === undefined ? {} : { url: options.url }),
      ...(options.storage === undefined ? {} : { storage: options.storage }),
      collections: COLLECTIONS,
      paused: !online,
    });
    const device = new Device(client, options, online);
    await device.start();
    return device;
  }

  get name(): string {
    return this.options.name;
  }

  get relayName(): string | undefined {
    return this.options.relayName;
  }

  /** The writes made here that reached `quorum` or `all`, with their keys and dots. */
  quorumWrites(): DottedWrite[] {
    const acked = this.log.list().flatMap((row) => row.writes.filter((w) => QUORUM.has(w.status)));
    return acked.map((w) => this.dots.get(w.writeId)).filter((w) => w !== undefined);
  }

  /**
   * Runs `write` (a batch or a put asking for `options.ack`) and resolves with its writes once
   * they are committed here — `count` of them, recognised by `mine` — without waiting for the
   * level: the outbox chips follow it, and a level not reached (a failover under way) leaves the
   * write queued, its chip where it stands.
   */
  private async committed(
    count: number,
    mine: (e: WrittenEvent) => boolean,
    write: () => Promise<WriteReceipt[]>,
  ): Promise<{ writeId: string; collection: string }[]> {
    if ((this.options.ack ?? 'local') === 'local') return write();
    const seen: WrittenEvent[] = [];
    let stop = () => {};
    const local = new Promise<void>((resolve) => {
      stop = this.client.on('written', (e) => {
        if (!mine(e)) return;
        seen.push(e);
        if (seen.length === count) resolve();
      });
    });
    try {
      const acked = write();
      acked.catch(() => undefined);
      // Committed here (its `written` events), or — had they been missed — the level reached.
      return (await Promise.race([local.then(() => undefined), acked])) ?? seen;
    } finally {
      stop();
    }
  }

  private kvKey(what: string): string {
    return `converge-demo:${this.options.name}:${what}`;
  }

  private async start(): Promise<void> {
    const { client } = this;
    this.unsubscribe.push(
      client.on('written', (e) => void this.dots.set(e.writeId, { collection: e.collection, key: e.key, dot: e.dot })),
      client.status.subscribe((status) => this.statusChanged(status)),
      client.watchOutbox((pending, settled) => {
        this.pendingWrites = pending.map((w) => w.writeId);
        for (const w of pending) {
          if (!this.log.has(w.writeId))
            this.addRow({ id: w.writeId, label: labelWrite(w), at: w.createdAt, writes: [{ writeId: w.writeId, collection: w.collection }] });
        }
        this.log.learn(settled);
        this.update(this.outbox());
        if (settled.length > 0) this.schedule(); // acknowledged values turn confirmed, refused ones roll back
      }),
      client.on('rejected', (e) => this.refused(e)),
      client.on('conflict', (e) => {
        if (e.collection !== 'lww-cart') return;
        const dropped = e.discarded.map((d) => d.value as CartValue | undefined).filter((v) => v !== undefined);
        if (dropped.length === 0) return;
        const text = dropped.map((v) => `${v.by}'s cart (${formatItems(v.items)})`).join(', ');
        // The event comes before the write's receipt: the outbox row takes the note when it is added.
        this.notes.set(e.writeId, `LWW dropped ${text}`);
        this.update({ lwwDropped: text });
      }),
    );
    for (const name of Object.keys(COLLECTIONS)) this.unsubscribe.push(client.collection(name).watch({ prefix: '' }, () => this.schedule()));
    const known = await Promise.all(this.log.writeIds().map((id) => client.writeStatus(id))); // after a reload: where the logged writes stand now
    this.log.learn(known, true);
    await this.register();
    await this.refresh();
  }

  /** Names this replica in the `devices` collection, so other devices can say who wrote what. */
  private async register(): Promise<void> {
    const id = this.client.replicaId;
    this.options.page.name(id, this.name);
    const devices = this.client.collection<string>('devices');
    if ((await devices.get(id))?.value !== this.name) await devices.put(id, this.name);
  }

  subscribe(listener: (view: DeviceView) => void): () => void {
    this.listeners.add(listener);
    listener(this.view);
    return () => this.listeners.delete(listener);
  }

  get current(): DeviceView {
    return this.view;
  }

  private update(patch: Partial<DeviceView>): void {
    if (this.closed) return;
    this.view = { ...this.view, ...patch };
    for (const listener of [...this.listeners]) listener(this.view);
  }

  private statusChanged(status: ClientStatus): void {
    const replicaChanged = this.view.status.replicaId !== '' && status.replicaId !== this.view.status.replicaId;
    this.update({ status });
    if (replicaChanged) void this.serial(() => this.register());
    if (this.awaitingSync && status.connection === 'synced' && status.pending === 0) {
      this.awaitingSync = false;
      void this.serial(() => this.reconnected());
    }
  }

  /** Runs device actions one after the other (an edit reads, then writes). */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  // ── the online switch ─────────────────────────────────────────────────────

  /**
   * Offline: `client.pause()` closes the socket at once; writes go on locally. Online: `resume()`.
   * The switch flips now; what the cart held when the device went offline is read right after,
   * before any edit queued behind it.
   */
  setOnline(online: boolean): Promise<void> {
    if (online === this.view.online) return this.queue.then(() => undefined);
    this.options.kv?.setItem(this.kvKey('offline'), String(!online));
    this.update({ online });
    if (online) {
      this.refusalsSinceResume = [];
      this.awaitingSync = true;
      this.client.resume();
      return this.queue.then(() => undefined);
    }
    this.awaitingSync = false;
    this.client.pause();
    return this.serial(async () => {
      const baseline: Baseline = { entries: cartEntries(await this.inspect('cart', CART_KEY)) };
      this.options.kv?.setItem(this.kvKey('baseline'), JSON.stringify(baseline));
    });
  }

  private async reconnected(): Promise<void> {
    await this.refresh();
    const refusals = this.refusalsSinceResume.map((e) => this.refusalText(e));
    const saved = this.options.kv?.getItem(this.kvKey('baseline'));
    const before = saved === undefined || saved === null ? [] : (JSON.parse(saved) as Baseline).entries;
    const [cart, lww, naive] = await Promise.all([
      this.inspect('cart', CART_KEY),
      this.inspect('lww-cart', CART_KEY),
      this.client.collection<CartValue>('naive-cart').get(CART_KEY),
    ]);
    const happened = describeReconnect({
      device: this.name,
      before,
      after: cartEntries(cart),
      names: this.options.page.names,
      removedBy: this.options.page.removedBy,
      naive: naive?.value.items,
      lww: lww.exists ? lwwOutcome(lww) : undefined,
      refusals,
    });
    this.options.page.happened(this.name, happened);
  }

  // ── edits ─────────────────────────────────────────────────────────────────

  /** Applies one edit to all three carts in one batch: the correct cart by its operations, the other two as whole values. */
  edit(edit: CartEdit): Promise<void> {
    return this.serial(async () => {
      const current = (await this.client.collection<Map<string, number>>('cart').get(CART_KEY))?.value.get(edit.item) ?? 0;
      const removes = edit.kind === 'remove' || current + edit.by <= 0;
      if (removes && current === 0 && edit.kind === 'add') return;
      const whole = (value: CartValue | undefined): CartValue => ({ items: applyEdit(value?.items ?? {}, edit), by: this.name });
      const carts = new Set(['cart', 'naive-cart', 'lww-cart']);
      const receipts = await this.committed(
        carts.size,
        (e) => e.key === CART_KEY && carts.has(e.collection),
        () =>
          this.client.batch(
            (b) => {
              const cart = b.collection('cart');
              if (edit.kind === 'add' && !removes) cart.increment(CART_KEY, edit.item, edit.by);
              else cart.remove(CART_KEY, edit.item);
              b.collection('naive-cart').update(CART_KEY, (value) => whole(value as CartValue | undefined));
              b.collection('lww-cart').update(CART_KEY, (value) => whole(value as CartValue | undefined));
            },
            { ack: this.options.ack ?? 'local' },
          ),
      );
      if (removes) this.options.page.removed(edit.item, this.name);
      this.addRow({
        id: receipts[0]!.writeId,
        label: removes && edit.kind === 'add' ? `remove ${edit.item}` : formatEdit(edit),
        at: Date.now(),
        writes: receipts.map((r) => ({ writeId: r.writeId, collection: r.collection })),
      });
      this.schedule();
    });
  }

  /** Buys one unit: a leader-follower write over the stock this device last read. */
  buy(product: string): Promise<void> {
    return this.serial(() => this.buyNow(product));
  }

  private async buyNow(product: string): Promise<void> {
    const inventory = this.client.collection<Stock>('inventory');
    const next = purchase((await inventory.get(product))?.value, this.name);
    if (next === undefined) return;
    const [receipt] = await this.committed(
      1,
      (e) => e.collection === 'inventory' && e.key === product,
      async () => [await inventory.put(product, next, { ack: this.options.ack ?? 'local' })],
    );
    if (receipt === undefined) return;
    this.addRow({
      id: receipt.writeId,
      label: `buy ${product} → ${next.stock} left`,
      at: Date.now(),
      writes: [{ writeId: receipt.writeId, collection: 'inventory' }],
    });
    this.schedule();
  }

  /** Retries a refused write: a purchase is made again on the current stock; any other write is written again over the current value. */
  retry(writeId: string): Promise<void> {
    return this.serial(async () => {
      const refused = this.view.refused.find((r) => r.write.writeId === writeId);
      if (refused === undefined || refused.noRetry !== undefined) return;
      const { write } = refused;
      this.log.mark([writeId], 'discarded', 'retried');
      if (write.collection === 'inventory') {
        await write.discard();
        await this.buyNow(write.key);
        return;
      }
      const receipt = await write.retry();
      this.addRow({
        id: receipt.writeId,
        label: `retry: ${labelWrite(write)}`,
        at: Date.now(),
        writes: [{ writeId: receipt.writeId, collection: receipt.collection }],
      });
      this.schedule();
    });
  }

  discard(writeId: string): Promise<void> {
    return this.serial(async () => {
      const refused = this.view.refused.find((r) => r.write.writeId === writeId);
      if (refused === undefined) return;
      await refused.write.discard();
      this.log.mark([writeId], 'discarded', 'discarded');
      this.schedule();
    });
  }

  /** A refusal in words: what `onReject` did with it (only the inventory has one), or the explanation of a write still refused. */
  private refusalText(e: RejectedEvent): string {
    if (e.rebased) return `${this.name}'s purchase of ${e.key} was refused (the stock changed first) and made again on the current stock`;
    return this.view.refused.find((r) => r.write.writeId === e.writeId)?.explanation ?? `${this.name}'s write to ${e.key} was refused (${e.code})`;
  }

  private refused(e: RejectedEvent): void {
    if (this.awaitingSync) this.refusalsSinceResume.push(e);
    if (e.rebased) this.log.mark([e.writeId], 'rebased', 'refused: the stock changed first; bought again on the current stock');
    else this.log.mark([e.writeId], undefined, `refused by the relay (${e.code})`);
    this.update(this.outbox());
    this.schedule();
  }

  /** The outbox panel: the logged rows with their statuses, and how many edits and writes are pending. */
  private outbox(): Pick<DeviceView, 'edits' | 'pending'> {
    return { edits: this.log.list(), pending: { edits: this.log.pendingEdits(this.pendingWrites), writes: this.pendingWrites.length } };
  }

  private addRow(row: EditRow): void {
    const note = row.writes.map((w) => this.notes.get(w.writeId)).find((n) => n !== undefined);
    for (const w of row.writes) this.notes.delete(w.writeId);
    this.log.add(note === undefined ? row : { ...row, note });
  }

  // ── reading ───────────────────────────────────────────────────────────────

  inspect(collection: string, key: string): Promise<Inspection> {
    return this.client.collection(collection).inspect(key);
  }

  /** Re-reads what the card shows, at most one read at a time (changes during a read trigger one more). */
  schedule(): void {
    void this.refresh().catch(() => undefined);
  }

  private refresh(): Promise<void> {
    if (this.refreshing !== undefined) {
      this.refreshAgain = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      do {
        this.refreshAgain = false;
        if (this.closed) return;
        await this.read();
      } while (this.refreshAgain);
    })().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private async read(): Promise<void> {
    const c = this.client;
    const [cart, naive, lww, lwwInspection, products, rejected, devices] = await Promise.all([
      c.collection<Map<string, number>>('cart').get(CART_KEY),
      c.collection<CartValue>('naive-cart').get(CART_KEY),
      c.collection<CartValue>('lww-cart').get(CART_KEY),
      c.collection('lww-cart').inspect(CART_KEY),
      c.collection<Stock>('inventory').scan(),
      c.rejected(),
      c.collection<string>('devices').scan(),
    ]);
    for (const d of devices) this.options.page.name(d.key, d.value);
    this.update({
      cart,
      naive,
      lww,
      lwwOutcome: lwwInspection.exists ? lwwOutcome(lwwInspection) : undefined,
      products,
      ...this.outbox(),
      refused: refusedWrites(rejected, products),
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const off of this.unsubscribe) off();
    await this.queue.catch(() => undefined);
    await this.refreshing?.catch(() => undefined);
    await this.client.close();
  }
}
