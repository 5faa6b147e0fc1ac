import { describe, expect, it } from 'vitest';
import { securityHeaders } from './headers.js';

describe('securityHeaders', () => {
  const headers = securityHeaders({ nonce: 'abc123', uaaOrigin: 'https://localhost:8443', secure: false });
  const csp = headers['Content-Security-Policy']!;

  it('lets only scripts with this response’s nonce run', () => {
    expect(csp).toContain("script-src 'self' 'nonce-abc123' 'strict-dynamic'");
    expect(csp).not.toContain("'unsafe-eval'");
  });

  it('lets workers come from the console’s own bundle only (the explorer’s editor), not from blobs or CDNs', () => {
    expect(csp).toContain("worker-src 'self';");
    expect(csp).not.toContain('blob:');
    expect(csp).toContain("font-src 'self' data:;");
    expect(csp).not.toMatch(/https:\/\/(?!localhost:8443)/);
  });

  it('forbids framing and lets forms go only here and to the UAA', () => {
    expect(csp).toContain("frame-ancestors 'none'");
    expect(headers['X-Frame-Options']).toBe('DENY');
    expect(csp).toContain("form-action 'self' https://localhost:8443");
    expect(csp).toContain("connect-src 'self'");
  });

  it('sends HSTS only for an https console', () => {
    expect(headers['Strict-Transport-Security']).toBeUndefined();
    expect(
      securityHeaders({ nonce: 'n', uaaOrigin: 'https://uaa', secure: true })['Strict-Transport-Security'],
    ).toBe('max-age=31536000');
  });
});
