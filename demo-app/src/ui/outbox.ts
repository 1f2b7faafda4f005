import { html } from 'htm/preact';
import { useId, useState } from 'preact/hooks';
import type { Device } from '../device.js';
import type { DeviceView, RefusedWrite } from '../device-view.js';
import type { ShownStatus } from '../edit-log.js';
import { SHORT_NAMES } from '../write-labels.js';
import { clock } from './format.js';

const STATUS_TEXT: Readonly<Record<ShownStatus, string>> = {
  local: 'local',
  relay: 'relay ✓',
  quorum: 'quorum ✓',
  all: 'all ✓',
  rejected: 'refused',
  rebased: 'rebased',
  discarded: 'discarded',
  unknown: '?',
};

/** Rows the list shows until asked for all: the newest ones, each whole (a list that scrolls inside the card cuts a row, and hides that it scrolls where scrollbars only show while scrolling). */
const NEWEST = 4;

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** "1 pending (3 writes)": edits (user actions, the rows below) waiting for the relay, and their writes when they are more. */
function pendingText({ edits, writes }: DeviceView['pending']): string {
  if (writes === 0) return 'none pending';
  return `${edits} pending${writes === edits ? '' : ` (${plural(writes, 'write')})`}`;
}

/** A refused write: why, and what to do — retry (or, next to it, why it cannot be retried) or discard. */
function Refusal({ device, refused }: { device: Device; refused: RefusedWrite }) {
  const why = useId();
  const { write, explanation, noRetry } = refused;
  return html`
    <div class="refused" role="alert" data-refused=${write.key}>
      <p>${explanation}</p>
      <div class="row-actions">
        <button
          onClick=${() => device.retry(write.writeId)}
          disabled=${noRetry !== undefined}
          title=${noRetry === undefined ? 'write it again over the current value' : undefined}
          aria-describedby=${noRetry === undefined ? undefined : why}
        >
          retry
        </button>
        <button onClick=${() => device.discard(write.writeId)}>discard</button>
        ${noRetry === undefined ? null : html`<span class="why" id=${why}>no retry: ${noRetry}</span>`}
      </div>
    </div>
  `;
}

/**
 * Refused writes first (with their reason and what to do), then the edits, newest first (four, the
 * others behind a button), each write with its status climbing local → relay (the client's `writeStatus`).
 */
export function Outbox({ device, view }: { device: Device; view: DeviceView }) {
  const [all, setAll] = useState(false);
  const listId = useId();
  const older = Math.max(0, view.edits.length - NEWEST);
  const rows = all ? view.edits : view.edits.slice(0, NEWEST);
  return html`
    <section class="outbox" aria-label=${`${view.name}: outbox`}>
      <h3>Edits <span class="muted">· ${pendingText(view.pending)}</span></h3>
      ${view.refused.map((r) => html`<${Refusal} key=${r.write.writeId} device=${device} refused=${r} />`)}
      <ol class="writes" id=${listId}>
        ${rows.map(
          (row) => html`
            <li key=${row.id} data-write=${row.label}>
              <span class="label" title=${row.label}>${row.label}</span>
              <span class="chips">
                ${row.writes.map((w) => html`<span class="chip ${w.status}" title=${`${w.collection}: ${w.status === 'unknown' ? "no longer in the client's write history" : w.status}`}>${SHORT_NAMES[w.collection] ?? w.collection} ${STATUS_TEXT[w.status]}</span>`)}
              </span>
              <span class="time">${clock(row.at)}</span>
              ${row.note === undefined ? null : html`<span class="note">${row.note}</span>`}
            </li>
          `,
        )}
      </ol>
      ${
        older === 0
          ? null
          : html`<button class="link more" aria-controls=${listId} aria-expanded=${all} onClick=${() => setAll(!all)}>
              ${all ? 'show fewer' : `show ${older} older`}
            </button>`
      }
    </section>
  `;
}
