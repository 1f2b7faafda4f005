import { readFile } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConvergeError, STRATEGY_NAMES } from '@converge/conflict';
import { collectionNameProblem, COLLECTION_MODES, RELAY_LIMIT_NAMES, type CollectionDeclaration } from '@converge/protocol';
import { DEFAULT_COLLECTION } from './collections.js';
import type { RelaySettings } from './relay-options.js';

/** Every key a configuration file may hold: the fields of `RelaySettings`. */
export const RELAY_SETTING_NAMES = [
  'collections',
  'limits',
  'allowedOrigins',
  'maxConnections',
  'maxConnectionsPerPrincipal',
  'rateLimit',
  'principalRateLimit',
] as const satisfies readonly (keyof RelaySettings)[];

/**
 * Checks a config object (what `--config relay.config.{json,js}` holds); a mistake stops the
 * relay at start with the field named. A collection needs a `mode`; its `strategy` defaults to
 * `siblings`, as for a collection nobody declared.
 */
export function checkRelayConfig(raw: unknown, source: string): RelaySettings {
  const bad = (path: string, message: string) => new ConvergeError('bad_message', `${source}: ${path}: ${message}`);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad('config', 'must be an object');
  const { collections, limits, allowedOrigins, maxConnections, maxConnectionsPerPrincipal, rateLimit, principalRateLimit, ...rest } = raw as Record<
    string,
    unknown
  >;
  const unknownKey = Object.keys(rest)[0];
  if (unknownKey !== undefined) throw bad(unknownKey, `unknown setting (the settings are ${RELAY_SETTING_NAMES.join(', ')})`);
  let declared: Record<string, CollectionDeclaration> | undefined;
  if (collections !== undefined) {
    if (typeof collections !== 'object' || collections === null || Array.isArray(collections)) throw bad('collections', 'must be an object');
    declared = {};
    for (const [name, entry] of Object.entries(collections)) {
      const problem = collectionNameProblem(name);
      if (problem !== undefined) throw bad(`collections.${name}`, problem);
      if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw bad(`collections.${name}`, 'must be an object with a mode');
      const { mode, strategy = DEFAULT_COLLECTION.strategy } = entry as Record<string, unknown>;
      if (!(COLLECTION_MODES as readonly unknown[]).includes(mode)) throw bad(`collections.${name}.mode`, `must be one of ${COLLECTION_MODES.join(', ')}`);
      if (!(STRATEGY_NAMES as readonly unknown[]).includes(strategy)) throw bad(`collections.${name}.strategy`, `must be one of ${STRATEGY_NAMES.join(', ')}`);
      declared[name] = { mode, strategy } as CollectionDeclaration;
    }
  }
  if (limits !== undefined) {
    if (typeof limits !== 'object' || limits === null) throw bad('limits', 'must be an object');
    for (const [name, value] of Object.entries(limits)) {
      if (!(RELAY_LIMIT_NAMES as readonly string[]).includes(name)) throw bad(`limits.${name}`, 'unknown limit');
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) throw bad(`limits.${name}`, 'must be a positive integer');
    }
  }
  if (allowedOrigins !== undefined && (!Array.isArray(allowedOrigins) || !allowedOrigins.every((o) => typeof o === 'string'))) {
    throw bad('allowedOrigins', 'must be a list of origins');
  }
  for (const [name, value] of [
    ['maxConnections', maxConnections],
    ['maxConnectionsPerPrincipal', maxConnectionsPerPrincipal],
  ] as const) {
    if (value !== undefined && (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1)) throw bad(name, 'must be a positive integer');
  }
  for (const [name, value] of [
    ['rateLimit', rateLimit],
    ['principalRateLimit', principalRateLimit],
  ] as const) {
    if (value === undefined) continue;
    const { changesPerSecond, burst } = (value ?? {}) as Record<string, unknown>;
    for (const [field, n] of [
      ['changesPerSecond', changesPerSecond],
      ['burst', burst],
    ] as const) {
      if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0) throw bad(`${name}.${field}`, 'must be a positive number');
    }
  }
  return { ...(raw as RelaySettings), ...(declared === undefined ? {} : { collections: declared }) };
}

/** Reads and checks a configuration file (`.json`, or a module whose default export is the settings); any failure is one `bad_message` naming the file. */
export async function loadRelayConfig(file: string): Promise<RelaySettings> {
  const path = resolve(file);
  let raw: unknown;
  try {
    raw = extname(path) === '.json' ? JSON.parse(await readFile(path, 'utf8')) : ((await import(pathToFileURL(path).href)) as { default?: unknown }).default;
  } catch (error) {
    throw new ConvergeError('bad_message', `cannot read the config file ${file}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
  }
  return checkRelayConfig(raw, file);
}
