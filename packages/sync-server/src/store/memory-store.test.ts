import { runRelayStoreTests } from '../testing/index.js';
import { MemoryStore } from './memory-store.js';

runRelayStoreTests('MemoryStore', () => new MemoryStore());
