import { html } from 'htm/preact';
import type { Doc } from '@converge/client';
import type { Device } from '../device.js';
import type { DeviceView } from '../device-view.js';
import type { Stock } from '../purchase.js';
import { StateBadge } from './badge.js';
import type { Inspect } from './selection.js';

/**
 * The widest a stock cell gets, laid out hidden under what it shows: the column is as wide from
 * the start, so it does not move when "out of stock" and a pending badge appear (whatever the font).
 */
const WIDEST = html`<span class="widest" aria-hidden="true"><b>out of stock</b> <span class="badge pending">pending</span></span>`;

function StockShown({ product }: { product: Doc<Stock> }) {
  const { stock } = product.value;
  return html`<span>${stock > 0 ? html`<span>${stock}</span>` : html`<span class="out">out of stock</span>`} <${StateBadge} doc=${product} /></span>`;
}

/** The shop: stock per product (leader-follower, guarded by the relay), add to cart, buy now. */
export function ProductsTable({ device, view, inspect }: { device: Device; view: DeviceView; inspect: Inspect }) {
  return html`
    <table class="products" aria-label=${`${view.name}: products`}>
      <thead>
        <tr>
          <th scope="col">Product</th>
          <th scope="col" title="inventory: leader-follower, the relay accepts one purchase per unit">Stock</th>
          <th scope="col"><span class="sr-only">Actions</span></th>
        </tr>
      </thead>
      <tbody>
        ${
          view.products.length === 0
            ? html`<tr>
                <td colspan="3" class="muted">No products yet: they arrive from the relay.</td>
              </tr>`
            : null
        }
        ${view.products.map(
          (p) => html`
            <tr key=${p.key} data-product=${p.key}>
              <th scope="row">
                <button class="link" onClick=${() => inspect({ device: view.name, collection: 'inventory', key: p.key })} title="inspect this product's stock">
                  ${p.key}
                </button>
              </th>
              <td class="stock" data-stock=${p.value.stock}>
                <span class="fit"><${StockShown} product=${p} />${WIDEST}</span>
              </td>
              <td class="actions">
                <button onClick=${() => device.edit({ kind: 'add', item: p.key, by: 1 })} aria-label=${`+ cart: add ${p.key} on ${view.name}`}>+ cart</button>
                <button onClick=${() => device.buy(p.key)} disabled=${p.value.stock <= 0} aria-label=${`buy one ${p.key} on ${view.name}`}>buy</button>
              </td>
            </tr>
          `,
        )}
      </tbody>
    </table>
  `;
}
