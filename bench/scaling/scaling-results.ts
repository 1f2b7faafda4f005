// The results of `npm run bench -- scaling`, as bench/results/latest.json keeps them: one part
// per curve, each with the facts of the run that measured it.
import type { RunFacts } from '../results-store.js';
import type { ColdOpenStage } from './cold-open.js';
import type { IdleRun } from './idle-curve.js';
import type { OfflineResults } from './offline-catchup.js';
import type { CurveResults } from './w1-curve.js';

export interface ScalingPart<T> extends RunFacts {
  readonly countedRuns: number;
  readonly full: boolean;
  readonly results: T;
}

export interface ScalingResults {
  readonly w1?: ScalingPart<CurveResults>;
  readonly idle?: ScalingPart<readonly IdleRun[]>;
  readonly offline?: ScalingPart<OfflineResults>;
  readonly cold?: ScalingPart<readonly ColdOpenStage[]>;
}
