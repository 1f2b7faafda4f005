import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { formatItems } from '../cart.js';
import type { Device } from '../device.js';
import type { DeviceView } from '../device-view.js';
import { CartTable } from './cart-table.js';
import { Outbox } from './outbox.js';
import { ProductsTable } from './products-table.js';
import type { Inspect } from './selection.js';

export function useDeviceView(device: Device): DeviceView {
  const [view, setView] = useState(device.current);
  useEffect(() => device.subscribe(setView), [device]);
  return view;
}

const CONNECTION_TEXT = { offline: 'offline', connecting: 'connecting…', syncing: 'syncing…', synced: 'synced' } as const;

/** One device: its connection and switch, the shop, the three carts, and its outbox. */
export function DeviceCard({ device, inspect }: { device: Device; inspect: Inspect }) {
  const view = useDeviceView(device);
  const { connection, error } = view.status;
  const lww = view.lwwOutcome;
  return html`
    <article class="device ${view.online ? 'online' : 'offline'}" data-device=${view.name} aria-label=${`device ${view.name}`}>
      <header>
        <h2>${view.name}</h2>
        <span class="connection ${connection}" data-connection=${connection} role="status">${CONNECTION_TEXT[connection]}</span>
        ${device.relayName === undefined ? null : html`<span class="via" data-relay=${device.relayName}>via relay ${device.relayName}</span>`}
        <label class="switch">
          <input
            type="checkbox"
            role="switch"
            aria-label=${`${view.name} online`}
            checked=${view.online}
            onChange=${(e: Event) => device.setOnline((e.target as HTMLInputElement).checked)}
          />
          <span>${view.online ? 'online' : 'offline'}</span>
        </label>
      </header>
      ${error === undefined ? null : html`<p class="error" role="alert">${error.code}: ${error.message}</p>`}
      <${ProductsTable} device=${device} view=${view} inspect=${inspect} />
      <${CartTable} device=${device} view=${view} inspect=${inspect} />
      <p class="lww-line" data-lww-winner=${lww?.winner?.by ?? ''}>
        ${
          lww?.winner === undefined
            ? html`<span class="muted">LWW: no cart yet.</span>`
            : lww.losers.length === 0
              ? html`LWW shows <b>${lww.winner.by}</b>'s cart;${' '}
                  ${view.lwwDropped === undefined ? 'nothing hidden.' : html`its last edit here dropped <b class="dropped-cart">${view.lwwDropped}</b>.`}`
              : html`LWW shows <b>${lww.winner.by}</b>'s cart and hides${' '}
                  ${lww.losers.map((l, i) => html`${i > 0 ? ', ' : ''}<b>${l.by}</b>'s (${formatItems(l.items)})`)}: the next edit drops it.`
        }
      </p>
      <${Outbox} device=${device} view=${view} />
    </article>
  `;
}
