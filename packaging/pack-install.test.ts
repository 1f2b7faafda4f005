// The packages as users get them. Every public package is packed (`npm pack`, whose `prepack`
// builds it), and the tarballs are installed together into a fresh folder outside the workspace,
// the way they will resolve once published: sibling packages through caret ranges, better-sqlite3's
// install script approved exactly as the sync-server README tells users. There, (a) a Node script
// runs a relay in process and two clients with the memory storage and `ws`; (b) Vite builds a
// browser app for production and Chromium opens its page; (c) `tsc --strict` checks both with
// `skipLibCheck: false`. Every command is bounded in time; the folder is removed afterwards.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium, serveBrowserApp } from '@converge/client/testing';
import { createRelay, MemoryStore } from '@converge/sync-server';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installConsumer, packPublicPackages, type PackedPackage } from './consumer-install.js';
import { readmeBlock } from './readme-blocks.js';
import { runCommand, userEnvironment, type CommandResult } from './run-command.js';
import { importedPackages } from './tarball-imports.js';

const workspace = fileURLToPath(new URL('..', import.meta.url));
const INSTALL_TIMEOUT_MS = 8 * 60_000;
const STEP_TIMEOUT_MS = 3 * 60_000;

const env = userEnvironment(workspace);
let root: string;
let app: string;
let packages: PackedPackage[] = [];
let install: CommandResult | undefined;
/** `tsc -p tsconfig.node.json`: type-checks the Node scripts and emits them (even with type errors) to out/. */
let nodeBuild: CommandResult | undefined;

/** The `allowScripts` the sync-server README tells users to put in their package.json. */
function readmeAllowScripts(): Record<string, boolean> {
  const readme = readFileSync(join(workspace, 'packages/sync-server/README.md'), 'utf8');
  const block = readmeBlock(readme, 'json', (code) => code.includes('"allowScripts"'));
  return (JSON.parse(block) as { allowScripts: Record<string, boolean> }).allowScripts;
}

function installed(): void {
  if (install?.code !== 0) throw new Error(`the install failed:\n${install?.output ?? '(not run)'}`);
}

const run = (command: string, args: readonly string[], timeoutMs = STEP_TIMEOUT_MS) => runCommand(command, args, { cwd: app, env, timeoutMs });

beforeAll(
  async () => {
    root = mkdtempSync(join(tmpdir(), 'converge-pack-install-'));
    app = join(root, 'app');
    packages = await packPublicPackages(workspace, join(root, 'tarballs'), env);
    install = await installConsumer({
      workspace,
      folder: app,
      sources: fileURLToPath(new URL('./consumer', import.meta.url)),
      packages,
      allowScripts: readmeAllowScripts(),
      env,
      timeoutMs: INSTALL_TIMEOUT_MS,
    });
    if (install.code !== 0) return;
    // The client README's "In Node" example is type-checked with the script.
    const readme = readFileSync(join(workspace, 'packages/client/README.md'), 'utf8');
    writeFileSync(
      join(app, 'node', 'readme-in-node.ts'),
      readmeBlock(readme, 'ts', (_code, heading) => heading === 'In Node'),
    );
    nodeBuild = await run('node_modules/.bin/tsc', ['-p', 'tsconfig.node.json']);
  },
  INSTALL_TIMEOUT_MS + 2 * STEP_TIMEOUT_MS,
);

afterAll(() => {
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
});

describe('the packed tarballs', () => {
  it('are every public package, each with only what users need: README, LICENSE, package.json, dist (and the bin)', () => {
    expect(packages.map((pkg) => pkg.manifest.name).sort()).toEqual([
      '@converge/client',
      '@converge/conflict',
      '@converge/protocol',
      '@converge/react',
      '@converge/sync-server',
    ]);
    for (const pkg of packages) {
      const unexpected = pkg.files.filter((file) => !/^(README\.md|LICENSE|package\.json|dist\/.+\.(js|js\.map|d\.ts)|bin\/[\w-]+\.js)$/.test(file));
      expect(unexpected, pkg.manifest.name).toEqual([]);
      expect(
        pkg.files.filter((file) => /\.test\.|test-support|relay-tests|crash-writer/.test(file)),
        pkg.manifest.name,
      ).toEqual([]);
      expect(pkg.files, pkg.manifest.name).toEqual(expect.arrayContaining(['README.md', 'LICENSE', 'package.json', 'dist/index.js', 'dist/index.d.ts']));
    }
  });

  it('declare every package their code imports: dependencies for the library, optional peers only for ./testing', () => {
    for (const pkg of packages) {
      const { name, dependencies = {}, peerDependencies = {}, peerDependenciesMeta = {} } = pkg.manifest;
      const required = new Set([
        name,
        ...Object.keys(dependencies),
        ...Object.keys(peerDependencies).filter((peer) => peerDependenciesMeta[peer]?.optional !== true),
      ]);
      const declared = new Set([...required, ...Object.keys(peerDependencies)]);
      for (const file of pkg.files.filter((path) => path.endsWith('.js') && path.startsWith('dist/'))) {
        const imports = importedPackages(readFileSync(join(pkg.unpacked, file), 'utf8'));
        const allowed = file.startsWith('dist/testing/') ? declared : required;
        expect(
          imports.filter((imported) => !allowed.has(imported)),
          `${name}/${file}`,
        ).toEqual([]);
      }
    }
  });

  it('depend on their sibling packages through caret ranges of the packed versions', () => {
    const versions = new Map(packages.map((pkg) => [pkg.manifest.name, pkg.manifest.version]));
    const siblingRanges = packages.flatMap((pkg) =>
      Object.entries({ ...pkg.manifest.dependencies, ...pkg.manifest.peerDependencies })
        .filter(([dependency]) => versions.has(dependency))
        .map(([dependency, range]) => ({ from: pkg.manifest.name, dependency, range })),
    );
    expect(siblingRanges.length).toBeGreaterThanOrEqual(6);
    for (const { from, dependency, range } of siblingRanges) expect(range, `${from} → ${dependency}`).toBe(`^${versions.get(dependency)}`);
  });

  it('ship source maps that carry their sources (the TypeScript sources are not in the tarball)', () => {
    for (const pkg of packages) {
      const maps = pkg.files.filter((file) => file.endsWith('.js.map'));
      expect(maps.length, pkg.manifest.name).toBeGreaterThan(0);
      for (const file of maps) {
        const map = JSON.parse(readFileSync(join(pkg.unpacked, file), 'utf8')) as { sources: string[]; sourcesContent?: (string | null)[] };
        expect(map.sourcesContent?.length, `${pkg.manifest.name}/${file}`).toBe(map.sources.length);
        expect(
          map.sourcesContent!.every((content) => typeof content === 'string'),
          `${pkg.manifest.name}/${file}`,
        ).toBe(true);
      }
    }
  });
});

