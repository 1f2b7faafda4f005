import { html } from 'htm/preact';
import type { Doc } from '@converge/client';
import { badgeOf } from './format.js';

const TITLES = {
  pending: 'pending: a local write not yet held by the relay',
  confirmed: 'confirmed: the relay holds this value',
};

/** The confirmed / pending badge every shown value carries. */
export function StateBadge({ doc }: { doc: Pick<Doc<unknown>, 'pending'> | undefined }) {
  const badge = badgeOf(doc);
  if (badge === undefined) return null;
  return badge === 'confirmed'
    ? html`<span class="badge confirmed" title=${TITLES.confirmed} data-badge="confirmed">✓<span class="sr-only"> confirmed</span></span>`
    : html`<span class="badge pending" title=${TITLES.pending} data-badge="pending">pending</span>`;
}
