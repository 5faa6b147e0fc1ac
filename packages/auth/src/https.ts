import { request } from 'node:https';

/** How long one call to UAA may take, connection and body included. */
const TIMEOUT_MS = 10_000;
/** UAA's answers are small; anything bigger is not UAA. */
const MAX_BODY_BYTES = 1_048_576;

export interface HttpsAnswer {
  status: number;
  body: string;
}

export interface HttpsCall {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** PEM(s) to trust; without it, Node's default roots. Certificates are always verified. */
  ca?: string | string[] | undefined;
}

/** Parses a URL that openpks will call for keys or tokens; only HTTPS is acceptable. */
export function httpsUrl(value: string): URL | undefined {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' ? url : undefined;
  } catch {
    return undefined;
  }
}

/** One HTTPS exchange with UAA, on a fresh connection (calls are rare, and no socket outlives them). */
export function httpsCall(url: URL, call: HttpsCall = {}): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: call.method ?? 'GET',
        headers: call.headers,
        ca: call.ca,
        agent: false,
        signal: AbortSignal.timeout(TIMEOUT_MS),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_BODY_BYTES) {
            req.destroy(new Error(`answer larger than ${MAX_BODY_BYTES} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(call.body);
  });
}

/** Says why a call failed in operator words (connection refused, untrusted certificate, timeout). */
export function describeFailure(error: unknown): string {
  const { code, name, message } = error as { code?: unknown; name?: unknown; message?: unknown };
  if (name === 'AbortError' || name === 'TimeoutError' || code === 'ABORT_ERR') {
    return `no answer within ${TIMEOUT_MS / 1000} s`;
  }
  const text = typeof message === 'string' ? message : String(error);
  return typeof code === 'string' && !text.includes(code) ? `${text} (${code})` : text;
}

/** Parses JSON, or undefined when the text is not JSON. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Keeps text from a remote party fit for one line of an error message. */
export function oneLine(text: string, max = 200): string {
  // eslint-disable-next-line no-control-regex
  const flat = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}
