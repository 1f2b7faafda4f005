export { createPrng } from './prng.js';
export type { Prng } from './prng.js';
export { OracleReplica, contextDotKeys } from './oracle.js';
export type { OracleWrite } from './oracle.js';
export { SimNetwork } from './sim-network.js';
export type { SimReplica, InFlight, SimNetworkOptions, SimHooks } from './sim-network.js';
export { runRegisterHistory, runCartHistory } from './histories.js';
export type { HistoryOptions } from './histories.js';
export { arbHistoryStates, arbHistoryOptions, arbJunk } from './arbitraries.js';
