import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { checkWrites, clusterState, killPrimary, type ClusterState, type Failover } from '../cluster.js';
import type { Device } from '../device.js';

/** What the last check after a failover found: every quorum-acked write of every device, looked up by its dot through its relay. */
interface Check {
  readonly checked: number;
  readonly lost: number;
  readonly primary: string;
}

const ROLE_TEXT = { primary: 'primary', standby: 'standby', down: 'down' } as const;
const POLL_MS = 1_000;

const quorumAcked = (devices: readonly Device[]) => devices.reduce((n, d) => n + d.quorumWrites().length, 0);

/**
 * The cluster under `npm start -- --cluster`: its nodes and roles, which device talks to which
 * relay, the "kill primary" control, and the tally of quorum-acknowledged writes — after a
 * failover each device's relay is asked, on the new primary, for every write of the device that
 * reached `quorum` or `all` (by its dot), and the page says how many it no longer holds.
 */
export function ClusterPanel({ cluster, devices }: { cluster: ClusterState; devices: readonly Device[] }) {
  const [state, setState] = useState(cluster);
  const [acked, setAcked] = useState(() => quorumAcked(devices));
  const [phase, setPhase] = useState<'idle' | 'killing' | 'checking'>('idle');
  const [failover, setFailover] = useState<Failover | undefined>(undefined);
  const [check, setCheck] = useState<Check | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);

  useEffect(() => {
    const offs = devices.map((d) => d.subscribe(() => setAcked(quorumAcked(devices))));
    return () => offs.forEach((off) => off());
  }, [devices]);
  useEffect(() => {
    let stopped = false;
    const timer = setInterval(() => {
      void clusterState().then((next) => {
        if (!stopped && next !== undefined) setState(next);
      });
    }, POLL_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, []);

  const kill = async () => {
    setError(undefined);
    setPhase('killing');
    try {
      const done = await killPrimary();
      setFailover(done);
      setPhase('checking');
      const results = await Promise.all(devices.map((d) => checkWrites(d.relayName ?? 'A', d.quorumWrites())));
      setCheck({
        checked: results.reduce((n, r) => n + r.checked, 0),
        lost: results.reduce((n, r) => n + r.lost.length, 0),
        primary: results[0]?.primary ?? done.promoted,
      });
      setState((await clusterState()) ?? state);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setPhase('idle');
    }
  };

  const last = state.failovers.at(-1) ?? failover;
  const primary = state.nodes.find((n) => n.role === 'primary');
  const standbys = state.nodes.filter((n) => n.name !== primary?.name).map((n) => n.name);
  const byRelay = state.relays.map((r) => ({ name: r.name, devices: devices.filter((d) => d.relayName === r.name).map((d) => d.name) }));
  const canKill = phase === 'idle' && !state.busy && state.nodes.every((n) => n.role !== 'down');
  return html`
    <section class="cluster" aria-label="PostgreSQL cluster" data-cluster data-primary=${primary?.name ?? ''}>
      <div class="cluster-line">
        <b>PostgreSQL</b>
        <ul class="nodes">
          ${state.nodes.map((n) => html`<li class=${`node ${n.role}`} data-node=${n.name} data-role=${n.role}>${n.name} <span>${ROLE_TEXT[n.role]}</span></li>`)}
        </ul>
        <span class="muted">synchronous_standby_names = ANY 1 (${standbys.join(', ')}): quorum is the primary and one standby</span>
        <span class="relays">${byRelay.map((r, i) => html`${i > 0 ? ' · ' : ''}relay <b>${r.name}</b>: ${r.devices.join(', ') || 'no device'}`)}</span>
      </div>
      <div class="cluster-line">
        <button class="kill" onClick=${() => void kill()} disabled=${!canKill}>
          ${phase === 'killing' ? 'killing the primary…' : phase === 'checking' ? 'checking…' : 'Kill primary'}
        </button>
        <p class="tally" aria-live="polite" data-quorum-acked=${acked} data-lost=${check?.lost ?? ''}>
          <b>${acked} quorum-acked${check === undefined ? '' : `, ${check.lost} lost`}</b>${' '}
          ${
            check === undefined
              ? html`<span class="muted">(each device checks its quorum-acked writes on the new primary after a failover)</span>`
              : html`<span class="muted">(${check.checked} checked on ${check.primary} after the failover)</span>`
          }
        </p>
      </div>
      ${
        last === undefined
          ? null
          : // prettier-ignore
            html`<p class="failover" data-failover=${last.promoted} data-rejoined=${String(last.rejoined)}>${last.killed} SIGKILLed → ${last.promoted} promoted after <b>${last.promotedMs} ms</b>; both relays writing on it after <b>${last.writableMs} ms</b>. ${last.rejoined ? `${last.killed} rejoined as a standby.` : `${last.killed} is rejoining as a standby…`}</p>`
      }
      ${error === undefined ? null : html`<p class="error" role="alert">${error}</p>`}
    </section>
  `;
}
