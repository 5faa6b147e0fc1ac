import { PGlite } from '@electric-sql/pglite';
import { InputError } from '@openpks/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MAX_FILTER_DEPTH,
  MAX_FILTER_LENGTH,
  invalidFilterDescription,
  parseScimFilter,
  parseScimSortBy,
  scimFilterToSql,
} from './filter.js';
import type { ScimAttribute, ScimFilter } from './filter.js';

const ATTRIBUTES: Record<string, ScimAttribute> = {
  id: { column: 'u.id', type: 'string', caseExact: true },
  username: { column: 'u.user_name', type: 'string' },
  'emails.value': { column: 'u.email', type: 'string' },
  'name.givenname': { column: 'u.given_name', type: 'string' },
  externalid: { column: 'u.external_id', type: 'string', caseExact: true },
  active: { column: 'u.active', type: 'boolean' },
  origin: { column: 'u.origin', type: 'string' },
  'meta.lastmodified': { column: 'u.last_modified', type: 'timestamp' },
  'meta.version': { column: 'u.version', type: 'number' },
};

/** Catches the InputError a call throws, so a test can look at its message, field and details. */
function inputErrorOf(fn: () => unknown): InputError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return error as InputError;
  }
  throw new Error('expected an InputError, but nothing was thrown');
}

function toSql(filter: string, firstParam = 1) {
  return scimFilterToSql(parseScimFilter(filter), ATTRIBUTES, firstParam);
}

