import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import type { CrdtEntry, Doc, InspectedSibling, Inspection } from '@converge/client';
import { CART_KEY } from '../cart.js';
import type { Device } from '../device.js';
import type { DeviceView } from '../device-view.js';
import { replicaLabel } from '../replica-labels.js';
import { StateBadge } from './badge.js';
import { useDeviceView } from './device-card.js';
import { dotText, hlcText } from './format.js';
import { sameSelection, type Inspect, type Selection } from './selection.js';

type Names = ReadonlyMap<string, string>;

/** Entries grouped by cart item, in the order the sibling lists them. */
function byItem(entries: readonly CrdtEntry[]): [string, CrdtEntry[]][] {
  const items = new Map<string, CrdtEntry[]>();
  for (const e of entries) items.set(e.key ?? '', [...(items.get(e.key ?? '') ?? []), e]);
  return [...items];
}

/**
 * A sibling's value in words: a cart's entries per item (struck through when the join of the
 * siblings drops them: another sibling saw the entry's dot and removed it), or the whole-cart value.
 */
function siblingValue(sibling: InspectedSibling, names: Names) {
  if (sibling.deleted) return html`<span class="muted">deleted (tombstone)</span>`;
  if (sibling.entries !== undefined) {
    if (sibling.entries.length === 0) return html`<span class="muted">empty</span>`;
    return byItem(sibling.entries).map(
      ([item, entries]) =>
        html`<div>
          <b>${item}</b> =${' '}
          ${entries.map(({ dot, value, kept }, i) => {
            const write = dotText(names, dot);
            const title = kept ? `added by the write ${write}` : `dropped by the join: another sibling saw the write ${write} and removed ${item}`;
            return html`${i > 0 ? ' + ' : ''}<span class=${kept ? '' : 'dropped'} title=${title}>${String(value)}<sub>${write}</sub></span>`;
          })}
        </div>`,
    );
  }
  return html`<code>${JSON.stringify(sibling.value)}</code>`;
}

function shownValue(doc: Doc<unknown> | undefined) {
  if (doc === undefined) return html`<span class="muted">absent</span>`;
  const value = doc.value instanceof Map ? Object.fromEntries(doc.value) : doc.value;
  return html`<code>${JSON.stringify(value)}</code> <${StateBadge} doc=${doc} />`;
}

function docOf(view: DeviceView, selection: Selection): Doc<unknown> | undefined {
  if (selection.collection === 'cart') return view.cart;
  if (selection.collection === 'naive-cart') return view.naive;
  if (selection.collection === 'lww-cart') return view.lww;
  return view.products.find((p) => p.key === selection.key);
}

/** The conflict inspector: siblings with dots and HLCs, the causal context, the rule that chose the value, pending writes. */
export function Inspector({ devices, selection, inspect, names }: { devices: readonly Device[]; selection: Selection; inspect: Inspect; names: Names }) {
  const device = devices.find((d) => d.name === selection.device) ?? devices[0]!;
  const view = useDeviceView(device);
  const [inspection, setInspection] = useState<Inspection | undefined>(undefined);
  useEffect(() => {
    let live = true;
    void device.inspect(selection.collection, selection.key).then((i) => live && setInspection(i));
    return () => void (live = false);
  }, [device, view, selection.collection, selection.key]);
  const keys: Selection[] = [
    { device: device.name, collection: 'cart', key: CART_KEY },
    { device: device.name, collection: 'naive-cart', key: CART_KEY },
    { device: device.name, collection: 'lww-cart', key: CART_KEY },
    ...view.products.map((p) => ({ device: device.name, collection: 'inventory', key: p.key })),
  ];
  const context = inspection?.context;
  return html`
    <section class="inspector" aria-label="conflict inspector">
      <header>
        <h2>Conflict inspector</h2>
        <div class="tabs" role="group" aria-label="device">
          ${devices.map(
            (d) => html`<button aria-pressed=${d.name === device.name} onClick=${() => inspect({ ...selection, device: d.name })}>${d.name}</button>`,
          )}
        </div>
        <div class="tabs" role="group" aria-label="key">
          ${keys.map(
            (k) =>
              html`<button aria-pressed=${sameSelection(selection, k)} onClick=${() => inspect(k)}>
                ${k.collection === 'inventory' ? `stock/${k.key}` : k.collection}
              </button>`,
          )}
        </div>
      </header>
      ${
        inspection === undefined
          ? null
          : html`
              <div class="inspection" data-inspecting=${`${device.name}/${inspection.collection}/${inspection.key}`}>
                <p class="rule"><b>${inspection.collection}/${inspection.key}</b> · ${inspection.mode} · rule: ${inspection.rule}</p>
                <p>Shown on ${device.name}: ${shownValue(docOf(view, selection))} · relay seq ${inspection.seq}</p>
                <table class="siblings">
                  <thead>
                    <tr>
                      <th scope="col">sibling dot</th>
                      <th scope="col">HLC</th>
                      <th scope="col">value</th>
                      <th scope="col">relay has it</th>
                      <th scope="col">shown</th>
                    </tr>
                  </thead>
                  <tbody>
                    ${
                      inspection.siblings.length === 0
                        ? html`<tr>
                            <td colspan="5" class="muted">no siblings: this device holds nothing for the key</td>
                          </tr>`
                        : null
                    }
                    ${inspection.siblings.map(
                      (s) => html`
                        <tr key=${dotText(names, s.dot)} class=${s.chosen ? 'chosen' : 'loser'}>
                          <td><code>${dotText(names, s.dot)}</code></td>
                          <td><code>${hlcText(names, s.hlc)}</code></td>
                          <td>${siblingValue(s, names)}</td>
                          <td>${s.confirmed ? 'yes' : html`<span class="badge pending">not yet</span>`}</td>
                          <td>${s.chosen ? 'yes' : html`<span class="hidden-value">hidden</span>`}</td>
                        </tr>
                      `,
                    )}
                  </tbody>
                </table>
                <!-- prettier-ignore -->
                <p class="context">
                  Version vector:${' '}
                  ${context === undefined || Object.keys(context.v).length === 0 ? html`<span class="muted">empty</span>` : Object.entries(context.v).map(([r, n]) => html`<code title=${`replica ${r}`}>${replicaLabel(names, r)}:${n}</code> `)}
                  ${context?.d === undefined ? null : html` · dots beyond it: ${context.d.map((d) => html`<code>${dotText(names, d)}</code> `)}`}${' '}
                  · pending writes:${' '}
                  ${inspection.pending.length === 0 ? html`<span class="muted">none</span>` : inspection.pending.map((p) => html`<code title=${`write ${p.writeId}, waits for ${p.ack}`}>${dotText(names, p.dot)}</code> `)}
                </p>
              </div>
            `
      }
    </section>
  `;
}
