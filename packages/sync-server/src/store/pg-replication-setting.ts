import { ConvergeError } from '@converge/conflict';

/**
 * `synchronous_standby_names` as PostgreSQL reads it. `ANY k (…)` waits for any k of the named
 * standbys (quorum); `FIRST k (…)`, `k (…)` and a bare list (`s1, s2`, meaning `FIRST 1`) wait for
 * the k connected standbys that come first in the list. `*` names any standby. Names match
 * `application_name` case-insensitively.
 */
export interface SynchronousSetting {
  readonly method: 'ANY' | 'FIRST';
  /** How many standbys must confirm a synchronous commit (≥ 1). */
  readonly k: number;
  readonly names: readonly string[];
}

/**
 * Parses `synchronous_standby_names` with PostgreSQL's grammar (syncrep_gram.y, syncrep_scanner.l):
 * names are identifiers, numbers, `*` or double-quoted (`""` for a quote); ANY and FIRST in any
 * case. `''` → `null`: no synchronous standby, a synchronous commit waits for nobody.
 * Throws a ConvergeError `internal` on text PostgreSQL itself would refuse.
 *
 * @example
 * ```ts
 * parseSynchronousStandbyNames('ANY 1 (s1, s2)'); // → { method: 'ANY', k: 1, names: ['s1', 's2'] }
 * parseSynchronousStandbyNames('s1, "S 2"'); // → { method: 'FIRST', k: 1, names: ['s1', 'S 2'] }
 * parseSynchronousStandbyNames(''); // → null
 * ```
 */
export function parseSynchronousStandbyNames(text: string): SynchronousSetting | null {
  if (text === '') return null;
  const tokens = tokenize(text);
  let at = 0;
  const peek = () => tokens[at];
  const take = () => tokens[at++];
  const refuse = (why: string): never => {
    throw new ConvergeError('internal', `cannot read synchronous_standby_names ${JSON.stringify(text)}: ${why}`);
  };
  const list = (): string[] => {
    const names: string[] = [];
    for (;;) {
      const token = take();
      if (token?.kind !== 'name' && token?.kind !== 'number') return refuse('a standby name was expected');
      names.push(token.text);
      if (peek()?.kind !== ',') return names;
      take();
    }
  };
  const counted = (method: 'ANY' | 'FIRST'): SynchronousSetting => {
    const count = take();
    if (count?.kind !== 'number') return refuse(`a number was expected after ${method}`);
    if (take()?.kind !== '(') return refuse("'(' was expected");
    const names = list();
    if (take()?.kind !== ')') return refuse("')' was expected");
    return { method, k: positive(count.text, refuse), names };
  };
  let setting: SynchronousSetting;
  const first = peek();
  if (first?.kind === 'ANY' || first?.kind === 'FIRST') {
    take();
    setting = counted(first.kind);
  } else if (first?.kind === 'number' && tokens[at + 1]?.kind === '(') {
    setting = counted('FIRST');
  } else {
    setting = { method: 'FIRST', k: 1, names: list() };
  }
  if (at !== tokens.length) refuse('unexpected text after the standby list');
  return setting;
}

/** Whether a standby's `application_name` is one the setting names (`*` names every standby). */
export function namesStandby(setting: SynchronousSetting, applicationName: string): boolean {
  const name = applicationName.toLowerCase();
  return setting.names.some((candidate) => candidate === '*' || candidate.toLowerCase() === name);
}

/** The setting written back in PostgreSQL's syntax, names quoted where they must be. */
export function formatSynchronousStandbyNames(setting: SynchronousSetting | null): string {
  if (setting === null) return '';
  const names = setting.names.map((name) =>
    name === '*' || (/^[A-Za-z\u0080-\uffff_][A-Za-z\u0080-\uffff_0-9$]*$/.test(name) && !/^(any|first)$/i.test(name))
      ? name
      : `"${name.replaceAll('"', '""')}"`,
  );
  return `${setting.method} ${setting.k} (${names.join(', ')})`;
}

type Token = { readonly kind: 'name' | 'number'; readonly text: string } | { readonly kind: 'ANY' | 'FIRST' | ',' | '(' | ')'; readonly text?: undefined };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let at = 0;
  while (at < text.length) {
    const rest = text.slice(at);
    const space = /^[ \t\n\r\f\v]+/.exec(rest);
    if (space) {
      at += space[0].length;
      continue;
    }
    const char = rest[0]!;
    if (char === ',' || char === '(' || char === ')') {
      tokens.push({ kind: char });
      at += 1;
      continue;
    }
    if (char === '*') {
      tokens.push({ kind: 'name', text: '*' });
      at += 1;
      continue;
    }
    if (char === '"') {
      let name = '';
      let end = 1;
      for (;;) {
        const quote = rest.indexOf('"', end);
        if (quote < 0) throw new ConvergeError('internal', `cannot read synchronous_standby_names ${JSON.stringify(text)}: unterminated quoted name`);
        name += rest.slice(end, quote);
        if (rest[quote + 1] === '"') {
          name += '"';
          end = quote + 2;
        } else {
          end = quote + 1;
          break;
        }
      }
      tokens.push({ kind: 'name', text: name });
      at += end;
      continue;
    }
    const number = /^[0-9]+/.exec(rest);
    if (number) {
      tokens.push({ kind: 'number', text: number[0] });
      at += number[0].length;
      continue;
    }
    // An identifier starts with a letter, '_' or a non-ASCII character; digits and '$' may follow.
    const word = /^[A-Za-z\u0080-\uffff_][A-Za-z\u0080-\uffff_0-9$]*/.exec(rest);
    if (word) {
      const upper = word[0].toUpperCase();
      tokens.push(upper === 'ANY' || upper === 'FIRST' ? { kind: upper } : { kind: 'name', text: word[0] });
      at += word[0].length;
      continue;
    }
    throw new ConvergeError('internal', `cannot read synchronous_standby_names ${JSON.stringify(text)}: unexpected ${JSON.stringify(char)}`);
  }
  return tokens;
}

function positive(text: string, refuse: (why: string) => never): number {
  const k = Number(text);
  if (!Number.isSafeInteger(k) || k < 1) return refuse(`the number of synchronous standbys must be at least 1, not ${text}`);
  return k;
}
