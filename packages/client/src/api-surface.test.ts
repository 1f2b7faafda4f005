// The published declarations of @converge/client list only the documented API: the names the
// package's index.d.ts exports, and the public members of each class it declares, are exactly
// the list in docs/CLIENT.md ("API surface"), and every Client member is named in the README's
// "Client" section. The declarations are emitted here, in memory, from the source.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const src = join(root, 'packages/client/src');

/** The declaration files tsc writes for the client's source, by the source path they come from. */
function emitDeclarations(): Map<string, string> {
  const config = ts.getParsedCommandLineOfConfigFile(join(root, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined });
  if (config === undefined) throw new Error('tsconfig.json could not be read');
  const options: ts.CompilerOptions = {
    ...config.options,
    noEmit: false,
    declaration: true,
    emitDeclarationOnly: true,
    declarationMap: false,
    sourceMap: false,
    outDir: join(root, '.api-surface'),
    rootDir: root,
  };
  const program = ts.createProgram([join(src, 'index.ts')], options);
  const out = new Map<string, string>();
  program.emit(undefined, (fileName, text) => {
    const source = resolve(root, fileName.slice(join(root, '.api-surface').length + 1)).replace(/\.d\.ts$/, '.ts');
    if (source.startsWith(src)) out.set(source, text);
  });
  if (!out.has(join(src, 'index.ts'))) throw new Error('no declarations were emitted');
  return out;
}

interface Surface {
  /** Every name index.d.ts exports. */
  readonly names: Set<string>;
  /** Public members of each exported class declared in the client. */
  readonly members: Map<string, Set<string>>;
}

const isPrivate = (node: ts.Node) =>
  (ts.canHaveModifiers(node) ? (ts.getModifiers(node) ?? []) : []).some(
    (m) => m.kind === ts.SyntaxKind.PrivateKeyword || m.kind === ts.SyntaxKind.ProtectedKeyword,
  );

/** Follows `export { name } from './x.js'` from `file` to the class it declares there, if any. */
function findClass(declarations: Map<string, string>, file: string, name: string, depth = 0): ts.ClassDeclaration | undefined {
  const text = declarations.get(file);
  if (text === undefined || depth > 10) return undefined;
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  for (const statement of sf.statements) {
    if (ts.isClassDeclaration(statement) && statement.name?.text === name) return statement;
    if (
      ts.isExportDeclaration(statement) &&
      statement.moduleSpecifier !== undefined &&
      statement.exportClause !== undefined &&
      ts.isNamedExports(statement.exportClause)
    ) {
      for (const element of statement.exportClause.elements) {
        if (element.name.text !== name) continue;
        const target = resolve(dirname(file), (statement.moduleSpecifier as ts.StringLiteral).text.replace(/\.js$/, '.ts'));
        return findClass(declarations, target, (element.propertyName ?? element.name).text, depth + 1);
      }
    }
  }
  return undefined;
}

function surfaceOf(declarations: Map<string, string>): Surface {
  const index = join(src, 'index.ts');
  const sf = ts.createSourceFile(index, declarations.get(index)!, ts.ScriptTarget.Latest, true);
  const names = new Set<string>();
  const members = new Map<string, Set<string>>();
  for (const statement of sf.statements) {
    if (!ts.isExportDeclaration(statement)) continue;
    if (statement.exportClause === undefined || !ts.isNamedExports(statement.exportClause)) throw new Error('index.ts must name its exports (no export *)');
    for (const element of statement.exportClause.elements) {
      names.add(element.name.text);
      if (statement.isTypeOnly || element.isTypeOnly) continue;
      const target = resolve(dirname(index), (statement.moduleSpecifier as ts.StringLiteral).text.replace(/\.js$/, '.ts'));
      const declaration = findClass(declarations, target, (element.propertyName ?? element.name).text);
      if (declaration === undefined) continue;
      const publicMembers = new Set<string>();
      for (const member of declaration.members) {
        if (member.name === undefined || isPrivate(member) || ts.isPrivateIdentifier(member.name)) continue;
        publicMembers.add(member.name.getText());
      }
      members.set(element.name.text, publicMembers);
    }
  }
  return { names, members };
}

/** The "API surface" list of docs/CLIENT.md: `- \`Name\`` or `- \`Name\`: \`member\`, \`member\`, …`. */
function documented(): Surface {
  const text = readFileSync(join(root, 'docs/CLIENT.md'), 'utf8');
  const section = /\n## API surface\n([\s\S]*?)(?:\n## |$)/.exec(text)?.[1];
  if (section === undefined) throw new Error('docs/CLIENT.md has no "API surface" section');
  const names = new Set<string>();
  const members = new Map<string, Set<string>>();
  for (const line of section.split('\n')) {
    const match = /^- `(\w+)`(?:: (.*))?$/.exec(line.trim());
    if (match === null) continue;
    names.add(match[1]!);
    if (match[2] !== undefined) members.set(match[1]!, new Set([...match[2].matchAll(/`(\w+)`/g)].map((m) => m[1]!)));
  }
  return { names, members };
}

const sorted = (set: Set<string> | undefined) => [...(set ?? [])].sort();

describe('the published API of @converge/client', () => {
  let published: Surface;
  beforeAll(() => {
    published = surfaceOf(emitDeclarations());
  }, 60_000);

  it('index.d.ts exports exactly the names docs/CLIENT.md lists', () => {
    expect(sorted(published.names)).toEqual(sorted(documented().names));
  });

  it('each class the client declares shows exactly the public members docs/CLIENT.md lists (no internals)', () => {
    const docs = documented();
    for (const [name, members] of published.members) expect(sorted(members), name).toEqual(sorted(docs.members.get(name)));
    expect(sorted(new Set(published.members.keys()))).toEqual(sorted(new Set(docs.members.keys())));
  });

  it('Client shows none of what its parts hold', () => {
    for (const internal of ['replica', 'commit', 'recall', 'remember', 'leaderRead', 'start', 'watch', 'engine', 'tabs']) {
      expect(published.members.get('Client')?.has(internal), internal).toBe(false);
    }
  });

  it("every Client member is named in the README's Client section", () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const client = /\n## Client\n([\s\S]*?)\n## /.exec(readme)?.[1] ?? '';
    const missing = sorted(published.members.get('Client')).filter((m) => !new RegExp(`\\b${m}\\b`).test(client));
    expect(missing).toEqual([]);
  });
});
