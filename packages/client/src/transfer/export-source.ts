/**
 * What `importData` reads an export from: the text, a `Blob` (a `File` the user picked), or
 * chunks of it in order — strings or UTF-8 bytes, cut anywhere (a fetch body, a Node read
 * stream, `exportData()` itself).
 */
export type ExportSource = string | Blob | AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>;

async function* blobChunks(blob: Blob): AsyncGenerator<Uint8Array> {
  const reader = blob.stream().getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

/** The lines of an export source (without their line breaks). */
export async function* linesOf(source: ExportSource): AsyncGenerator<string> {
  const chunks = typeof source === 'string' ? [source] : typeof Blob !== 'undefined' && source instanceof Blob ? blobChunks(source) : source;
  const decoder = new TextDecoder();
  let rest = '';
  for await (const chunk of chunks as AsyncIterable<string | Uint8Array>) {
    rest += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    let start = 0;
    for (let end = rest.indexOf('\n'); end >= 0; end = rest.indexOf('\n', start)) {
      yield rest.slice(start, end);
      start = end + 1;
    }
    rest = rest.slice(start);
  }
  rest += decoder.decode();
  if (rest !== '') yield rest;
}

/**
 * Joins an export (`client.exportData()`) into one string: for tests, small databases, a text
 * field. A large database is better saved with `exportToBlob` or written out line by line.
 *
 * @example
 * ```ts
 * const client = await createClient({ name: 'example-export-text', storage: 'memory' });
 * await client.collection('notes').put('a', { title: 'milk' });
 * const text = await exportToText(client.exportData());
 * JSON.parse(text.split('\n')[0]!).format; // → 'converge-export'
 * await client.close();
 * ```
 */
export async function exportToText(lines: AsyncIterable<string>): Promise<string> {
  let text = '';
  for await (const line of lines) text += line;
  return text;
}

/**
 * Collects an export into a `Blob` (`application/x-ndjson`) without building one string: every
 * thousand lines become a Blob of their own, which the browser may keep out of the page's
 * memory. Save it with a download link, or pass it to another client's `importData`.
 */
export async function exportToBlob(lines: AsyncIterable<string>): Promise<Blob> {
  const parts: Blob[] = [];
  let batch: string[] = [];
  for await (const line of lines) {
    batch.push(line);
    if (batch.length === 1000) {
      parts.push(new Blob(batch));
      batch = [];
    }
  }
  parts.push(new Blob(batch));
  return new Blob(parts, { type: 'application/x-ndjson' });
}
