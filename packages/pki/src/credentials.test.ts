import type * as NodeCrypto from 'node:crypto';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { credentialsMatch, parseBasicAuthorization } from './credentials.js';

// Records every constant-time comparison, to show both always run on fixed-length inputs.
const comparisons = vi.hoisted(() => [] as Array<[number, number]>);
vi.mock('node:crypto', async (importOriginal) => {
  const crypto = await importOriginal<typeof NodeCrypto>();
  return {
    ...crypto,
    timingSafeEqual: (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
      comparisons.push([a.byteLength, b.byteLength]);
      return crypto.timingSafeEqual(a, b);
    },
  };
});

const expected = { username: 'broker', password: 's3cret-Passw0rd' };

describe('credentialsMatch', () => {
  beforeEach(() => {
    comparisons.length = 0;
  });

  it('accepts the right user and password', () => {
    expect(credentialsMatch({ username: 'broker', password: 's3cret-Passw0rd' }, expected)).toBe(true);
  });

  it('refuses a wrong user or a wrong password', () => {
    expect(credentialsMatch({ username: 'brokes', password: expected.password }, expected)).toBe(false);
    expect(credentialsMatch({ username: expected.username, password: 's3cret-Passw0rE' }, expected)).toBe(
      false,
    );
    expect(credentialsMatch({ username: expected.password, password: expected.username }, expected)).toBe(
      false,
    );
  });

  it('refuses values of other lengths without throwing', () => {
    expect(credentialsMatch({ username: 'b', password: expected.password }, expected)).toBe(false);
    expect(credentialsMatch({ username: 'broker', password: `${expected.password}x` }, expected)).toBe(false);
    expect(credentialsMatch({ username: 'broker', password: 's3cret' }, expected)).toBe(false);
    expect(
      credentialsMatch({ username: 'broker'.repeat(1000), password: 'x'.repeat(10_000) }, expected),
    ).toBe(false);
  });

  it('refuses empty or missing credentials, and matches empty ones only when expected', () => {
    expect(credentialsMatch({ username: '', password: '' }, expected)).toBe(false);
    expect(credentialsMatch({ username: 'broker', password: '' }, expected)).toBe(false);
    expect(credentialsMatch(undefined, expected)).toBe(false);
    expect(credentialsMatch(undefined, { username: '', password: '' })).toBe(false);
    expect(credentialsMatch({ username: '', password: '' }, { username: '', password: '' })).toBe(true);
  });

  it('compares non-ASCII credentials by their exact UTF-8 bytes', () => {
    const unicode = { username: 'opérateur', password: 'пароль-密码-🔑' };
    expect(credentialsMatch({ username: 'opérateur', password: 'пароль-密码-🔑' }, unicode)).toBe(true);
    expect(credentialsMatch({ username: 'operateur', password: unicode.password }, unicode)).toBe(false);
    // The same text in NFD differs byte for byte, and must not be silently folded into a match.
    expect(
      credentialsMatch({ username: 'opérateur'.normalize('NFD'), password: unicode.password }, unicode),
    ).toBe(false);
    expect(credentialsMatch({ username: unicode.username, password: 'пароль-密码-🔒' }, unicode)).toBe(false);
  });

  it('always runs both comparisons, on 32-byte digests, whatever is wrong', () => {
    const attempts = [
      { username: 'broker', password: 's3cret-Passw0rd' },
      { username: 'x', password: 's3cret-Passw0rd' },
      { username: 'broker', password: 'a much longer password than the expected one' },
      { username: '', password: '' },
      undefined,
    ];
    for (const attempt of attempts) {
      comparisons.length = 0;
      credentialsMatch(attempt, expected);
      expect(comparisons).toEqual([
        [32, 32],
        [32, 32],
      ]);
    }
  });
});

describe('parseBasicAuthorization', () => {
  const header = (text: string) => `Basic ${Buffer.from(text, 'utf8').toString('base64')}`;

  it('splits user and password at the first colon, in UTF-8', () => {
    expect(parseBasicAuthorization(header('broker:pa:ss'))).toEqual({
      username: 'broker',
      password: 'pa:ss',
    });
    expect(parseBasicAuthorization(header('opérateur:🔑'))).toEqual({
      username: 'opérateur',
      password: '🔑',
    });
    expect(parseBasicAuthorization(header(':'))).toEqual({ username: '', password: '' });
    expect(parseBasicAuthorization(`basic ${Buffer.from('a:b').toString('base64')}`)).toEqual({
      username: 'a',
      password: 'b',
    });
  });

  it('returns undefined for a missing, non-Basic or colon-less header', () => {
    expect(parseBasicAuthorization(undefined)).toBeUndefined();
    expect(parseBasicAuthorization('')).toBeUndefined();
    expect(parseBasicAuthorization('Bearer abc')).toBeUndefined();
    expect(parseBasicAuthorization(header('no-colon'))).toBeUndefined();
  });
});
