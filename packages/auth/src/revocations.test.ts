import { describe, expect, it } from 'vitest';
import { RevocationList, type RevocableToken } from './revocations.js';

const now = new Date('2026-12-03T10:00:00Z');
const later = (seconds: number) => new Date(now.getTime() + seconds * 1000);

function token(claims: Record<string, unknown>): RevocableToken {
  return {
    claims,
    clientId: String(claims.client_id),
    ...(typeof claims.user_id === 'string' ? { userId: claims.user_id } : {}),
  };
}

const rita = token({ jti: 'j1', user_id: 'u-rita', client_id: 'pks_cli', rev_sig: 'aaaa' });
const ritaConsole = token({ jti: 'j2', user_id: 'u-rita', client_id: 'pks_console', rev_sig: 'bbbb' });
const ritaAfter = token({ jti: 'j3', user_id: 'u-rita', client_id: 'pks_cli', rev_sig: 'cccc' });
const sam = token({ jti: 'j4', user_id: 'u-sam', client_id: 'pks_cli', rev_sig: 'dddd' });
const director = token({ jti: 'j5', client_id: 'pks_director', rev_sig: 'eeee' });

describe('RevocationList', () => {
  it('revokes one token by jti and no other', () => {
    const list = new RevocationList({ now: () => now });
    list.add({ jti: 'j1', expiresAt: later(600) });
    expect(list.revokes(rita)).toBe('token revoked');
    expect(list.revokes(ritaConsole)).toBeUndefined();
  });

  it("revokes a user's tokens by the signatures that ended, so tokens issued afterwards still work", () => {
    const list = new RevocationList({ now: () => now });
    list.add({ userId: 'u-rita', revSigs: ['aaaa', 'bbbb'], expiresAt: later(600) });
    expect(list.revokes(rita)).toMatch(/user's tokens were revoked/);
    expect(list.revokes(ritaConsole)).toMatch(/user's tokens were revoked/);
    expect(list.revokes(ritaAfter)).toBeUndefined();
    expect(list.revokes(sam)).toBeUndefined();
  });

  it('revokes every token of a deleted user, and of a deleted client', () => {
    const list = new RevocationList({ now: () => now });
    list.add({ userId: 'u-rita', expiresAt: later(600) });
    expect(list.revokes(ritaAfter)).toBeDefined();
    expect(list.revokes(sam)).toBeUndefined();
    list.add({ clientId: 'pks_director', expiresAt: later(600) });
    expect(list.revokes(director)).toMatch(/client's tokens were revoked/);
    expect(list.revokes(sam)).toBeUndefined();
  });

  it("revokes a client's own and its users' tokens by signature", () => {
    const list = new RevocationList({ now: () => now });
    list.add({ clientId: 'pks_cli', revSigs: ['aaaa', 'dddd'], expiresAt: later(600) });
    expect(list.revokes(rita)).toBeDefined();
    expect(list.revokes(sam)).toBeDefined();
    expect(list.revokes(ritaConsole)).toBeUndefined();
    expect(list.revokes(ritaAfter)).toBeUndefined();
  });

  it('forgets a rule once every token it could match has expired', () => {
    let clock = now;
    const list = new RevocationList({ now: () => clock });
    list.add({ jti: 'j1', expiresAt: later(10) });
    list.add({ userId: 'u-sam', expiresAt: later(10) });
    expect(list.size).toBe(2);
    clock = later(11);
    expect(list.revokes(rita)).toBeUndefined();
    clock = later(120);
    list.add({ jti: 'other', expiresAt: later(600) });
    expect(list.size).toBe(1);
  });

  it('tells listeners of every revocation, keys changes included, and refuses an empty one', () => {
    const list = new RevocationList({ now: () => now });
    const heard: unknown[] = [];
    const stop = list.onRevocation((revocation) => heard.push(revocation));
    list.add({ keys: true, expiresAt: later(600) });
    list.add({ jti: 'j9', expiresAt: later(600) });
    stop();
    list.add({ jti: 'j10', expiresAt: later(600) });
    expect(heard).toHaveLength(2);
    expect(() => list.add({ expiresAt: later(600) })).toThrow(/names no token, user, client or key change/);
  });
});
