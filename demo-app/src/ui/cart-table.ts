import { html } from 'htm/preact';
import { CART_KEY, itemsOfMap } from '../cart.js';
import type { Device } from '../device.js';
import type { DeviceView } from '../device-view.js';
import { StateBadge } from './badge.js';
import type { Inspect } from './selection.js';

/**
 * The three carts side by side, one row per item: the correct one (an OR-map of counters, with
 * its controls) and the two that are wrong on purpose, fed the same edits.
 */
export function CartTable({ device, view, inspect }: { device: Device; view: DeviceView; inspect: Inspect }) {
  const correct = itemsOfMap(view.cart?.value);
  const naive = view.naive?.value.items ?? {};
  const lww = view.lww?.value.items ?? {};
  const items = [...new Set([...Object.keys(correct), ...Object.keys(naive), ...Object.keys(lww)])].sort();
  const open = (collection: string) => () => inspect({ device: view.name, collection, key: CART_KEY });
  const cell = (items: Record<string, number>, item: string, cart: string) => {
    const n = items[item];
    return html`<td class="qty ${cart}" data-cart=${cart} data-qty=${n ?? 0}>${n ?? html`<span class="muted">–</span>`}</td>`;
  };
  return html`
    <table class="carts" aria-label=${`${view.name}: the three carts`}>
      <thead>
        <tr>
          <th scope="col">Item</th>
          <th scope="col" class="correct">
            <button class="link" onClick=${open('cart')} title="inspect the correct cart: an OR-map of counters">Cart</button>
            <${StateBadge} doc=${view.cart} />
          </th>
          <th scope="col" class="wrong">
            <button class="link" onClick=${open('naive-cart')} title="inspect the naive cart: union of carts, quantities added">Naive</button>
            <${StateBadge} doc=${view.naive} />
          </th>
          <th scope="col" class="wrong">
            <button class="link" onClick=${open('lww-cart')} title="inspect the LWW cart: last writer wins">LWW</button>
            <${StateBadge} doc=${view.lww} />
          </th>
        </tr>
      </thead>
      <tbody>
        ${
          items.length === 0
            ? html`<tr>
                <td colspan="4" class="muted">The cart is empty: add something above.</td>
              </tr>`
            : null
        }
        ${items.map(
          (item) => html`
            <tr key=${item} data-item=${item}>
              <th scope="row">${item}</th>
              <td class="qty correct" data-cart="cart" data-qty=${correct[item] ?? 0}>
                ${
                  correct[item] === undefined
                    ? html`<span class="muted">–</span>`
                    : html`<span class="stepper">
                        <button onClick=${() => device.edit({ kind: 'add', item, by: -1 })} aria-label=${`−1 ${item} on ${view.name}`}>−</button>
                        <span class="n">${correct[item]}</span>
                        <button onClick=${() => device.edit({ kind: 'add', item, by: 1 })} aria-label=${`+1 ${item} on ${view.name}`}>+</button>
                        <button class="remove" onClick=${() => device.edit({ kind: 'remove', item })} aria-label=${`× remove ${item} on ${view.name}`}>
                          ×
                        </button>
                      </span>`
                }
              </td>
              ${cell(naive, item, 'naive-cart')} ${cell(lww, item, 'lww-cart')}
            </tr>
          `,
        )}
      </tbody>
    </table>
  `;
}
