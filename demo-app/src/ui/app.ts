import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { CART_KEY } from '../cart.js';
import type { ClusterState } from '../cluster.js';
import type { Device } from '../device.js';
import type { Page } from '../page.js';
import { ClusterPanel } from './cluster-panel.js';
import { DeviceCard } from './device-card.js';
import { Inspector } from './inspector.js';
import type { Selection } from './selection.js';

// Prose stays on one line per sentence (htm, like JSX, drops a line break next to an element).
const SEVERAL = html`Switch a device <b>offline</b>, edit the cart on two devices, switch them back <b>online</b>.`;
const ONE_WINDOW = (name: string) =>
  html`This window is the device <b>${name}</b>: open the demo in another window with <code>?device=another-name</code>, take one offline, edit both.`;

// prettier-ignore
const CLUSTER = html`Each device writes through one of two relays, asking for <b>all</b>: watch a write's chips climb <b>local → relay → quorum → all</b>, then <b>kill the primary</b>.`;

/** The page: what to try, the "what just happened" line, (with --cluster) the cluster, the devices side by side, the inspector. */
export function App({ devices, page, cluster }: { devices: readonly Device[]; page: Page; cluster?: ClusterState | undefined }) {
  const [selection, setSelection] = useState<Selection>({ device: devices[0]!.name, collection: 'cart', key: CART_KEY });
  const [happened, setHappened] = useState<string | undefined>(undefined);
  useEffect(() => page.onHappened(setHappened), [page]);
  return html`
    <header class="top">
      <h1>Converge <span>offline shopping carts</span></h1>
      <!-- prettier-ignore -->
      <p class="try">
        ${cluster === undefined ? null : html`${CLUSTER}${' '}`}${devices.length === 1 ? ONE_WINDOW(devices[0]!.name) : SEVERAL}${' '}
        The correct cart merges by dots; the <span class="wrong-tag">naive</span> and <span class="wrong-tag">LWW</span> carts get the same edits and are <b>wrong on purpose</b>.
      </p>
      <p class="what-happened" aria-live="polite" data-what-happened>
        <b>What just happened:</b> ${happened ?? html`<span class="muted">nothing yet: take a device offline and back.</span>`}
      </p>
    </header>
    ${cluster === undefined ? null : html`<${ClusterPanel} cluster=${cluster} devices=${devices} />`}
    <main class=${devices.length === 1 ? 'devices single' : 'devices'} style=${`--devices: ${devices.length}`}>
      ${devices.map((device) => html`<${DeviceCard} key=${device.name} device=${device} inspect=${setSelection} />`)}
    </main>
    <${Inspector} devices=${devices} selection=${selection} inspect=${setSelection} names=${page.names} />
  `;
}
