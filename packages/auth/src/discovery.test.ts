import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCertificateAuthority, issueCertificate } from '@openpks/pki';
import { discoverUaaIssuer } from './discovery.js';

let server: Server;
let url: string;
let ca: string;
let answer: { status: number; body: string };

beforeAll(async () => {
  const authority = await createCertificateAuthority({ commonName: 'test CA' });
  const leaf = await issueCertificate(authority, { commonName: 'uaa', hostnames: ['127.0.0.1'] });
  ca = authority.certificatePem;
  server = createServer({ cert: leaf.certificatePem, key: leaf.privateKeyPem }, (req, res) => {
    if (req.url !== '/.well-known/openid-configuration') return void res.writeHead(404).end();
    res.writeHead(answer.status, { 'Content-Type': 'application/json' }).end(answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('discoverUaaIssuer', () => {
  it("takes the issuer from UAA's discovery document", async () => {
    answer = { status: 200, body: JSON.stringify({ issuer: 'https://uaa.example:8443/oauth/token' }) };
    expect(await discoverUaaIssuer(`${url}/`, { ca })).toBe('https://uaa.example:8443/oauth/token');
  });

  it("falls back to UAA's convention when discovery fails, answers oddly or the CA is not trusted", async () => {
    answer = { status: 500, body: 'oops' };
    expect(await discoverUaaIssuer(url, { ca })).toBe(`${url}/oauth/token`);
    answer = { status: 200, body: '{"issuer": 42}' };
    expect(await discoverUaaIssuer(url, { ca })).toBe(`${url}/oauth/token`);
    answer = { status: 200, body: JSON.stringify({ issuer: 'https://uaa.example/oauth/token' }) };
    expect(await discoverUaaIssuer(url)).toBe(`${url}/oauth/token`);
    expect(await discoverUaaIssuer('https://127.0.0.1:1')).toBe('https://127.0.0.1:1/oauth/token');
  });
});
