import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createCertificateAuthority, issueCertificate, type CertificateAndKey } from '@openpks/pki';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';

/*
 * A stand-in for the two UAA endpoints this package calls, over real HTTPS on 127.0.0.1: `/token_keys`
 * in UAA's shape (JWK fields plus the PEM `value`) and `/oauth/token` for the client_credentials grant.
 * Test support only: not part of the package's door and not built.
 */

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicKeyPem: string;
  /** The key as UAA publishes it at `/token_keys`. */
  published: Record<string, string>;
}

export async function newSigningKey(kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = await exportJWK(publicKey);
  const publicKeyPem = await exportSPKI(publicKey);
  return {
    kid,
    privateKey,
    publicKeyPem,
    published: { kty: 'RSA', e: jwk.e!, use: 'sig', kid, alg: 'RS256', value: publicKeyPem, n: jwk.n! },
  };
}

export interface TokenRequest {
  authorization: string | undefined;
  encodedCredentials: string | undefined;
  form: URLSearchParams;
}

export interface TokenReply {
  status: number;
  body: unknown;
}

export interface FakeUaaOptions {
  clientId?: string;
  clientSecret?: string;
  /** The TLS certificate to serve; default one issued by a fresh CA. */
  tls?: { cert: string; key: string; ca: string };
}

export class FakeUaa {
  /** Keys published at `/token_keys` (the first signs by default). */
  published: SigningKey[] = [];
  keyRequests = 0;
  readonly tokenRequests: TokenRequest[] = [];
  /** Seconds a client-credentials token lives (`expires_in`). */
  expiresIn = 43_199;
  /** Milliseconds to hold each `/oauth/token` answer, so concurrent callers overlap. */
  tokenDelayMs = 20;
  /** Replaces the next `/oauth/token` answers while set. */
  tokenReply: TokenReply | undefined;

  private constructor(
    private readonly server: Server,
    readonly url: string,
    readonly ca: string,
    private readonly client: { id: string; secret: string },
  ) {}

  static async start(options: FakeUaaOptions = {}): Promise<FakeUaa> {
    const tls = options.tls ?? (await serverTls());
    const server = createServer({ cert: tls.cert, key: tls.key });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const uaa = new FakeUaa(server, `https://127.0.0.1:${port}`, tls.ca, {
      id: options.clientId ?? 'pks_director',
      secret: options.clientSecret ?? 'director secret',
    });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        void uaa
          .handle(req.method ?? 'GET', req.url ?? '/', req.headers, Buffer.concat(chunks))
          .then(({ status, body }) => {
            res.writeHead(status, { 'Content-Type': 'application/json' });
            res.end(JSON.stringify(body));
          });
      });
    });
    return uaa;
  }

  /** The `iss` of this UAA's tokens. */
  get issuer(): string {
    return `${this.url}/oauth/token`;
  }

  /** The key that signs by default. */
  get key(): SigningKey {
    return this.published[0]!;
  }

  /** Signs `claims` as UAA would (RS256, `kid`, `typ: JWT`, `jku`), by default with the first key. */
  sign(claims: JWTPayload, key: SigningKey = this.key): Promise<string> {
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT', jku: `${this.url}/token_keys` })
      .sign(key.privateKey);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async handle(
    method: string,
    path: string,
    headers: Record<string, string | string[] | undefined>,
    body: Buffer,
  ): Promise<TokenReply> {
    if (method === 'GET' && path === '/token_keys') {
      this.keyRequests += 1;
      return { status: 200, body: { keys: this.published.map((key) => key.published) } };
    }
    if (method === 'POST' && path === '/oauth/token') {
      const authorization = headers.authorization as string | undefined;
      const encoded = headers['x-cf-encoded-credentials'] as string | undefined;
      const form = new URLSearchParams(body.toString('utf8'));
      this.tokenRequests.push({ authorization, encodedCredentials: encoded, form });
      await new Promise((resolve) => setTimeout(resolve, this.tokenDelayMs));
      if (this.tokenReply) return this.tokenReply;
      const client = basicCredentials(authorization, encoded === 'true');
      if (!client || client.id !== this.client.id || client.secret !== this.client.secret) {
        return { status: 401, body: { error: 'invalid_client', error_description: 'Bad credentials' } };
      }
      if (form.get('grant_type') !== 'client_credentials') {
        return { status: 400, body: { error: 'unsupported_grant_type' } };
      }
      const n = this.tokenRequests.length;
      return {
        status: 200,
        body: {
          access_token: `token-${n}`,
          token_type: 'bearer',
          expires_in: this.expiresIn,
          scope: form.get('scope') ?? 'bosh.admin',
          jti: `jti-${n}`,
        },
      };
    }
    return { status: 404, body: { error: 'not_found' } };
  }
}

/** Basic credentials as UAA reads them: URL-decoded when `X-CF-ENCODED-CREDENTIALS: true`. */
function basicCredentials(
  header: string | undefined,
  urlEncoded: boolean,
): { id: string; secret: string } | undefined {
  if (!header?.toLowerCase().startsWith('basic ')) return undefined;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  const part = (s: string) => (urlEncoded ? decodeURIComponent(s.replace(/\+/g, ' ')) : s);
  return { id: part(decoded.slice(0, colon)), secret: part(decoded.slice(colon + 1)) };
}

/** A server certificate for 127.0.0.1 and localhost from a fresh CA. */
export async function serverTls(): Promise<{ cert: string; key: string; ca: string }> {
  const ca: CertificateAndKey = await createCertificateAuthority({ commonName: 'auth test CA' });
  const issued = await issueCertificate(ca, {
    commonName: 'fake uaa',
    hostnames: ['127.0.0.1', 'localhost'],
    usage: 'server',
  });
  return { cert: issued.certificatePem, key: issued.privateKeyPem, ca: ca.certificatePem };
}
