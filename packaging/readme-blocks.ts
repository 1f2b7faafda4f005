/** The fenced code blocks of a Markdown text, each with its language and the heading above it. */
export function readmeBlocks(markdown: string): { readonly lang: string; readonly code: string; readonly heading: string }[] {
  const blocks: { lang: string; code: string; heading: string }[] = [];
  let heading = '';
  let open: { lang: string; lines: string[] } | undefined;
  for (const line of markdown.split('\n')) {
    if (open !== undefined) {
      if (/^```\s*$/.test(line)) {
        blocks.push({ lang: open.lang, code: `${open.lines.join('\n')}\n`, heading });
        open = undefined;
      } else open.lines.push(line);
    } else if (/^```/.test(line)) open = { lang: line.slice(3).trim(), lines: [] };
    else if (/^#{1,6} /.test(line)) heading = line.replace(/^#+ /, '').trim();
  }
  return blocks;
}

/** The first block of `lang` that `accept` takes; throws when there is none (the README changed). */
export function readmeBlock(markdown: string, lang: string, accept: (code: string, heading: string) => boolean): string {
  const found = readmeBlocks(markdown).find((block) => block.lang === lang && accept(block.code, block.heading));
  if (found === undefined) throw new Error(`no \`\`\`${lang} block of that kind in the README`);
  return found.code;
}
