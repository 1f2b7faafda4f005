// What every system in the peer benchmark implements: one driver per system, in its own file
// (converge/, yjs/, pouchdb/, automerge/). The runner (peers.bench.ts) starts the relay, then
// runs each replica role in a fresh child process (role.ts), so a measured replica never
// shares a heap with another replica or with the runner.
import type { WireBytes } from './socket-bytes.js';
import type { W1Workload, W2Workload } from './workload.js';

/** A relay in a child process, fresh for every run. */
export interface RelayHandle {
  /** What the driver's replicas connect to (ws://… or http://…). */
  readonly url: string;
  readonly pid: number;
  /** Peak resident set size over the relay's life, kB (`/proc/<pid>/status` VmHWM). */
  hwmKB(): number;
  stop(): Promise<void>;
}

/** B's catch-up, measured in B's own process. */
export interface W1CatchUp {
  /** From B starting to connect to every record read as an app reads it, ms. */
  readonly ms: number;
  /** TCP bytes at B's sockets over the same span. */
  readonly bytes: WireBytes;
  /** B's CPU (user + system) over the same span, ms. */
  readonly cpuMs: number;
  /** Largest V8 heap in use in B over the span (sampled every 10 ms), bytes. */
  readonly peakHeapBytes?: number;
  /** B's peak resident set size, kB. */
  readonly maxRssKB?: number;
  /** Records B could read. */
  readonly readable: number;
  /** `touch` summed over what B read (checked against what A wrote). */
  readonly checksum: number;
}

/** W2, both replicas in one process. */
export interface W2Outcome {
  /** From both replicas starting to connect to both holding the same state, ms. */
  readonly ms: number;
  /** TCP bytes at both replicas' sockets. */
  readonly bytes: WireBytes;
  /** Concurrent values one replica keeps over all keys (both replicas checked to agree). */
  readonly kept: number;
  /** Keys each replica holds. */
  readonly keys: number;
}

export interface PeerDriver {
  /** Command-line and results name: `converge-sqlite`, `yjs`, … */
  readonly name: string;
  /** Table label: what runs, with which relay. */
  readonly label: string;
  /** A fresh relay process; `dir` is a fresh temp directory it may use. */
  startRelay(dir: string): Promise<RelayHandle>;
  readonly w1: {
    /**
     * Replica A writes every record; resolves once the relay holds them all, with what B must
     * be told to find them when the system needs telling (Automerge's document URL).
     */
    write(url: string, workload: W1Workload): Promise<string | undefined>;
    /** A fresh replica B catches up and reads every record. */
    catchUp(url: string, workload: W1Workload, found?: string): Promise<W1CatchUp>;
    /**
     * For a relay that can start on stored records (`startRelay(dir)` on a `dir` seeded here):
     * writes what A would have written straight into `dir`, in a process of its own. Systems
     * whose relay stores in `dir` anyway (Converge's SQLite) seed through `write` instead.
     */
    seed?(dir: string, workload: W1Workload): Promise<void>;
  };
  /** Both replicas edit offline, then connect; measured until both converge. */
  w2(url: string, workload: W2Workload): Promise<W2Outcome>;
}
