// A package's README is its page on the registry: it must stand alone. No link may leave the
// package (the repository's docs are not in the tarball) unless it is an absolute URL, every
// in-page anchor must name a heading, and it says what to install.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { publicPackageFolders, type PackageManifest } from './consumer-install.js';
import { readmeBlocks } from './readme-blocks.js';

const workspace = fileURLToPath(new URL('..', import.meta.url));

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
function slug(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

/** Link targets of Markdown links and HTML `href`/`src` attributes, outside code. */
function linkTargets(markdown: string): string[] {
  const prose = markdown.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
  return [...prose.matchAll(/\]\(([^)\s]+)[^)]*\)|\b(?:href|src)="([^"]+)"/g)].map((match) => (match[1] ?? match[2])!);
}

describe.each(publicPackageFolders(workspace))('the README of %s', (folder) => {
  const readme = readFileSync(join(workspace, folder, 'README.md'), 'utf8');
  const { name } = JSON.parse(readFileSync(join(workspace, folder, 'package.json'), 'utf8')) as PackageManifest;

  it('links only to its own headings or to absolute URLs', () => {
    const headings = new Set(
      readme
        .replace(/^```[\s\S]*?^```/gm, '')
        .split('\n')
        .filter((line) => /^#{1,6} /.test(line))
        .map((line) => slug(line.replace(/^#+ /, ''))),
    );
    for (const target of linkTargets(readme)) {
      if (target.startsWith('#')) expect(headings, `anchor ${target}`).toContain(target.slice(1));
      else expect(target, 'a link that leaves the package').toMatch(/^https:\/\//);
    }
    expect(readme).not.toMatch(/\.\.\//);
  });

  it('says what to install', () => {
    const installs = readmeBlocks(readme).filter((block) => block.lang === 'sh' && block.code.includes('npm install'));
    expect(installs.map((block) => block.code).join('')).toMatch(new RegExp(`npm install [^\\n]*${name.replace('/', '\\/')}(\\s|$)`));
  });
});

describe('the link check', () => {
  it('finds relative links and anchors, and skips code', () => {
    expect(linkTargets('see [docs](../../docs/X.md), [here](#in-node "title") and <a href="https://example.com/">x</a>; `[no](../code)`')).toEqual([
      '../../docs/X.md',
      '#in-node',
      'https://example.com/',
    ]);
    expect(slug('In Node')).toBe('in-node');
    expect(slug('`useDoc(collection, key)`')).toBe('usedoccollection-key');
  });
});
