import type { IncomingMessage, ServerResponse } from 'node:http';
import { UaaError } from '../errors.js';

const MAX_BODY_BYTES = 1024 * 1024;

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new UaaError(413, 'invalid_request', 'Request body is too large');
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

/** A form body (`application/x-www-form-urlencoded`); a parameter given twice is an error (RFC 6749 §3.1). */
export async function readForm(req: IncomingMessage, { query = true } = {}): Promise<Map<string, string>> {
  const values = new Map<string, string>();
  const add = (params: URLSearchParams) => {
    for (const [key, value] of params) {
      if (values.has(key)) throw new UaaError(400, 'invalid_request', `Duplicate parameter: ${key}`);
      values.set(key, value);
    }
  };
  if (query) add(new URL(req.url ?? '/', 'http://x').searchParams);
  if (req.method === 'POST' || req.method === 'PUT') {
    const body = await readBody(req);
    if (body.length > 0) {
      const type = mediaType(req);
      if (type !== 'application/x-www-form-urlencoded' && type !== '') {
        throw new UaaError(
          415,
          'invalid_request',
          `Content type ${type} is not supported; use application/x-www-form-urlencoded`,
        );
      }
      add(new URLSearchParams(body));
    }
  }
  return values;
}

export async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const body = await readBody(req);
  const type = mediaType(req);
  if (type !== 'application/json' && !type.endsWith('+json')) {
    throw new UaaError(
      415,
      'invalid_request',
      `Content type '${type || 'none'}' not supported; send application/json`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new UaaError(400, 'invalid_scim_resource', 'Request body is not valid JSON', {
      extra: { message: 'Request body is not valid JSON' },
    });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UaaError(400, 'invalid_scim_resource', 'Request body must be a JSON object', {
      extra: { message: 'Request body must be a JSON object' },
    });
  }
  return value as Record<string, unknown>;
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json;charset=UTF-8',
    'Cache-Control': 'no-store',
    Pragma: 'no-cache',
    'X-Content-Type-Options': 'nosniff',
    ...headers,
  });
  res.end(text);
}

export function sendHtml(
  res: ServerResponse,
  status: number,
  html: string,
  headers: Record<string, string | string[]> = {},
): void {
  res.writeHead(status, {
    'Content-Type': 'text/html;charset=UTF-8',
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    // Inline styles only; no scripts and no external assets. No `form-action`: browsers apply it to the
    // whole redirect chain of a submission, and signing in ends with a redirect to the client's
    // registered redirect URI on another origin (the console), which `form-action 'self'` blocks.
    'Content-Security-Policy':
      "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
    'Referrer-Policy': 'no-referrer',
    ...headers,
  });
  res.end(html);
}

export function redirect(
  res: ServerResponse,
  location: string,
  headers: Record<string, string | string[]> = {},
): void {
  res.writeHead(302, { Location: location, 'Cache-Control': 'no-store', ...headers });
  res.end();
}

export function sendError(res: ServerResponse, error: UaaError): void {
  sendJson(res, error.status, error.body(), error.options.headers ?? {});
}

export function parseCookies(req: IncomingMessage): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const index = part.indexOf('=');
    if (index < 0) continue;
    const name = part.slice(0, index).trim();
    if (!cookies.has(name)) {
      try {
        cookies.set(name, decodeURIComponent(part.slice(index + 1).trim()));
      } catch {
        // A cookie we cannot decode is not one of ours.
      }
    }
  }
  return cookies;
}

export function cookie(
  name: string,
  value: string,
  { maxAge, httpOnly = true }: { maxAge?: number; httpOnly?: boolean } = {},
): string {
  const parts = [`${name}=${encodeURIComponent(value)}`, 'Path=/', 'Secure', 'SameSite=Lax'];
  if (httpOnly) parts.push('HttpOnly');
  if (maxAge !== undefined) parts.push(`Max-Age=${maxAge}`);
  return parts.join('; ');
}
