import type { ErrorFrame, ReadDoc, ReadFrame, ReadResultFrame, RelayLimits } from '@converge/protocol';
import { FRAME_ENVELOPE_BYTES } from '../relay-limits.js';
import { parseStored } from '../stored-state.js';
import type { StoreReads } from '../store/relay-store.js';
import { docEnvelopeBytes } from './frame-packing.js';

/**
 * The answer to a `read`: every key in one `read-result`, or an `error` frame — `forbidden`
 * for a key the principal may not read, `payload_too_large` when the answer would exceed
 * `maxFrameBytes`. Sizes come from the stored texts as the keys are read, so no answer above
 * the limit is ever built.
 */
export async function answerRead(
  store: Pick<StoreReads, 'get'>,
  limits: RelayLimits,
  frame: ReadFrame,
  readable: (key: string) => boolean,
): Promise<ReadResultFrame | ErrorFrame> {
  const { id, collection, keys } = frame;
  const denied = keys.find((key) => !readable(key));
  if (denied !== undefined) return { type: 'error', code: 'forbidden', message: `may not read ${collection}/${denied}`, id, collection };
  const budget = limits.maxFrameBytes - FRAME_ENVELOPE_BYTES;
  let bytes = 0;
  const docs: ReadDoc[] = [];
  const found = await Promise.all(keys.map((key) => store.get(collection, key)));
  for (const [i, key] of keys.entries()) {
    const doc = found[i];
    bytes += (doc === undefined ? 4 : Buffer.byteLength(doc.state)) + docEnvelopeBytes(key);
    if (bytes > budget) {
      const message = `the answer to read ${id} would exceed maxFrameBytes (${limits.maxFrameBytes}): read fewer keys at a time`;
      return { type: 'error', code: 'payload_too_large', message, id, collection };
    }
    docs.push({ key, seq: doc?.seq ?? 0, state: doc === undefined ? null : parseStored(doc) });
  }
  return { type: 'read-result', id, collection, docs };
}
