import { builtinModules } from 'node:module';

/** The packages a compiled ES module imports (static, re-exports, dynamic), comments aside; no relative paths, no Node built-ins. */
export function importedPackages(code: string): string[] {
  const withoutComments = code.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const specifiers = [
    // import … from '…' and export … from '…', as statements (a line that starts with the keyword)
    ...withoutComments.matchAll(/^\s*(?:import|export)\b[^;'"]*?\bfrom\s*['"]([^'"\s]+)['"]/gm),
    // import '…'
    ...withoutComments.matchAll(/^\s*import\s*['"]([^'"\s]+)['"]/gm),
    // import('…')
    ...withoutComments.matchAll(/\bimport\s*\(\s*['"]([^'"\s]+)['"]\s*\)/g),
  ].map((match) => match[1]!);
  const packages = specifiers
    .filter((specifier) => !specifier.startsWith('.') && !specifier.startsWith('node:') && !builtinModules.includes(specifier))
    .map((specifier) =>
      specifier
        .split('/')
        .slice(0, specifier.startsWith('@') ? 2 : 1)
        .join('/'),
    );
  return [...new Set(packages)].sort();
}
