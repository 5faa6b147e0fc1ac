import { describe, expect, it } from 'vitest';
import { ConsoleEnvError, readConsoleEnv } from './env.js';

const base = {
  NEXTAUTH_SECRET: 's3cret',
  PKS_UAA_URL: 'https://localhost:8443/',
  PKS_API_URL: 'https://127.0.0.1:9021',
};

describe('readConsoleEnv', () => {
  it('defaults to loopback port 3000 and trims trailing slashes', () => {
    expect(readConsoleEnv(base)).toEqual({
      host: '127.0.0.1',
      port: 3000,
      externalHost: 'localhost',
      uaaUrl: 'https://localhost:8443',
      apiUrl: 'https://127.0.0.1:9021',
    });
  });

  it('takes port 0, an external URL and the CA file', () => {
    const env = readConsoleEnv({
      ...base,
      PKS_CONSOLE_PORT: '0',
      PKS_CONSOLE_EXTERNAL_URL: 'https://pks.example.com',
      NODE_EXTRA_CA_CERTS: '/data/tls/ca.crt',
    });
    expect(env).toMatchObject({
      port: 0,
      externalUrl: 'https://pks.example.com',
      caFile: '/data/tls/ca.crt',
    });
  });

  it('names the variable that is missing or malformed', () => {
    expect(() => readConsoleEnv({ ...base, NEXTAUTH_SECRET: '' })).toThrow(ConsoleEnvError);
    expect(() => readConsoleEnv({ ...base, PKS_API_URL: undefined })).toThrow('PKS_API_URL: is required');
    expect(() => readConsoleEnv({ ...base, PKS_CONSOLE_PORT: 'http' })).toThrow(
      'PKS_CONSOLE_PORT: must be a port number',
    );
  });
});
