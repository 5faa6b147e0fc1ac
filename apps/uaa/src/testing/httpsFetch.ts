import { request } from 'node:https';

export interface HttpsFetchInit {
  method?: string;
  headers?: Record<string, string> | Headers;
  body?: string | URLSearchParams | Uint8Array | null;
}

/**
 * A `fetch` that trusts one CA (the installation's), for tests and tools talking to openpks roles:
 * Node's global fetch takes no CA option. Redirects are not followed, so tests see them.
 */
export function httpsFetch(caPem: string): (url: string | URL, init?: HttpsFetchInit) => Promise<Response> {
  return (url, init = {}) =>
    new Promise((resolve, reject) => {
      const headers: Record<string, string> = {};
      if (init.headers instanceof Headers) init.headers.forEach((value, key) => (headers[key] = value));
      else Object.assign(headers, init.headers ?? {});
      let body: Buffer | undefined;
      if (init.body instanceof URLSearchParams) {
        body = Buffer.from(init.body.toString());
        headers['content-type'] ??= 'application/x-www-form-urlencoded';
      } else if (typeof init.body === 'string') {
        body = Buffer.from(init.body);
      } else if (init.body) {
        body = Buffer.from(init.body);
      }
      if (body) headers['content-length'] = String(body.length);
      const req = request(new URL(url), { method: init.method ?? 'GET', headers, ca: caPem }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const responseHeaders = new Headers();
          for (const [key, value] of Object.entries(res.headers)) {
            if (Array.isArray(value)) value.forEach((v) => responseHeaders.append(key, v));
            else if (value !== undefined) responseHeaders.set(key, value);
          }
          const status = res.statusCode ?? 500;
          const payload =
            status === 204 || status === 304 || chunks.length === 0 ? null : Buffer.concat(chunks);
          resolve(new Response(payload, { status, headers: responseHeaders }));
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
}
