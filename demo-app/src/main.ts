import { html } from 'htm/preact';
import { render } from 'preact';
import { Device } from './device.js';
import { devicesOf, relayUrlOf } from './location.js';
import { Page } from './page.js';
import { App } from './ui/app.js';

/**
 * Opens one Converge client per device — three side by side, or `?device=NAME` for a window that
 * is a single device — and renders the page.
 */
async function main(): Promise<void> {
  const root = document.getElementById('app')!;
  const names = devicesOf(location.search);
  const url = relayUrlOf(location);
  const page = new Page(localStorage, names);
  const devices = await Promise.all(names.map((name) => Device.open({ name, url, page, kv: localStorage })));
  root.textContent = '';
  render(html`<${App} devices=${devices} page=${page} />`, root);
  addEventListener('pagehide', () => void Promise.all(devices.map((d) => d.close())));
}

void main();
