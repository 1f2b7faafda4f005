import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync, type Dirent } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join, relative } from 'node:path';
import { runCommand, type CommandResult } from './run-command.js';

export interface PackageManifest {
  readonly name: string;
  readonly version: string;
  readonly private?: boolean;
  readonly dependencies?: Readonly<Record<string, string>>;
  readonly peerDependencies?: Readonly<Record<string, string>>;
  readonly peerDependenciesMeta?: Readonly<Record<string, { readonly optional?: boolean }>>;
}

export interface PackedPackage {
  /** The workspace folder, e.g. `packages/client`. */
  readonly folder: string;
  readonly tarball: string;
  /** Where the tarball was unpacked: its `package/` folder. */
  readonly unpacked: string;
  /** The package.json inside the tarball. */
  readonly manifest: PackageManifest;
  /** Paths inside the tarball, relative to `package/`, sorted. */
  readonly files: readonly string[];
}

/** The workspace's public packages (every packages/* not marked private), as folders. */
export function publicPackageFolders(workspace: string): string[] {
  return readdirSync(join(workspace, 'packages'))
    .map((name) => `packages/${name}`)
    .filter((folder) => {
      try {
        return (JSON.parse(readFileSync(join(workspace, folder, 'package.json'), 'utf8')) as PackageManifest).private !== true;
      } catch {
        return false;
      }
    })
    .sort();
}

const PACK_TIMEOUT_MS = 3 * 60_000;

/** `npm pack` of every public package into `destination` (each package's `prepack` builds it first). */
export async function packPublicPackages(workspace: string, destination: string, env: NodeJS.ProcessEnv): Promise<PackedPackage[]> {
  const folders = publicPackageFolders(workspace);
  mkdirSync(destination, { recursive: true });
  const packed = await runCommand('npm', ['pack', '--pack-destination', destination, ...folders.flatMap((folder) => ['-w', folder])], {
    cwd: workspace,
    env,
    timeoutMs: PACK_TIMEOUT_MS,
  });
  if (packed.code !== 0) throw new Error(`npm pack failed:\n${packed.output}`);
  return Promise.all(
    folders.map(async (folder) => {
      const { name, version } = JSON.parse(readFileSync(join(workspace, folder, 'package.json'), 'utf8')) as PackageManifest;
      const tarball = join(destination, `${name.replace(/^@/, '').replace('/', '-')}-${version}.tgz`);
      const into = join(destination, basename(folder));
      mkdirSync(into);
      const untar = await runCommand('tar', ['-xzf', tarball, '-C', into], { cwd: destination, env, timeoutMs: 60_000 });
      if (untar.code !== 0) throw new Error(`unpacking ${tarball} failed:\n${untar.output}`);
      const unpacked = join(into, 'package');
      const files = (readdirSync(unpacked, { recursive: true, withFileTypes: true }) as Dirent[])
        .filter((entry) => entry.isFile())
        .map((entry) => relative(unpacked, join(entry.parentPath, entry.name)))
        .sort();
      return { folder, tarball, unpacked, manifest: JSON.parse(readFileSync(join(unpacked, 'package.json'), 'utf8')) as PackageManifest, files };
    }),
  );
}

/** The version of a package installed in the workspace: what the npm cache holds. */
export function workspaceVersion(workspace: string, name: string): string {
  const require = createRequire(join(workspace, 'package.json'));
  return (JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as PackageManifest).version;
}

export interface ConsumerOptions {
  readonly workspace: string;
  /** Where the app is laid out and installed: a fresh folder outside the workspace. */
  readonly folder: string;
  /** The app's sources, copied into `folder`. */
  readonly sources: string;
  readonly packages: readonly PackedPackage[];
  /** The `allowScripts` of the app's package.json. */
  readonly allowScripts: Readonly<Record<string, boolean>>;
  readonly env: NodeJS.ProcessEnv;
  readonly timeoutMs: number;
}

/**
 * Lays out an app as a user would: its sources, a package.json that depends on every tarball
 * (`file:`) and on `ws`, with TypeScript, Vite and Node's types as dev dependencies
 * (the workspace's versions, so the npm cache has them), then `npm install --strict-allow-scripts`:
 * an install script that `allowScripts` does not cover fails the install.
 */
export async function installConsumer(options: ConsumerOptions): Promise<CommandResult> {
  const { workspace, folder, env } = options;
  cpSync(options.sources, folder, { recursive: true });
  const version = (name: string) => workspaceVersion(workspace, name);
  const manifest = {
    name: 'converge-consumer',
    private: true,
    type: 'module',
    allowScripts: options.allowScripts,
    dependencies: {
      ...Object.fromEntries(options.packages.map((pkg) => [pkg.manifest.name, `file:${pkg.tarball}`])),
      ws: `^${version('ws')}`,
    },
    // No @types/ws: the relay's declarations use ws's types, so @converge/sync-server depends on them.
    devDependencies: Object.fromEntries(['typescript', 'vite', '@types/node'].map((name) => [name, version(name)])),
  };
  writeFileSync(join(folder, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return runCommand('npm', ['install', '--prefer-offline', '--strict-allow-scripts', '--no-audit', '--no-fund'], {
    cwd: folder,
    env,
    timeoutMs: options.timeoutMs,
  });
}
