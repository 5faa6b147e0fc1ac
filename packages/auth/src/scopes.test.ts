import { ForbiddenError, InternalError } from '@openpks/domain';
import { describe, expect, it } from 'vitest';
import { bearerToken } from './bearerToken.js';
import { hasAnyScope, requireAnyScope } from './scopes.js';

describe('bearerToken', () => {
  it('takes the token from "Bearer <token>", whatever the case of the scheme', () => {
    expect(bearerToken('Bearer eyJhbGciOi.eyJzdWIi.c2ln')).toBe('eyJhbGciOi.eyJzdWIi.c2ln');
    expect(bearerToken('bearer abc')).toBe('abc');
    expect(bearerToken('BEARER   abc  ')).toBe('abc');
  });

  it('finds no token in a missing header, another scheme, or a malformed value', () => {
    expect(bearerToken(undefined)).toBeUndefined();
    expect(bearerToken('')).toBeUndefined();
    expect(bearerToken('Bearer')).toBeUndefined();
    expect(bearerToken('Bearer ')).toBeUndefined();
    expect(bearerToken('Basic cGtzOnNlY3JldA==')).toBeUndefined();
    expect(bearerToken('Bearerabc')).toBeUndefined();
    expect(bearerToken('Bearer a b')).toBeUndefined();
    expect(bearerToken('Bearer a,b')).toBeUndefined();
  });
});

describe('scopes', () => {
  const manager = { scopes: ['openid', 'pks.clusters.manage'] };

  it('says whether a token carries any of the scopes', () => {
    expect(hasAnyScope(manager, ['pks.clusters.admin', 'pks.clusters.manage'])).toBe(true);
    expect(hasAnyScope(manager, ['pks.clusters.admin'])).toBe(false);
    expect(hasAnyScope(manager, [])).toBe(false);
  });

  it('does not treat a scope as granting a longer one with the same prefix', () => {
    expect(hasAnyScope({ scopes: ['pks.clusters.admin'] }, ['pks.clusters.admin.read'])).toBe(false);
  });

  it('lets a token with one of the required scopes through', () => {
    expect(() => requireAnyScope(manager, ['pks.clusters.admin', 'pks.clusters.manage'])).not.toThrow();
  });

  it('forbids a token without the required scopes, naming them', () => {
    let error: unknown;
    try {
      requireAnyScope(manager, ['pks.clusters.admin', 'pks.clusters.admin.read']);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ForbiddenError);
    expect((error as ForbiddenError).message).toBe(
      'requires one of the scopes pks.clusters.admin, pks.clusters.admin.read',
    );
    expect((error as ForbiddenError).details).toEqual({
      requiredScopes: ['pks.clusters.admin', 'pks.clusters.admin.read'],
    });
    expect(() => requireAnyScope(manager, ['pks.clusters.admin'])).toThrow(
      'requires the scope pks.clusters.admin',
    );
  });

  it('treats an empty list of required scopes as a programming error', () => {
    expect(() => requireAnyScope(manager, [])).toThrow(InternalError);
  });
});