describe('installed together into a fresh folder', () => {
  it(
    "installs with better-sqlite3's install script approved by the allowScripts of the sync-server README, one copy of each package",
    async () => {
      expect(install?.code, install?.output).toBe(0);
      expect(existsSync(join(app, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node'))).toBe(true);
      const tree = await run('npm', ['ls', '--all'], 60_000);
      expect(tree.code, tree.output).toBe(0);
      // One copy of each: the siblings' caret ranges are met by the tarballs, nothing is nested.
      for (const pkg of packages) expect(existsSync(join(app, 'node_modules', pkg.manifest.name, 'node_modules/@converge')), pkg.manifest.name).toBe(false);
    },
    60_000 + 10_000,
  );

  it(
    'type-checks the Node script, the README example and the browser app under --strict with skipLibCheck: false',
    async () => {
      installed();
      expect(nodeBuild?.code, nodeBuild?.output).toBe(0);
      const web = await run('node_modules/.bin/tsc', ['-p', 'tsconfig.web.json']);
      expect(web.code, web.output).toBe(0);
    },
    STEP_TIMEOUT_MS + 10_000,
  );

  it(
    'runs in Node: a relay in process, two clients with the memory storage and ws write offline, sync, and both read both versions',
    async () => {
      installed();
      expect(existsSync(join(app, 'out/sync.js')), nodeBuild?.output).toBe(true);
      const script = await run('node', ['out/sync.js'], 2 * 60_000);
      expect(script.code, script.output).toBe(0);
      const line = /^RESULT (.*)$/m.exec(script.stdout);
      expect(line, script.output).not.toBeNull();
      const both = ['from the laptop', 'from the phone'];
      expect(JSON.parse(line![1]!)).toEqual({ pendingBefore: [1, 1], pendingAfter: [0, 0], laptop: both, phone: both });
    },
    2 * 60_000 + 10_000,
  );

  it(
    'runs the converge-relay command',
    async () => {
      installed();
      const help = await run('node_modules/.bin/converge-relay', ['--help'], 60_000);
      expect(help.code, help.output).toBe(0);
      expect(help.stdout).toMatch(/converge-relay/);
    },
    60_000 + 10_000,
  );

  it(
    'builds a browser app with Vite for production, whose page in Chromium writes to IndexedDB and syncs with the relay',
    async () => {
      installed();
      const build = await run('node_modules/.bin/vite', ['build'], STEP_TIMEOUT_MS);
      expect(build.code, build.output).toBe(0);
      expect(build.output).not.toMatch(/externalized for browser compatibility|warning/i);
      const dist = join(app, 'dist');
      const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' };
      const files: Record<string, readonly [string, string]> = {};
      for (const file of readdirSync(dist, { recursive: true, encoding: 'utf8' })) {
        const path = join(dist, file);
        if (!existsSync(path) || !extname(path)) continue;
        files[`/${relative(dist, path)}`] = [types[extname(path)] ?? 'application/octet-stream', readFileSync(path, 'utf8')];
      }
      files['/'] = files['/index.html']!;
      const relay = createRelay({ store: new MemoryStore(), logger: pino({ level: 'silent' }), cursorSecret: 'pack-install' });
      const site = await serveBrowserApp(files, (server) => relay.attach(server, { path: '/sync' }));
      const browser = await launchChromium();
      try {
        const page = await browser.page(`${site.origin}/`);
        const result = async () => {
          await page.waitForFunction(() => document.querySelector('output')?.value !== '', undefined, { timeout: 30_000 });
          return JSON.parse(await page.evaluate(() => document.querySelector('output')!.value)) as unknown;
        };
        expect(await result()).toEqual({ visits: 1, level: 'relay', storage: 'indexeddb' });
        await page.reload();
        expect(await result()).toEqual({ visits: 2, level: 'relay', storage: 'indexeddb' });
        expect(browser.errors).toEqual([]);
      } finally {
        await browser.close();
        browser.removeProfile();
        await relay.close();
        await site.close();
      }
    },
    STEP_TIMEOUT_MS + 2 * 60_000,
  );
});
