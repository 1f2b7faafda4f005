import { fail, MAX_WALL, ok, writeChainProblem, type Result, type WriteChain } from '@converge/conflict';
import { decodeCollectionMap, type CollectionInfo } from '../collection-config.js';
import { firstProblem, isJsonObject, safeIntegerProblem, type JsonObject } from '../field-checks.js';
import { RELAY_LIMIT_NAMES, type RelayLimits } from '../limits.js';
import { idProblem } from '../names.js';
import { PROTOCOL_VERSION, SUPPORTED_PROTOCOLS } from '../version.js';

/**
 * relay → client, the answer to `hello`.
 *
 * @example
 * ```json
 * {"type":"welcome","protocol":3,"relayId":"relay-1","lineage":"L9f3kQ2mZx","epoch":0,"now":1767225600000,
 *  "writeNumber":41,"writeChain":"9c1e07b2f4a85d36","replication":{"standbys":2,"quorum":1},"limits":{"maxFrameBytes":1048576,"maxChangesPerFrame":1000,"maxValueBytes":262144,
 *  "maxStateBytes":516096,"maxClockSkewMs":60000,"maxSiblingsPerKey":100,"catchupWindowBytes":1048576,"heartbeatMs":15000,"idleTimeoutMs":60000},
 *  "collections":{"carts":{"mode":"multi-leader","strategy":"cart","head":1200}}}
 * ```
 */
export interface WelcomeFrame {
  readonly type: 'welcome';
  /** The protocol version the relay chose for this connection; a client refuses one it does not speak. */
  readonly protocol: number;
  readonly relayId: string;
  /** The relay database's random id: a cursor is only meaningful within its lineage. */
  readonly lineage: string;
  /** The cluster epoch (fencing token); 0 for a single relay. */
  readonly epoch: number;
  /** The relay's wall clock in ms, for the client's clock offset. */
  readonly now: number;
  /** The highest write number the relay has seen from the hello's replica id (0: none). */
  readonly writeNumber: number;
  /**
   * The replica's write chain through `writeNumber`, as its pushes carried it ('0' for none): a
   * client whose own chain at that write number differs went back in time (identity loss).
   */
  readonly writeChain: WriteChain;
  /**
   * The database replicas behind the relay: `standbys` it is configured with, of which `quorum`
   * must confirm a write for `quorum` (0: no synchronous standby, so `quorum` and `all` are
   * unavailable and a push asking for them is confirmed at `relay` with `quorum_unavailable`).
   */
  readonly replication: Replication;
  /** True while the relay's recovery window is open (it lost data and accepts re-pushed states). */
  readonly recovery?: boolean;
  readonly limits: RelayLimits;
  /** Every configured collection with its authoritative mode and strategy and its head seq. */
  readonly collections: Readonly<Record<string, CollectionInfo>>;
}

function decodeLimits(json: unknown): Result<RelayLimits> {
  if (!isJsonObject(json)) return fail('welcome.limits', 'limits must be an object');
  const out: Record<string, number> = {};
  for (const name of RELAY_LIMIT_NAMES) {
    const value = json[name];
    const problem = safeIntegerProblem(value, name === 'maxClockSkewMs' ? 0 : 1);
    if (problem !== undefined) return fail(`welcome.limits.${name}`, problem);
    out[name] = value as number;
  }
  return ok(out as unknown as RelayLimits);
}

/** What `welcome` says of the relay's database replicas. */
export interface Replication {
  readonly standbys: number;
  readonly quorum: number;
}

function decodeReplication(json: unknown): Result<Replication> {
  if (!isJsonObject(json)) return fail('welcome.replication', 'replication must be {standbys, quorum}');
  const { standbys, quorum } = json;
  return (
    firstProblem('welcome.replication', { standbys: safeIntegerProblem(standbys, 0), quorum: safeIntegerProblem(quorum, 0, standbys as number) }) ??
    ok({ standbys: standbys as number, quorum: quorum as number })
  );
}

export function decodeWelcome(json: JsonObject, maxItems: number): Result<WelcomeFrame> {
  const { protocol, relayId, lineage, epoch, now, writeNumber, writeChain, replication, recovery, limits, collections } = json;
  const refused = firstProblem<WelcomeFrame>('welcome', {
    protocol:
      safeIntegerProblem(protocol, 1) ??
      (SUPPORTED_PROTOCOLS.includes(protocol as number)
        ? undefined
        : `protocol ${protocol as number} is not supported: this client speaks ${PROTOCOL_VERSION}`),
    relayId: idProblem(relayId),
    lineage: idProblem(lineage),
    epoch: safeIntegerProblem(epoch, 0),
    now: safeIntegerProblem(now, 0, MAX_WALL),
    writeNumber: safeIntegerProblem(writeNumber, 0),
    writeChain: writeChainProblem(writeChain),
  });
  if (refused !== undefined) return refused;
  const replicas = decodeReplication(replication);
  if (!replicas.ok) return replicas;
  if (recovery !== undefined && typeof recovery !== 'boolean') return fail('welcome.recovery', 'must be a boolean');
  const decodedLimits = decodeLimits(limits);
  if (!decodedLimits.ok) return decodedLimits;
  const infos = decodeCollectionMap<CollectionInfo>(collections, 'welcome.collections', maxItems, true);
  if (!infos.ok) return infos;
  const frame: WelcomeFrame = {
    type: 'welcome',
    protocol: protocol as number,
    relayId: relayId as string,
    lineage: lineage as string,
    epoch: epoch as number,
    now: now as number,
    writeNumber: writeNumber as number,
    writeChain: writeChain as string,
    replication: replicas.value,
    limits: decodedLimits.value,
    collections: infos.value,
  };
  return ok(recovery === undefined ? frame : { ...frame, recovery });
}