describe('parseScimFilter', () => {
  it('parses a comparison, lowercasing the attribute and keeping the value as sent', () => {
    expect(parseScimFilter('userName eq "Bob"')).toEqual({ op: 'eq', attribute: 'username', value: 'Bob' });
  });

  it('accepts operators, attributes and and/or in any case', () => {
    expect(parseScimFilter('USERNAME Eq "x" AnD Active EQ TRUE oR meta.LastModified PR')).toEqual({
      op: 'or',
      left: {
        op: 'and',
        left: { op: 'eq', attribute: 'username', value: 'x' },
        right: { op: 'eq', attribute: 'active', value: true },
      },
      right: { op: 'pr', attribute: 'meta.lastmodified' },
    });
  });

  it('parses every UAA operator', () => {
    for (const op of ['eq', 'co', 'sw', 'gt', 'ge', 'lt', 'le'] as const) {
      expect(parseScimFilter(`userName ${op} "a"`)).toEqual({ op, attribute: 'username', value: 'a' });
    }
    expect(parseScimFilter('userName pr')).toEqual({ op: 'pr', attribute: 'username' });
  });

  it('binds and tighter than or', () => {
    const a = { op: 'pr', attribute: 'a' } as const;
    const b = { op: 'pr', attribute: 'b' } as const;
    const c = { op: 'pr', attribute: 'c' } as const;
    expect(parseScimFilter('a pr or b pr and c pr')).toEqual({
      op: 'or',
      left: a,
      right: { op: 'and', left: b, right: c },
    });
    expect(parseScimFilter('a pr and b pr or c pr')).toEqual({
      op: 'or',
      left: { op: 'and', left: a, right: b },
      right: c,
    });
  });

  it('lets parentheses override precedence, at any depth', () => {
    expect(parseScimFilter('(a pr or b pr) and c pr')).toEqual({
      op: 'and',
      left: { op: 'or', left: { op: 'pr', attribute: 'a' }, right: { op: 'pr', attribute: 'b' } },
      right: { op: 'pr', attribute: 'c' },
    });
    expect(parseScimFilter('((( a pr )))')).toEqual({ op: 'pr', attribute: 'a' });
    expect(parseScimFilter('(a pr)and(b pr)')).toEqual({
      op: 'and',
      left: { op: 'pr', attribute: 'a' },
      right: { op: 'pr', attribute: 'b' },
    });
  });

  it('groups a chain of the same operator from the left', () => {
    expect(parseScimFilter('a pr or b pr or c pr')).toEqual({
      op: 'or',
      left: { op: 'or', left: { op: 'pr', attribute: 'a' }, right: { op: 'pr', attribute: 'b' } },
      right: { op: 'pr', attribute: 'c' },
    });
  });

  it('tolerates extra whitespace, tabs and newlines', () => {
    expect(parseScimFilter('  userName\teq\n"bob"   ')).toEqual({
      op: 'eq',
      attribute: 'username',
      value: 'bob',
    });
  });

  it('reads true, false, null and JSON numbers as unquoted values', () => {
    const value = (text: string) => (parseScimFilter(`x eq ${text}`) as { value: unknown }).value;
    expect(value('true')).toBe(true);
    expect(value('FALSE')).toBe(false);
    expect(value('null')).toBe(null);
    expect(value('42')).toBe(42);
    expect(value('-7')).toBe(-7);
    expect(value('2.5')).toBe(2.5);
    expect(value('1e3')).toBe(1000);
  });

  it('keeps a quoted "true" or "42" a string', () => {
    expect(parseScimFilter('x eq "true"')).toEqual({ op: 'eq', attribute: 'x', value: 'true' });
    expect(parseScimFilter('x eq "42"')).toEqual({ op: 'eq', attribute: 'x', value: '42' });
  });

  it('decodes quotes and JSON escapes in strings', () => {
    const value = (text: string) => (parseScimFilter(`userName eq ${text}`) as { value: unknown }).value;
    expect(value(`"O'Brien"`)).toBe("O'Brien");
    expect(value(String.raw`"a\"b"`)).toBe('a"b');
    expect(value(String.raw`"back\\slash"`)).toBe('back\\slash');
    expect(value(String.raw`"a\/b\n\t\u00e9"`)).toBe('a/b\n\té');
    expect(value(String.raw`"it\'s"`)).toBe("it's");
    expect(value('"with (parens) and or"')).toBe('with (parens) and or');
    expect(value('""')).toBe('');
  });

  it("accepts UAA's legacy single-quoted strings", () => {
    expect(parseScimFilter("userName eq 'bob'")).toEqual({ op: 'eq', attribute: 'username', value: 'bob' });
    expect(parseScimFilter(String.raw`userName eq 'O\'Brien'`)).toEqual({
      op: 'eq',
      attribute: 'username',
      value: "O'Brien",
    });
    expect(parseScimFilter(`userName eq 'say "hi"'`)).toEqual({
      op: 'eq',
      attribute: 'username',
      value: 'say "hi"',
    });
  });

  it('strips a schema URN from an attribute, as UAA does', () => {
    expect(parseScimFilter('urn:ietf:params:scim:schemas:core:2.0:User:userName eq "a"')).toEqual({
      op: 'eq',
      attribute: 'username',
      value: 'a',
    });
    expect(parseScimFilter('urn:scim:schemas:core:1.0:name.givenName pr')).toEqual({
      op: 'pr',
      attribute: 'name.givenname',
    });
  });

  it(`accepts ${MAX_FILTER_DEPTH} levels of parentheses and refuses one more`, () => {
    const nested = (depth: number) => `${'('.repeat(depth)}id pr${')'.repeat(depth)}`;
    expect(parseScimFilter(nested(MAX_FILTER_DEPTH))).toEqual({ op: 'pr', attribute: 'id' });
    const error = inputErrorOf(() => parseScimFilter(nested(MAX_FILTER_DEPTH + 1)));
    expect(error.message).toBe(
      `parentheses nest deeper than ${MAX_FILTER_DEPTH} levels at position ${MAX_FILTER_DEPTH + 1}`,
    );
  });

  it('refuses an over-long filter before parsing it, so hostile input cannot exhaust the stack', () => {
    for (const hostile of ['('.repeat(100_000), `userName eq "${'a'.repeat(MAX_FILTER_LENGTH)}"`]) {
      const error = inputErrorOf(() => parseScimFilter(hostile));
      expect(error.message).toMatch(new RegExp(`characters long, over the limit of ${MAX_FILTER_LENGTH}$`));
    }
    expect(() => parseScimFilter(`userName eq "${'a'.repeat(MAX_FILTER_LENGTH - 14)}"`)).not.toThrow();
  });

  it('parses a long and/or chain without recursion limits', () => {
    const chain = Array.from({ length: 400 }, () => 'id pr').join(' or ');
    expect(chain.length).toBeLessThanOrEqual(MAX_FILTER_LENGTH);
    expect(parseScimFilter(chain).op).toBe('or');
  });

  describe('rejects malformed filters with an InputError that says what and where', () => {
    const cases: [name: string, filter: string, message: string | RegExp, position?: number][] = [
      ['an empty filter', '', 'the filter is empty; expected an expression such as userName eq "bob"'],
      ['a blank filter', '   ', 'the filter is empty; expected an expression such as userName eq "bob"'],
      [
        'an unterminated string',
        'userName eq "bob',
        'unterminated string starting at position 13: no closing "',
        13,
      ],
      [
        'an unterminated single-quoted string',
        "userName eq 'bob",
        "unterminated string starting at position 13: no closing '",
        13,
      ],
      [
        'a string ending in a backslash',
        'userName eq "bob\\',
        'unterminated string starting at position 13: no closing "',
        13,
      ],
      [
        'an unknown escape',
        String.raw`userName eq "a\qb"`,
        /^invalid escape sequence \\q at position 15; use /,
        15,
      ],
      [
        'a short \\u escape',
        String.raw`userName eq "\u12"`,
        /^invalid escape sequence \\u12" at position 14: \\u needs four hex digits$/,
        14,
      ],
      [
        'a missing value at the end',
        'userName eq',
        '"eq" at position 10 needs a value but the filter ended',
        12,
      ],
      ['a missing value before ")"', '(userName eq)', '"eq" at position 11 needs a value but found ")"', 13],
      [
        'a missing value before "and"',
        'userName eq and active pr',
        '"eq" at position 10 needs a value but found "and" at position 13',
        13,
      ],
      [
        'a missing operator',
        'userName',
        'expected an operator after "userName" at position 1 but the filter ended',
        9,
      ],
      [
        'an unknown operator',
        'userName xx "bob"',
        'unknown operator "xx" at position 10; expected one of eq, co, sw, pr, gt, ge, lt, le',
        10,
      ],
      [
        'ne, which UAA lacks',
        'userName ne "bob"',
        'operator "ne" at position 10 is not supported (UAA supports eq, co, sw, pr, gt, ge, lt, le)',
        10,
      ],
      [
        'ew, which UAA lacks',
        'userName EW "bob"',
        'operator "EW" at position 10 is not supported (UAA supports eq, co, sw, pr, gt, ge, lt, le)',
        10,
      ],
      [
        'not, which UAA lacks',
        'not (userName eq "bob")',
        '"not" at position 1 is not supported (UAA has no "not" operator)',
        1,
      ],
      [
        'a dangling and',
        'userName eq "bob" and',
        'expected an expression after "and" at position 19 but the filter ended',
        22,
      ],
      [
        'a dangling or inside parentheses',
        '(userName pr or)',
        'expected an expression after "or" at position 14 but found ")" at position 16',
        16,
      ],
      ['a leading and', 'and userName eq "bob"', '"and" at position 1 has no expression before it', 1],
      [
        'and followed by or',
        'userName pr and or active pr',
        '"or" at position 17 has no expression between it and "and"',
        17,
      ],
      [
        'an unclosed parenthesis',
        '(userName eq "bob"',
        'unclosed "(" at position 1: the filter ended before its ")"',
        1,
      ],
      [
        'an unmatched closing parenthesis',
        'userName eq "bob")',
        'unmatched ")" at position 18: no "(" opens it',
        18,
      ],
      ['a lone closing parenthesis', ')', 'expected an expression but found ")" at position 1', 1],
      ['empty parentheses', '()', 'empty parentheses at position 1', 1],
      [
        'two comparisons without and/or inside parentheses',
        '(userName eq "a" userName eq "b")',
        'unexpected "userName" at position 18; expected "and", "or" or ")" to close the "(" at position 1',
        18,
      ],
      [
        'a second value',
        'userName eq "a" "b"',
        'unexpected string "b" at position 17; expected "and", "or" or the end of the filter',
        17,
      ],
      [
        'an unquoted string value',
        'userName eq bob',
        'value bob at position 13 must be quoted, e.g. "bob" (only numbers, true, false and null go unquoted)',
        13,
      ],
      [
        'an unquoted value with a quote in it',
        "userName eq O'Brien",
        /^value O'Brien at position 13 must be quoted/,
        13,
      ],
      [
        'a value after pr',
        'userName pr "x"',
        '"pr" takes no value, but string "x" follows at position 13',
        13,
      ],
      [
        'a value filter',
        'emails[type eq "work"]',
        /^value filters such as emails\[…\] at position 7 are not supported/,
        7,
      ],
      [
        'a value where the attribute goes',
        '"bob" eq userName',
        'expected an attribute name at position 1 but found string "bob"',
        1,
      ],
      [
        'a number where the attribute goes',
        '42 eq userName',
        '"42" at position 1 is not an attribute name (a value cannot come first)',
        1,
      ],
      [
        'a malformed attribute name',
        'user$name eq "x"',
        '"user$name" at position 1 is not an attribute name',
        1,
      ],
      ['a three-part attribute path', 'a.b.c eq "x"', '"a.b.c" at position 1 is not an attribute name', 1],
      [
        'null with an operator other than eq',
        'userName gt null',
        'null at position 13 only works with "eq" (use "pr" to test that a value is present)',
        13,
      ],
      [
        'a number beyond double range',
        'meta.version eq 1e999',
        'number 1e999 at position 17 is out of range',
        17,
      ],
      [
        'a NUL in a string',
        String.raw`userName eq "a\u0000b"`,
        'the string at position 13 contains a NUL character',
        13,
      ],
      ['a raw NUL', 'userName eq "a\u0000b"', 'the filter contains a NUL character at position 15', 15],
    ];

    it.each(cases)('%s', (_name, filter, message, position) => {
      const error = inputErrorOf(() => parseScimFilter(filter));
      expect(error.field).toBe('filter');
      expect(error.allowed).toMatch(/operators eq, co, sw, pr, gt, ge, lt, le/);
      if (typeof message === 'string') expect(error.message).toBe(message);
      else expect(error.message).toMatch(message);
      if (position !== undefined) expect(error.details.position).toBe(position);
    });
  });
});

