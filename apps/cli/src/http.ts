import { request } from 'node:https';
import { CliError } from './errors.js';

/** How we check a server's certificate: the CA from login, or not at all with `-k`. */
export interface TlsTrust {
  ca?: string;
  insecure?: boolean;
}

export function tlsOptions(trust: TlsTrust): { ca?: string; rejectUnauthorized?: boolean } {
  return {
    ...(trust.ca ? { ca: trust.ca } : {}),
    ...(trust.insecure ? { rejectUnauthorized: false } : {}),
  };
}

export interface HttpResponse {
  status: number;
  body: string;
}

export function httpsCall(
  url: string | URL,
  init: { method: string; headers?: Record<string, string>; body?: string },
  trust: TlsTrust,
): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: init.method, headers: init.headers, ...tlsOptions(trust), timeout: 60_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (error: NodeJS.ErrnoException) => reject(connectionError(url, error)));
    req.end(init.body);
  });
}

/** Says what went wrong reaching a server in a user's terms (certificates are the usual suspect). */
function connectionError(url: string | URL, error: NodeJS.ErrnoException): CliError {
  const target = new URL(url).origin;
  const code = error.code ?? '';
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/.test(code)) {
    return new CliError(
      `x509: certificate signed by unknown authority (${target}); use --ca-cert or -k (--skip-ssl-validation)`,
    );
  }
  return new CliError(`could not reach ${target}: ${error.message}`);
}
