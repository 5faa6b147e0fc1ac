import type { IncomingMessage, ServerResponse } from 'node:http';
import { InputError, httpStatusOf, isPksError } from '@openpks/domain';

/** BOSH error codes in bodies (`{"code":…,"description":…}`), by status, as the Director's controllers use them. */
const BOSH_CODES: Record<number, number> = {
  400: 440001,
  401: 600000,
  403: 600000,
  404: 70000,
  409: 100,
  500: 100,
};

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers });
  res.end(JSON.stringify(body));
}

export function sendError(res: ServerResponse, error: unknown): void {
  const status = httpStatusOf(error);
  const description = isPksError(error) ? error.message : 'internal error';
  // A BOSH error with a code of its own (`details.boshCode`) keeps it; others get their status's code.
  const own = isPksError(error) ? error.details?.boshCode : undefined;
  const headers: Record<string, string> = status === 401 ? { 'WWW-Authenticate': 'Bearer realm="bosh"' } : {};
  sendJson(
    res,
    status,
    { code: typeof own === 'number' ? own : (BOSH_CODES[status] ?? 100), description },
    headers,
  );
}

export async function readBody(req: IncomingMessage, limit = 8 * 1024 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new InputError('body', `request body is larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function parseJson(text: string): Record<string, unknown> {
  if (text.trim() === '') return {};
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value))
      return value as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new InputError('body', 'request body must be a JSON object');
}

/** Parses `Range: bytes=<start>-[<end>]` (the only form the bosh CLI sends). */
export function parseRange(header: string | undefined): { start: number; end?: number } | undefined {
  if (header === undefined) return undefined;
  const match = /^bytes=(\d+)-(\d*)$/.exec(header.trim());
  if (!match) return undefined;
  return { start: Number(match[1]), ...(match[2] ? { end: Number(match[2]) } : {}) };
}

type Handler = (
  req: IncomingMessage,
  res: ServerResponse,
  params: Record<string, string>,
  query: URLSearchParams,
) => Promise<void>;

/** A small method + path router: `:name` segments become params (URI-decoded). */
export class Router {
  readonly #routes: { method: string; pattern: RegExp; names: string[]; handler: Handler }[] = [];

  on(method: string, path: string, handler: Handler): this {
    const names: string[] = [];
    const pattern = new RegExp(
      `^${path.replace(/:(\w+)/g, (_, name: string) => {
        names.push(name);
        return '([^/]+)';
      })}/?$`,
    );
    this.#routes.push({ method, pattern, names, handler });
    return this;
  }

  match(
    method: string,
    path: string,
  ): { handler: Handler; params: Record<string, string> } | 'method' | undefined {
    let pathMatched = false;
    for (const route of this.#routes) {
      const match = route.pattern.exec(path);
      if (!match) continue;
      pathMatched = true;
      if (route.method !== method && !(route.method === 'GET' && method === 'HEAD')) continue;
      const params = Object.fromEntries(
        route.names.map((name, i) => [name, decodeURIComponent(match[i + 1]!)]),
      );
      return { handler: route.handler, params };
    }
    return pathMatched ? 'method' : undefined;
  }
}
