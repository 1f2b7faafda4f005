export { ERROR_CODES, ConvergeError, AckTimeoutError, QuorumUnavailableError, isErrorCode, ok, fail } from './errors.js';
export type { ErrorCode, ConvergeErrorOptions, Result } from './errors.js';

export { replicaIdFromBytes, replicaIdProblem, isReplicaId, RESERVED_NAMES, MAX_REPLICA_ID_LENGTH } from './replica-id.js';
export type { ReplicaId } from './replica-id.js';

export { compareDots, sameDot, dotKey, dotProblem, isCounter } from './dot.js';
export type { Dot } from './dot.js';

export { EMPTY_VECTOR, vectorFrom, sortedVector, covers, compareVectors, mergeVectors } from './version-vector.js';
export type { VersionVector, Ordering } from './version-vector.js';

export {
  EMPTY_CONTEXT,
  contextHas,
  maxCounter,
  compact,
  contextFromDots,
  addDot,
  unionContexts,
  firstUnseenDot,
  containsContext,
  contextsEqual,
  contextSize,
} from './causal-context.js';
export type { CausalContext } from './causal-context.js';

export { compareHlc, createHlcClock, hlcProblem, isTooFarAhead, MAX_LOGICAL, MAX_WALL } from './hlc.js';
export type { Hlc, HlcClock, HlcClockOptions } from './hlc.js';

export { canonical, deepEqual } from './canonical.js';

export {
  emptyDocState,
  isTombstone,
  compareSiblings,
  nextDot,
  writeDoc,
  mergeDocStates,
  adoptOrMerge,
  simpleSibling,
  simpleState,
  liveSiblings,
  siblingContent,
} from './doc-state.js';
export type { DocState, Sibling, LiveSibling, Tombstone, WriteInput, WriteResult, DotAnomaly, MergeResult } from './doc-state.js';

export { validateContext, validateDocState } from './validate.js';
export type { ValidateOptions } from './validate.js';

export { encodeContext, decodeContext, encodeDocState, decodeDocState, encodeDocStateBatch, decodeDocStateBatch } from './encoding.js';
export type { ContextJson, SiblingJson, DocStateJson, DocStateBatchJson } from './encoding.js';
export { encodeIndexedState, decodeIndexedState } from './indexed-state.js';
export type { IndexedStateJson } from './indexed-state.js';

export { resolve, resolveSiblings, resolveLww, resolveMerge, resolveCrdt, discardedByWrite } from './resolve.js';
export type { Resolved, MergeFn, MergeInfo, Strategy } from './resolve.js';

export type { CrdtType, CrdtState, ClearOp, AnyCrdtType } from './crdt/crdt-type.js';
export type { DotFun, DotEntry } from './crdt/dot-fun.js';
export { counter } from './crdt/counter.js';
export type { IncrementOp } from './crdt/counter.js';
export { orSet } from './crdt/or-set.js';
export type { OrSetOp } from './crdt/or-set.js';
export { register } from './crdt/register.js';
export type { RegisterEntry, SetOp } from './crdt/register.js';
export { orMap, mapKeyProblem } from './crdt/or-map.js';
export type { OrMapOp } from './crdt/or-map.js';
export { cart, lwwMap, CRDT_TYPES, STRATEGY_NAMES } from './crdt/types.js';
export type { StrategyName } from './crdt/types.js';
export { joinSiblings, readCrdt, applyCrdtOp, crdtStateToJson, crdtStateFromJson, checkCrdtWrite } from './crdt/crdt-doc.js';
export type { CrdtRead, CrdtWriteInput } from './crdt/crdt-doc.js';

export { WRITE_CHAIN_ZERO, chainWrite, chainMark, writeChainProblem } from './write-chain.js';
export type { WriteChain } from './write-chain.js';