describe('scimFilterToSql', () => {
  it('compares strings case-insensitively through lower() on both sides', () => {
    expect(toSql('userName eq "Bob"')).toEqual({
      sql: 'lower(u.user_name) = lower($1::text)',
      params: ['Bob'],
    });
    expect(toSql('userName ge "m"')).toEqual({ sql: 'lower(u.user_name) >= lower($1::text)', params: ['m'] });
  });

  it('compares caseExact strings as they are', () => {
    expect(toSql('externalId eq "Ab"')).toEqual({ sql: 'u.external_id = $1::text', params: ['Ab'] });
    expect(toSql('externalId sw "A"')).toEqual({
      sql: "u.external_id LIKE $1::text ESCAPE '\\'",
      params: ['A%'],
    });
  });

  it('turns co, sw and ew into ILIKE patterns with %, _ and \\ escaped', () => {
    expect(toSql('emails.value co "50%_off\\\\"')).toEqual({
      sql: "u.email ILIKE $1::text ESCAPE '\\'",
      params: ['%50\\%\\_off\\\\%'],
    });
    expect(toSql('emails.value sw "a"').params).toEqual(['a%']);
    expect(
      scimFilterToSql({ op: 'ew', attribute: 'emails.value', value: '.com' }, ATTRIBUTES, 1).params,
    ).toEqual(['%.com']);
  });

  it('treats an empty string as absent for pr on strings', () => {
    expect(toSql('userName pr')).toEqual({
      sql: "(u.user_name IS NOT NULL AND u.user_name <> '')",
      params: [],
    });
    expect(toSql('active pr')).toEqual({ sql: 'u.active IS NOT NULL', params: [] });
  });

  it('makes eq null the complement of pr', () => {
    expect(toSql('userName eq null')).toEqual({
      sql: "(u.user_name IS NULL OR u.user_name = '')",
      params: [],
    });
    expect(toSql('meta.version eq null')).toEqual({ sql: 'u.version IS NULL', params: [] });
  });

  it('passes booleans, numbers and timestamps as typed parameters', () => {
    expect(toSql('active eq true')).toEqual({ sql: 'u.active = $1::boolean', params: [true] });
    expect(toSql('meta.version lt 3')).toEqual({ sql: 'u.version < $1::numeric', params: [3] });
    expect(toSql('meta.lastModified gt "2024-01-01T00:00:00.000Z"')).toEqual({
      sql: 'u.last_modified > $1::timestamptz',
      params: ['2024-01-01T00:00:00.000Z'],
    });
  });

  it('reads a timestamp without a zone, or a bare date, as UTC', () => {
    expect(toSql('meta.lastModified ge "2024-01-01"').params).toEqual(['2024-01-01T00:00:00Z']);
    expect(toSql('meta.lastModified ge "2024-01-01t10:20"').params).toEqual(['2024-01-01T10:20:00Z']);
    expect(toSql('meta.lastModified ge "0024-02-29"').params).toEqual(['0024-02-29T00:00:00Z']);
    expect(toSql('meta.lastModified ge "2024-01-01T10:20:30.123456+05:30"').params).toEqual([
      '2024-01-01T10:20:30.123456+05:30',
    ]);
  });

  it('numbers parameters from firstParam and joins with AND/OR in parentheses', () => {
    expect(toSql('userName eq "a" or active eq false and origin eq "uaa"', 5)).toEqual({
      sql: '(lower(u.user_name) = lower($5::text) OR (u.active = $6::boolean AND lower(u.origin) = lower($7::text)))',
      params: ['a', false, 'uaa'],
    });
  });

  it('flattens a chain of one operator into a single level of SQL', () => {
    const { sql, params } = toSql('id eq "a" or id eq "b" or id eq "c" or id eq "d"');
    expect(sql).toBe('(u.id = $1::text OR u.id = $2::text OR u.id = $3::text OR u.id = $4::text)');
    expect(params).toEqual(['a', 'b', 'c', 'd']);
  });

  it('keeps SQL injection attempts in parameters, never in the SQL text', () => {
    const attempts = [
      `x' OR '1'='1`,
      `"; DROP TABLE users; --`,
      `') OR 1=1 --`,
      `$1`,
      `\\'; select pg_sleep(10); --`,
    ];
    for (const attempt of attempts) {
      const { sql, params } = toSql(
        `userName eq ${JSON.stringify(attempt)} or emails.value co ${JSON.stringify(attempt)}`,
      );
      expect(sql).toBe(`(lower(u.user_name) = lower($1::text) OR u.email ILIKE $2::text ESCAPE '\\')`);
      expect(params[0]).toBe(attempt);
    }
  });

  it('translates ne (built by code; the parser refuses it as UAA does) so absent values match', () => {
    expect(scimFilterToSql({ op: 'ne', attribute: 'username', value: 'a' }, ATTRIBUTES, 1)).toEqual({
      sql: '(u.user_name IS NULL OR lower(u.user_name) <> lower($1::text))',
      params: ['a'],
    });
    expect(scimFilterToSql({ op: 'ne', attribute: 'username', value: null }, ATTRIBUTES, 1).sql).toBe(
      "(u.user_name IS NOT NULL AND u.user_name <> '')",
    );
  });

  it('names every unknown attribute and lists the allowed ones', () => {
    const error = inputErrorOf(() => toSql('foo eq "x" and (userName pr or Bar.Baz pr)'));
    expect(error.field).toBe('filter');
    expect(error.message).toBe('unknown filter attributes "foo", "bar.baz"');
    expect(error.allowed).toBe(
      'active, emails.value, externalid, id, meta.lastmodified, meta.version, name.givenname, origin, username',
    );
    expect(error.details.attributes).toEqual(['foo', 'bar.baz']);
    expect(inputErrorOf(() => toSql('nickName pr')).message).toBe('unknown filter attribute "nickname"');
  });

  it('does not mistake Object.prototype members for attributes', () => {
    for (const name of ['constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
      expect(inputErrorOf(() => toSql(`${name} pr`)).message).toBe(
        `unknown filter attribute "${name.toLowerCase()}"`,
      );
    }
  });

  it.each([
    ['userName eq 5', 'username is a string attribute; quote the value: username eq "5"'],
    ['userName co true', 'username is a string attribute; quote the value: username co "true"'],
    ['active eq "true"', 'active is a boolean attribute; compare it with true or false, unquoted'],
    ['active gt false', 'active is a boolean attribute; only "eq" applies to it, not "gt"'],
    ['active co true', 'active is a boolean attribute; only "eq" applies to it, not "co"'],
    ['meta.version eq "1"', 'meta.version is a number attribute; compare it with an unquoted number'],
    ['meta.version co 1', '"co" applies to string attributes, and meta.version is a number'],
    [
      'meta.lastModified gt 1700000000',
      /^meta\.lastmodified is a date-time attribute; give a quoted ISO 8601 value/,
    ],
    [
      'meta.lastModified sw "2024"',
      '"sw" applies to string attributes, and meta.lastmodified is a date-time',
    ],
    [
      'meta.lastModified gt "yesterday"',
      /^"yesterday" is not a valid ISO 8601 date-time for meta\.lastmodified/,
    ],
    [
      'meta.lastModified gt "2024-02-30T00:00:00Z"',
      /^"2024-02-30T00:00:00Z" is not a valid ISO 8601 date-time/,
    ],
    ['meta.lastModified gt "2023-02-29"', /^"2023-02-29" is not a valid ISO 8601 date-time/],
    ['meta.lastModified gt "2024-01-01T24:00:00Z"', /is not a valid ISO 8601 date-time/],
    ['meta.lastModified gt "2024-13-01T00:00:00Z"', /is not a valid ISO 8601 date-time/],
    ['meta.lastModified gt "0000-01-01T00:00:00Z"', /is not a valid ISO 8601 date-time/],
    ['meta.lastModified gt "2024-01-01T00:00:00+0200"', /is not a valid ISO 8601 date-time/],
  ])('rejects a value of the wrong kind: %s', (filter, message) => {
    const error = inputErrorOf(() => toSql(filter));
    expect(error.field).toBe('filter');
    if (typeof message === 'string') expect(error.message).toBe(message);
    else expect(error.message).toMatch(message);
  });
});

describe('parseScimSortBy', () => {
  it('returns undefined when sortBy is absent or blank', () => {
    expect(parseScimSortBy(undefined, ATTRIBUTES)).toBeUndefined();
    expect(parseScimSortBy('', ATTRIBUTES)).toBeUndefined();
    expect(parseScimSortBy('  ', ATTRIBUTES)).toBeUndefined();
  });

  it('maps attributes to columns, ignoring case', () => {
    expect(parseScimSortBy('userName', ATTRIBUTES)).toBe('u.user_name');
    expect(parseScimSortBy('META.LASTMODIFIED', ATTRIBUTES)).toBe('u.last_modified');
    expect(parseScimSortBy('origin, userName', ATTRIBUTES)).toBe('u.origin, u.user_name');
  });

  it('rejects unknown attributes, empty entries and ordinals with InputError on sortBy', () => {
    const unknown = inputErrorOf(() => parseScimSortBy('nickName', ATTRIBUTES));
    expect(unknown.field).toBe('sortBy');
    expect(unknown.message).toBe('unknown sort attribute "nickName"');
    expect(unknown.allowed).toContain('username');
    expect(inputErrorOf(() => parseScimSortBy('userName,,origin', ATTRIBUTES)).message).toBe(
      'sortBy "userName,,origin" has an empty entry',
    );
    expect(inputErrorOf(() => parseScimSortBy('1', ATTRIBUTES)).message).toBe('unknown sort attribute "1"');
    expect(inputErrorOf(() => parseScimSortBy('constructor', ATTRIBUTES)).message).toBe(
      'unknown sort attribute "constructor"',
    );
    expect(inputErrorOf(() => parseScimSortBy('u.user_name; drop table users', ATTRIBUTES)).field).toBe(
      'sortBy',
    );
  });
});

describe('invalidFilterDescription', () => {
  it("reproduces UAA's error_description for a bad filter", () => {
    expect(invalidFilterDescription('userName eq bob', 'created')).toBe(
      'Invalid filter expression: [userName eq bob] [created]',
    );
    expect(invalidFilterDescription('displayName cr "admin"')).toBe(
      'Invalid filter expression: [displayName cr "admin"]',
    );
    expect(invalidFilterDescription('x', ' ')).toBe('Invalid filter expression: [x]');
  });
});

describe('generated SQL run against PostgreSQL (PGlite)', () => {
  let db: PGlite;

  const USERS = [
    ['u1', 'alice', 'alice@example.com', 'Alice', 'ABC', true, 'uaa', '2024-01-01T00:00:00Z', 0],
    ['u2', 'Bob', 'BOB@Example.ORG', 'Bob', 'abc', false, 'ldap', '2024-03-15T10:30:00Z', 3],
    ['u3', "O'Brien", 'obrien@example.com', '', null, true, 'uaa', '2024-06-30T12:00:00.500Z', 1],
    ['u4', 'under_score', '100%off@example.com', null, null, true, 'uaa', '2025-01-01T00:00:00Z', 7],
    ['u5', 'underXscore', 'x@example.net', 'Xavier', 'XYZ', false, 'oidc', '2023-12-31T23:59:59Z', 2],
    ['u6', 'back\\slash', null, 'Back', null, true, 'uaa', '2024-02-29T00:00:00Z', 5],
    ['u7', 'a"b', 'quote@example.com', 'Q', null, true, 'ldap', '2024-07-01T00:00:00Z', 4],
  ] as const;

  beforeAll(async () => {
    db = await PGlite.create();
    await db.exec(`
      CREATE TABLE users (
        id text PRIMARY KEY,
        user_name text NOT NULL,
        email text,
        given_name text,
        external_id text,
        active boolean NOT NULL,
        origin text NOT NULL,
        last_modified timestamptz NOT NULL,
        version integer NOT NULL
      );
    `);
    for (const row of USERS) {
      await db.query('INSERT INTO users VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)', [...row]);
    }
  });

  afterAll(async () => {
    await db.close();
  });

  async function select(filter: string | ScimFilter): Promise<string[]> {
    const parsed = typeof filter === 'string' ? parseScimFilter(filter) : filter;
    const { sql, params } = scimFilterToSql(parsed, ATTRIBUTES, 1);
    const result = await db.query<{ id: string }>(
      `SELECT u.id FROM users u WHERE ${sql} ORDER BY u.id`,
      params,
    );
    return result.rows.map((row) => row.id);
  }

  it.each([
    ['id pr', ['u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'u7']],
    ['userName eq "ALICE"', ['u1']],
    ['userName eq "bob"', ['u2']],
    ['userName eq "o\'brien"', ['u3']],
    ['userName eq "A\\"B"', ['u7']],
    ["userName eq 'BOB'", ['u2']],
    ['userName eq "back\\\\slash"', ['u6']],
    ['emails.value co "example.com"', ['u1', 'u3', 'u4', 'u7']],
    ['emails.value co "EXAMPLE.ORG"', ['u2']],
    ['emails.value co "%"', ['u4']],
    ['userName co "_"', ['u4']],
    ['userName co "r_s"', ['u4']],
    ['userName co "\\\\"', ['u6']],
    ['userName sw "UNDER"', ['u4', 'u5']],
    ['userName sw "o\'"', ['u3']],
    ['userName gt "n"', ['u3', 'u4', 'u5']],
    ['externalId eq "abc"', ['u2']],
    ['externalId eq "ABC"', ['u1']],
    ['externalId co "B"', ['u1']],
    ['externalId pr', ['u1', 'u2', 'u5']],
    ['name.givenName pr', ['u1', 'u2', 'u5', 'u6', 'u7']],
    ['name.givenName eq null', ['u3', 'u4']],
    ['emails.value eq null', ['u6']],
    ['active eq true', ['u1', 'u3', 'u4', 'u6', 'u7']],
    ['active eq false', ['u2', 'u5']],
    ['meta.lastModified gt "2024-06-30T12:00:00Z"', ['u3', 'u4', 'u7']],
    ['meta.lastModified ge "2024-06-30T12:00:00.500Z"', ['u3', 'u4', 'u7']],
    ['meta.lastModified lt "2024-01-01"', ['u5']],
    ['meta.lastModified le "2024-01-01T02:00:00+02:00"', ['u1', 'u5']],
    ['meta.lastModified eq "2024-02-29T00:00:00.000Z"', ['u6']],
    ['meta.version gt 3', ['u4', 'u6', 'u7']],
    ['meta.version le 1', ['u1', 'u3']],
    ['meta.version eq 2.0', ['u5']],
    ['meta.version ge 1e0 and meta.version lt 3', ['u3', 'u5']],
    ['origin eq "ldap" or origin eq "uaa" and active eq false', ['u2', 'u7']],
    ['(origin eq "ldap" or origin eq "uaa") and active eq false', ['u2']],
    ['active eq false and origin eq "oidc" or userName eq "alice"', ['u1', 'u5']],
    ['((userName eq "alice") or ((userName eq "bob")))', ['u1', 'u2']],
    ["userName eq \"x' OR '1'='1\"", []],
    ['userName eq "alice\\"; DROP TABLE users; --" or userName co "\') OR 1=1 --"', []],
  ])('%s', async (filter, expected) => {
    expect(await select(filter)).toEqual(expected);
  });

  it('still has every row after the injection attempts', async () => {
    expect(await select('id pr')).toHaveLength(USERS.length);
  });

  it('runs ne and ew built by code, matching rows that lack the attribute', async () => {
    expect(await select({ op: 'ne', attribute: 'origin', value: 'UAA' })).toEqual(['u2', 'u5', 'u7']);
    expect(await select({ op: 'ne', attribute: 'name.givenname', value: 'bob' })).toEqual([
      'u1',
      'u3',
      'u4',
      'u5',
      'u6',
      'u7',
    ]);
    expect(await select({ op: 'ew', attribute: 'emails.value', value: '.COM' })).toEqual([
      'u1',
      'u3',
      'u4',
      'u7',
    ]);
  });

  it('runs a long flattened or-chain', async () => {
    const filter = Array.from({ length: 250 }, (_, i) => `id eq "u${i}"`).join(' or ');
    expect(await select(filter)).toEqual(['u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'u7']);
  });

  it('fits after parameters the caller already holds', async () => {
    const { sql, params } = scimFilterToSql(
      parseScimFilter('userName sw "under" or userName eq "bob"'),
      ATTRIBUTES,
      3,
    );
    const result = await db.query<{ id: string }>(
      `SELECT u.id FROM users u WHERE u.origin = $1 AND u.active = $2 AND ${sql} ORDER BY u.id`,
      ['oidc', false, ...params],
    );
    expect(result.rows.map((row) => row.id)).toEqual(['u5']);
  });

  it('orders by the sortBy column', async () => {
    const column = parseScimSortBy('meta.lastModified', ATTRIBUTES);
    const result = await db.query<{ id: string }>(`SELECT u.id FROM users u ORDER BY ${column} DESC`);
    expect(result.rows.map((row) => row.id)).toEqual(['u4', 'u7', 'u3', 'u2', 'u6', 'u1', 'u5']);
  });
});
