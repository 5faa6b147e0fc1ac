import { describe, expect, it } from 'vitest';
import { validateHostname } from './hostname.js';

describe('validateHostname', () => {
  it.each(['api.example.com', 'k8s-1.corp.local', 'localhost', '10.0.0.15', 'a.b.c.'])(
    'accepts %s',
    (host) => {
      expect(() => validateHostname(host)).not.toThrow();
    },
  );

  it('lowercases DNS names so certificates and kubeconfigs agree', () => {
    expect(validateHostname('API.Example.COM')).toBe('api.example.com');
  });

  it.each([
    ['', 'hostname is required'],
    ['999.1.1.1', 'not a valid IPv4 address'],
    ['bad_host.example.com', 'invalid label "bad_host"'],
    ['a..b', 'empty label'],
    ['-a.example.com', 'invalid label "-a"'],
    [`${'x'.repeat(64)}.com`, 'longer than 63 characters'],
    ['example.123', 'all-numeric top-level label'],
    [`${'abcdefghi.'.repeat(26)}com`, 'characters long'],
  ])('rejects %j: %s', (host, message) => {
    expect(() => validateHostname(host)).toThrowError(message);
  });
});
