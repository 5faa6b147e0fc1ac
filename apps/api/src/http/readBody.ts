import type { IncomingMessage } from 'node:http';

/**
 * A request's body as text, or 'too large' past `max` bytes (GraphQL and REST share the limit). Stream
 * events rather than `for await`: the async iterator's machinery was a visible share of a cached answer.
 */
export function readBody(req: IncomingMessage, max: number): Promise<string | 'too large'> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > max) return Promise.resolve('too large');
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= max) return void chunks.push(chunk);
      req.off('data', onData);
      req.resume(); // drain the rest; the 413 goes out with Connection: close
      resolve('too large');
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.once('error', reject);
  });
}
