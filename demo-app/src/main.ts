import { html } from 'htm/preact';
import { render } from 'preact';
import { clusterState, prefixedKv, relayFor } from './cluster.js';
import { Device } from './device.js';
import { devicesOf, relayUrlOf } from './location.js';
import { Page } from './page.js';
import { App } from './ui/app.js';

/**
 * Opens one Converge client per device — three side by side, or `?device=NAME` for a window that
 * is a single device — and renders the page. Under `npm start -- --cluster` the devices take
 * turns on the two relays, write asking for `all`, and keep their data apart from the SQLite
 * demo's (and from earlier clusters': each start is a fresh cluster).
 */
async function main(): Promise<void> {
  const root = document.getElementById('app')!;
  const names = devicesOf(location.search);
  const cluster = await clusterState();
  const kv = cluster === undefined ? localStorage : prefixedKv(localStorage, `cluster-${cluster.id}:`);
  const page = new Page(kv, names);
  const devices = await Promise.all(
    names.map((name, index) => {
      if (cluster === undefined) return Device.open({ name, url: relayUrlOf(location), page, kv });
      const relay = relayFor(name, index, names.length === 1, cluster.relays);
      const url = relayUrlOf({ search: '', protocol: location.protocol, host: location.host, path: relay.path });
      return Device.open({ name, url, page, kv, database: `converge-demo-${cluster.id}-${name}`, ack: 'all', relayName: relay.name });
    }),
  );
  root.textContent = '';
  render(html`<${App} devices=${devices} page=${page} cluster=${cluster} />`, root);
  addEventListener('pagehide', () => void Promise.all(devices.map((d) => d.close())));
}

void main();
