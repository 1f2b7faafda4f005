// Where every suite that generates its own tables keeps them: `bench/results/latest.json` holds
// the latest results of each suite under the suite's name (a suite run alone replaces only its
// own entry), and bench/RESULTS.md holds each suite's generated Markdown between the markers
// `<!-- <suite>:begin -->` and `<!-- <suite>:end -->` (appended under `## <heading>` when missing).
import { cpus, loadavg } from 'node:os';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';

export const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));
const LATEST = fileURLToPath(new URL('./results/latest.json', import.meta.url));
const RESULTS_MD = fileURLToPath(new URL('./RESULTS.md', import.meta.url));

/** What every suite records about the run it made: when, on what, under which load. */
export interface RunFacts {
  readonly startedAt: string;
  /** The commit measured (`git rev-parse --short HEAD`), marked when packages/ had uncommitted changes. */
  readonly commit: string;
  readonly seconds: number;
  readonly machine: { readonly cpu: string; readonly cores: number; readonly node: string; readonly platform: string };
  /** 1, 5 and 15-minute load averages at the start and the end of the run. */
  readonly loadavg: { readonly start: readonly number[]; readonly end: readonly number[] };
}

export function measuredCommit(): string {
  const cwd = fileURLToPath(new URL('.', import.meta.url));
  const git = (...args: string[]) => spawnSync('git', args, { cwd, encoding: 'utf8' }).stdout?.trim() ?? '';
  const head = git('rev-parse', '--short', 'HEAD') || 'unknown commit';
  return git('status', '--porcelain', '--', '../packages') === '' ? head : `${head} with uncommitted changes in packages/`;
}

/** Starts recording a run's facts; `end()` returns them with the elapsed time and the load at the end. */
export function startRun(): { end(): RunFacts } {
  const started = Date.now();
  const start = loadavg();
  return {
    end: () => ({
      startedAt: new Date(started).toISOString(),
      commit: measuredCommit(),
      seconds: (Date.now() - started) / 1000,
      machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version, platform: `${process.platform} ${process.arch}` },
      loadavg: { start, end: loadavg() },
    }),
  };
}

export const loadText = (l: readonly number[]) => l.map((x) => x.toFixed(2)).join(' / ');

/** One line of machine facts and load for a generated section. */
export function factsLine(facts: RunFacts): string {
  return (
    `Run ${facts.startedAt} (${Math.round(facts.seconds)} s) of ${facts.commit} · ${facts.machine.cpu} × ${facts.machine.cores} · node ${facts.machine.node} · ` +
    `load average (1 / 5 / 15 min) ${loadText(facts.loadavg.start)} at start, ${loadText(facts.loadavg.end)} at end.`
  );
}

function readLatest(): Record<string, unknown> {
  if (!existsSync(LATEST)) return {};
  const parsed = JSON.parse(readFileSync(LATEST, 'utf8')) as Record<string, unknown>;
  // Before every suite kept its entry here, the file held the peers suite's results alone.
  return typeof parsed['startedAt'] === 'string' ? { peers: parsed } : parsed;
}

/** The latest results `suite` saved, if any. */
export function loadSuiteResults<T>(suite: string): T | undefined {
  return readLatest()[suite] as T | undefined;
}

/** Replaces `suite`'s entry in bench/results/latest.json, keeping every other suite's. */
export function saveSuiteResults(suite: string, results: unknown): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const latest = readLatest();
  latest[suite] = results;
  const ordered = Object.fromEntries(Object.keys(latest).map((k) => [k, latest[k]]));
  writeFileSync(LATEST, `${JSON.stringify(ordered, null, 2)}\n`);
}

/**
 * Replaces what lies between `suite`'s markers in bench/RESULTS.md (appends a `## heading`
 * section holding them when missing), formatted as the repository's Prettier config formats it.
 */
export async function rewriteSection(suite: string, heading: string, markdown: string): Promise<void> {
  const begin = `<!-- ${suite}:begin -->`;
  const end = `<!-- ${suite}:end -->`;
  const text = readFileSync(RESULTS_MD, 'utf8');
  const section = `${begin}\n\n${markdown}\n\n${end}`;
  const at = text.indexOf(begin);
  const until = text.indexOf(end);
  const next = at >= 0 && until > at ? text.slice(0, at) + section + text.slice(until + end.length) : `${text.trimEnd()}\n\n## ${heading}\n\n${section}\n`;
  const config = await resolveConfig(RESULTS_MD);
  writeFileSync(RESULTS_MD, await format(next, { ...config, filepath: RESULTS_MD }));
}
