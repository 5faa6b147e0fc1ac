/**
 * SCIM filters (`GET /Users?filter=…`, `GET /Groups?filter=…`) parsed into a small tree and translated to a
 * parameterised PostgreSQL `WHERE` fragment, plus `sortBy` translated to `ORDER BY` columns.
 *
 * Compatibility with Cloud Foundry UAA (cloudfoundry/uaa `SimpleSearchQueryConverter`, which parses with the
 * UnboundID SCIM 1.1 SDK `FilterParser`):
 * - Operators `eq co sw pr gt ge lt le`, joined by `and` (binds tighter) and `or`, with parentheses. Operators,
 *   `and`/`or` and attribute names are case-insensitive. UAA rejects `ne`, `ew` and `not`, and so do we. (The
 *   `ne`/`ew` tree nodes exist only for filters that code builds itself.)
 * - Values are double-quoted strings with JSON escapes, numbers, or `true`/`false`. UAA also accepts
 *   single-quoted strings (its "legacy" retry), and so do we. Unlike UAA we accept `null` for `eq`, as RFC 7644
 *   allows: `x eq null` matches exactly the rows that `x pr` does not.
 * - String comparisons ignore case (UAA wraps both sides in `LOWER()`), unless the attribute is `caseExact`.
 * - Other deliberate differences. `co`/`sw` escape `%`, `_` and `\` so that they match literally (UAA passes
 *   them through as wildcards). Error messages name the problem and where it is. UAA only says "Invalid filter
 *   expression", and routes should still answer with that text: see `invalidFilterDescription`.
 */
import { InputError, invariant } from '@openpks/domain';

export type ScimFilter =
  | { op: 'and' | 'or'; left: ScimFilter; right: ScimFilter }
  | { op: 'pr'; attribute: string }
  | {
      op: 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'gt' | 'ge' | 'lt' | 'le';
      attribute: string;
      value: string | number | boolean | null;
    };

/** How one filterable SCIM attribute maps to SQL. `column` is trusted SQL text (e.g. `u.user_name`). */
export interface ScimAttribute {
  column: string;
  type: 'string' | 'boolean' | 'timestamp' | 'number';
  /** Compare with case (RFC 7643 `caseExact`). The default ignores case, as UAA does for every string. */
  caseExact?: boolean;
}

/** The operators a filter may use: exactly UAA's (UnboundID `FilterParser`). */
export const SCIM_FILTER_OPERATORS = ['eq', 'co', 'sw', 'pr', 'gt', 'ge', 'lt', 'le'] as const;

/** Longer filters are refused before anything is parsed, so hostile input costs little. */
export const MAX_FILTER_LENGTH = 4096;
/** Deepest parenthesis nesting allowed. The parser recurses once per level, so this bounds the stack. */
export const MAX_FILTER_DEPTH = 50;

/** UAA's `error` for an invalid filter or sortBy: `ScimException` reported by its class name. */
export const INVALID_FILTER_ERROR = 'scim';

/**
 * UAA's `error_description` (and `message`) for an invalid filter or sortBy. `ScimUserEndpoints` appends
 * ` [sortBy]` whenever sortBy has text (it defaults to `created`); `ScimGroupEndpoints` passes no sortBy.
 * Observed bodies: `{"error":"scim","error_description":"Invalid filter expression: [userName eq bob] [created]"}`.
 * Newer UAA releases also HTML-escape this text. UAA 4.x, the generation PKS 1.6 bundled, did not, and
 * neither do we: the text travels in JSON, not HTML.
 */
export function invalidFilterDescription(filter: string, sortBy?: string): string {
  let description = `Invalid filter expression: [${filter}]`;
  if (sortBy !== undefined && sortBy.trim() !== '') description += ` [${sortBy}]`;
  return description;
}

const SYNTAX_ALLOWED =
  'attribute operator value, e.g. userName eq "bob"; operators eq, co, sw, pr, gt, ge, lt, le; ' +
  'combined with and, or and parentheses; values are "quoted strings", numbers, true, false or null';

// Operators from RFC 7644 that UAA does not implement. They get a clearer message than an unknown word.
const UNSUPPORTED_OPERATORS = new Set(['ne', 'ew']);
const COMPARISON_OPERATORS = new Set<string>(SCIM_FILTER_OPERATORS);

// RFC 7644 ATTRNAME with at most one sub-attribute, e.g. `userName`, `meta.lastModified`, `emails.value`.
const ATTRIBUTE_PATH = /^[A-Za-z][A-Za-z0-9_-]*(?:\.[A-Za-z][A-Za-z0-9_-]*)?$/;
const NUMBER = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/;

type Token =
  | { kind: 'lparen' | 'rparen' | 'lbracket' | 'rbracket' | 'end'; pos: number; text: string }
  | { kind: 'word'; pos: number; text: string }
  | { kind: 'string'; pos: number; text: string; value: string };

function syntaxError(message: string, pos: number | undefined, token?: string): InputError {
  // Positions are 1-based in messages and details, counting characters of the filter as sent.
  const details: Record<string, unknown> = {};
  if (pos !== undefined) details.position = pos + 1;
  if (token !== undefined) details.token = token;
  return new InputError('filter', message, { allowed: SYNTAX_ALLOWED, details });
}

function at(pos: number): string {
  return `at position ${pos + 1}`;
}

function describe(token: Token): string {
  if (token.kind === 'end') return 'the end of the filter';
  const text = token.text.length > 40 ? `${token.text.slice(0, 37)}...` : token.text;
  return token.kind === 'string' ? `string ${text}` : `"${text}"`;
}

function isSpace(ch: string): boolean {
  return ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || ch === '\f' || ch === '\v';
}

const SINGLE_CHAR_TOKENS: Record<string, 'lparen' | 'rparen' | 'lbracket' | 'rbracket'> = {
  '(': 'lparen',
  ')': 'rparen',
  '[': 'lbracket',
  ']': 'rbracket',
};

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (isSpace(ch)) {
      i++;
    } else if (Object.hasOwn(SINGLE_CHAR_TOKENS, ch)) {
      tokens.push({ kind: SINGLE_CHAR_TOKENS[ch]!, pos: i, text: ch });
      i++;
    } else if (ch === '"' || ch === "'") {
      const token = readString(text, i);
      tokens.push(token);
      i += token.text.length;
    } else {
      // A word runs to whitespace, a bracket or a double quote. A single quote inside a word stays part of
      // it, so `O'Brien` unquoted reads as one (unquoted, hence rejected) value rather than a broken string.
      const start = i;
      while (i < text.length) {
        const c = text[i]!;
        if (isSpace(c) || Object.hasOwn(SINGLE_CHAR_TOKENS, c) || c === '"') break;
        i++;
      }
      tokens.push({ kind: 'word', pos: start, text: text.slice(start, i) });
    }
  }
  tokens.push({ kind: 'end', pos: text.length, text: '' });
  return tokens;
}

const SIMPLE_ESCAPES: Record<string, string> = {
  '"': '"',
  "'": "'",
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};

/** Reads a quoted string at `start` (JSON escapes, as UnboundID's parser; `\'` too). */
function readString(text: string, start: number): Token & { kind: 'string' } {
  const quote = text[start]!;
  let value = '';
  let i = start + 1;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === quote) {
      return { kind: 'string', pos: start, text: text.slice(start, i + 1), value };
    }
    if (ch === '\\') {
      const escape = text[i + 1];
      if (escape === undefined) break;
      if (Object.hasOwn(SIMPLE_ESCAPES, escape)) {
        value += SIMPLE_ESCAPES[escape]!;
        i += 2;
      } else if (escape === 'u') {
        const hex = text.slice(i + 2, i + 6);
        if (!/^[0-9A-Fa-f]{4}$/.test(hex)) {
          throw syntaxError(
            `invalid escape sequence \\u${hex} ${at(i)}: \\u needs four hex digits`,
            i,
            `\\u${hex}`,
          );
        }
        value += String.fromCharCode(parseInt(hex, 16));
        i += 6;
      } else {
        throw syntaxError(
          `invalid escape sequence \\${escape} ${at(i)}; use \\" \\' \\\\ \\/ \\b \\f \\n \\r \\t or \\uXXXX`,
          i,
          `\\${escape}`,
        );
      }
    } else {
      value += ch;
      i++;
    }
  }
  throw syntaxError(`unterminated string starting ${at(start)}: no closing ${quote}`, start, quote);
}

/** Strips a schema URN (`urn:…:User:userName` → `userName`), as UnboundID's `AttributePath` does. */
function attributeName(path: string): string {
  return /^urn:/i.test(path) ? path.slice(path.lastIndexOf(':') + 1) : path;
}

function literal(word: string): { value: number | boolean | null } | undefined {
  // ABNF string literals are case-insensitive, and UnboundID (via org.json) reads TRUE/False alike.
  const lower = word.toLowerCase();
  if (lower === 'true') return { value: true };
  if (lower === 'false') return { value: false };
  if (lower === 'null') return { value: null };
  if (NUMBER.test(word)) return { value: Number(word) };
  return undefined;
}

class Parser {
  private index = 0;
  private depth = 0;

  constructor(private readonly tokens: Token[]) {}

  parse(): ScimFilter {
    const first = this.peek();
    if (first.kind === 'end') {
      throw syntaxError('the filter is empty; expected an expression such as userName eq "bob"', undefined);
    }
    const filter = this.parseOr();
    const next = this.peek();
    if (next.kind === 'rparen') {
      throw syntaxError(`unmatched ")" ${at(next.pos)}: no "(" opens it`, next.pos, ')');
    }
    if (next.kind !== 'end') throw this.expectedJoin(next);
    return filter;
  }

  private peek(): Token {
    return this.tokens[this.index]!;
  }

  private next(): Token {
    const token = this.tokens[this.index]!;
    if (token.kind !== 'end') this.index++;
    return token;
  }

  private isKeyword(token: Token, keyword: string): boolean {
    return token.kind === 'word' && token.text.toLowerCase() === keyword;
  }

  private expectedJoin(token: Token): InputError {
    return syntaxError(
      `unexpected ${describe(token)} ${at(token.pos)}; expected "and", "or" or the end of the filter`,
      token.pos,
      token.text,
    );
  }

  // Left-associative loops, not recursion, so a long `a or b or c …` chain costs no stack.
  private parseOr(): ScimFilter {
    let left = this.parseAnd();
    while (this.isKeyword(this.peek(), 'or')) {
      const keyword = this.next();
      left = { op: 'or', left, right: this.parseAnd(keyword) };
    }
    return left;
  }

  private parseAnd(after?: Token): ScimFilter {
    let left = this.parseOperand(after);
    while (this.isKeyword(this.peek(), 'and')) {
      const keyword = this.next();
      left = { op: 'and', left, right: this.parseOperand(keyword) };
    }
    return left;
  }

  /** A parenthesised expression or one comparison; `after` is the `and`/`or` before it, for messages. */
  private parseOperand(after?: Token): ScimFilter {
    const token = this.peek();
    const context = after ? ` after "${after.text}" ${at(after.pos)}` : '';
    if (token.kind === 'end') {
      throw syntaxError(`expected an expression${context} but the filter ended`, token.pos);
    }
    if (token.kind === 'lparen') return this.parseGroup();
    if (token.kind === 'rparen') {
      throw syntaxError(`expected an expression${context} but found ")" ${at(token.pos)}`, token.pos, ')');
    }
    if (this.isKeyword(token, 'and') || this.isKeyword(token, 'or')) {
      throw syntaxError(
        `"${token.text}" ${at(token.pos)} has no expression ${after ? `between it and "${after.text}"` : 'before it'}`,
        token.pos,
        token.text,
      );
    }
    if (this.isKeyword(token, 'not')) {
      throw syntaxError(
        `"not" ${at(token.pos)} is not supported (UAA has no "not" operator)`,
        token.pos,
        token.text,
      );
    }
    return this.parseComparison();
  }

  private parseGroup(): ScimFilter {
    const open = this.next();
    this.depth++;
    if (this.depth > MAX_FILTER_DEPTH) {
      throw syntaxError(
        `parentheses nest deeper than ${MAX_FILTER_DEPTH} levels ${at(open.pos)}`,
        open.pos,
        open.text,
      );
    }
    if (this.peek().kind === 'rparen') {
      throw syntaxError(`empty parentheses ${at(open.pos)}`, open.pos, '()');
    }
    const inner = this.parseOr();
    const close = this.peek();
    if (close.kind === 'end') {
      throw syntaxError(`unclosed "(" ${at(open.pos)}: the filter ended before its ")"`, open.pos, '(');
    }
    if (close.kind !== 'rparen') {
      throw syntaxError(
        `unexpected ${describe(close)} ${at(close.pos)}; expected "and", "or" or ")" to close the "(" ${at(open.pos)}`,
        close.pos,
        close.text,
      );
    }
    this.next();
    this.depth--;
    return inner;
  }

  private parseComparison(): ScimFilter {
    const attributeToken = this.next();
    if (attributeToken.kind !== 'word') {
      throw syntaxError(
        `expected an attribute name ${at(attributeToken.pos)} but found ${describe(attributeToken)}`,
        attributeToken.pos,
        attributeToken.text,
      );
    }
    const path = attributeName(attributeToken.text);
    if (!ATTRIBUTE_PATH.test(path)) {
      const hint = literal(attributeToken.text) ? ' (a value cannot come first)' : '';
      throw syntaxError(
        `"${attributeToken.text}" ${at(attributeToken.pos)} is not an attribute name${hint}`,
        attributeToken.pos,
        attributeToken.text,
      );
    }
    const attribute = path.toLowerCase();

    const operatorToken = this.next();
    if (operatorToken.kind === 'lbracket') {
      throw syntaxError(
        `value filters such as ${attributeToken.text}[…] ${at(operatorToken.pos)} are not supported; ` +
          'use a sub-attribute instead, e.g. emails.value eq "a@example.com"',
        operatorToken.pos,
        '[',
      );
    }
    if (operatorToken.kind === 'end') {
      throw syntaxError(
        `expected an operator after "${attributeToken.text}" ${at(attributeToken.pos)} but the filter ended`,
        operatorToken.pos,
      );
    }
    if (operatorToken.kind !== 'word') {
      throw syntaxError(
        `expected an operator after "${attributeToken.text}" but found ${describe(operatorToken)} ${at(operatorToken.pos)}`,
        operatorToken.pos,
        operatorToken.text,
      );
    }
    const op = operatorToken.text.toLowerCase();
    if (UNSUPPORTED_OPERATORS.has(op)) {
      throw syntaxError(
        `operator "${operatorToken.text}" ${at(operatorToken.pos)} is not supported (UAA supports eq, co, sw, pr, gt, ge, lt, le)`,
        operatorToken.pos,
        operatorToken.text,
      );
    }
    if (!COMPARISON_OPERATORS.has(op)) {
      throw syntaxError(
        `unknown operator "${operatorToken.text}" ${at(operatorToken.pos)}; expected one of eq, co, sw, pr, gt, ge, lt, le`,
        operatorToken.pos,
        operatorToken.text,
      );
    }

    if (op === 'pr') {
      const following = this.peek();
      if (following.kind === 'string' || (following.kind === 'word' && literal(following.text))) {
        throw syntaxError(
          `"${operatorToken.text}" takes no value, but ${describe(following)} follows ${at(following.pos)}`,
          following.pos,
          following.text,
        );
      }
      return { op: 'pr', attribute };
    }

    const valueToken = this.next();
    const needsValue = `"${operatorToken.text}" ${at(operatorToken.pos)} needs a value`;
    if (valueToken.kind === 'end') {
      throw syntaxError(`${needsValue} but the filter ended`, valueToken.pos);
    }
    if (valueToken.kind === 'string') {
      if (valueToken.value.includes('\u0000')) {
        // PostgreSQL text cannot hold NUL: refuse here rather than fail in the database.
        throw syntaxError(`the string ${at(valueToken.pos)} contains a NUL character`, valueToken.pos);
      }
      return { op: op as Exclude<ScimFilter['op'], 'and' | 'or' | 'pr'>, attribute, value: valueToken.value };
    }
    if (valueToken.kind !== 'word') {
      throw syntaxError(`${needsValue} but found ${describe(valueToken)}`, valueToken.pos, valueToken.text);
    }
    if (this.isKeyword(valueToken, 'and') || this.isKeyword(valueToken, 'or')) {
      throw syntaxError(
        `${needsValue} but found ${describe(valueToken)} ${at(valueToken.pos)}`,
        valueToken.pos,
        valueToken.text,
      );
    }
    const parsed = literal(valueToken.text);
    if (!parsed) {
      throw syntaxError(
        `value ${valueToken.text} ${at(valueToken.pos)} must be quoted, e.g. ${JSON.stringify(valueToken.text)} ` +
          '(only numbers, true, false and null go unquoted)',
        valueToken.pos,
        valueToken.text,
      );
    }
    if (typeof parsed.value === 'number' && !Number.isFinite(parsed.value)) {
      throw syntaxError(
        `number ${valueToken.text} ${at(valueToken.pos)} is out of range`,
        valueToken.pos,
        valueToken.text,
      );
    }
    if (parsed.value === null && op !== 'eq') {
      throw syntaxError(
        `null ${at(valueToken.pos)} only works with "eq" (use "pr" to test that a value is present)`,
        valueToken.pos,
        valueToken.text,
      );
    }
    return { op: op as Exclude<ScimFilter['op'], 'and' | 'or' | 'pr'>, attribute, value: parsed.value };
  }
}

/**
 * Parses a SCIM filter. Attribute names come back lowercased (without any schema URN). Throws `InputError`
 * (field `filter`) naming what is wrong and its 1-based position (also in `details.position`).
 */
export function parseScimFilter(text: string): ScimFilter {
  if (typeof text !== 'string') throw syntaxError('the filter must be a string', undefined);
  if (text.length > MAX_FILTER_LENGTH) {
    throw syntaxError(
      `the filter is ${text.length} characters long, over the limit of ${MAX_FILTER_LENGTH}`,
      undefined,
    );
  }
  if (text.includes('\u0000')) {
    throw syntaxError(
      `the filter contains a NUL character ${at(text.indexOf('\u0000'))}`,
      text.indexOf('\u0000'),
    );
  }
  return new Parser(tokenize(text)).parse();
}

type Comparison = Extract<ScimFilter, { value: unknown }>;
type Junction = Extract<ScimFilter, { left: ScimFilter }>;

// A guard, because `op === 'and' || op === 'or'` does not narrow the union in the false branch.
function isJunction(filter: ScimFilter): filter is Junction {
  return filter.op === 'and' || filter.op === 'or';
}

function allowedAttributes(attributes: Record<string, ScimAttribute>): string {
  return Object.keys(attributes).sort().join(', ');
}

function lookup(attributes: Record<string, ScimAttribute>, name: string): ScimAttribute | undefined {
  // Own properties only: `constructor` or `__proto__` in a filter must not reach Object.prototype.
  return Object.hasOwn(attributes, name) ? attributes[name] : undefined;
}

function collectUnknown(
  filter: ScimFilter,
  attributes: Record<string, ScimAttribute>,
  unknown: Set<string>,
): void {
  const stack: ScimFilter[] = [filter];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (isJunction(node)) {
      stack.push(node.right, node.left);
    } else if (!lookup(attributes, node.attribute.toLowerCase())) {
      unknown.add(node.attribute);
    }
  }
}

function typeError(message: string, attribute: string): InputError {
  return new InputError('filter', message, { allowed: SYNTAX_ALLOWED, details: { attribute } });
}

function daysInMonth(year: number, month: number): number {
  // setUTCFullYear, not Date.UTC: Date.UTC reads years 0-99 as 1900-1999.
  const date = new Date(0);
  date.setUTCFullYear(year, month, 0);
  return date.getUTCDate();
}

const ISO_DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?([Zz]|[+-]\d{2}:\d{2})?)?$/;

/**
 * Checks an ISO 8601 date-time and returns it in a form PostgreSQL reads unambiguously. No zone means UTC, so
 * results do not depend on the session time zone. A bare date means midnight UTC.
 */
function isoTimestamp(value: string, attribute: string): string {
  const match = ISO_DATE_TIME.exec(value);
  const invalid = () =>
    typeError(
      `${JSON.stringify(value)} is not a valid ISO 8601 date-time for ${attribute}; ` +
        'use e.g. "2024-05-13T04:42:34.000Z"',
      attribute,
    );
  if (!match) throw invalid();
  const [, y, mo, d, h = '00', mi = '00', s = '00', fraction = '', zone = 'Z'] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const zoneOk =
    zone.toUpperCase() === 'Z' || (Number(zone.slice(1, 3)) <= 15 && Number(zone.slice(4, 6)) <= 59);
  if (
    year < 1 ||
    month < 1 ||
    month > 12 ||
    day < 1 ||
    day > daysInMonth(year, month) ||
    Number(h) > 23 ||
    Number(mi) > 59 ||
    Number(s) > 59 ||
    !zoneOk
  ) {
    throw invalid();
  }
  return `${y}-${mo}-${d}T${h}:${mi}:${s}${fraction}${zone.toUpperCase()}`;
}

/** `%`, `_` and the escape character itself match literally in a LIKE pattern with `ESCAPE '\'`. */
function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (ch) => `\\${ch}`);
}

class SqlBuilder {
  readonly params: unknown[] = [];

  constructor(
    private readonly attributes: Record<string, ScimAttribute>,
    private readonly firstParam: number,
  ) {}

  private param(value: unknown, cast: string): string {
    this.params.push(value);
    // Explicit casts: parameters arrive untyped, and `lower($1)` alone is ambiguous to PostgreSQL.
    return `$${this.firstParam + this.params.length - 1}::${cast}`;
  }

  build(filter: ScimFilter): string {
    if (isJunction(filter)) {
      // Flatten `a or b or c` into one level, so a long chain does not become deeply nested SQL.
      const operands: ScimFilter[] = [];
      const stack: ScimFilter[] = [filter];
      while (stack.length > 0) {
        const node = stack.pop()!;
        if (isJunction(node) && node.op === filter.op) stack.push(node.right, node.left);
        else operands.push(node);
      }
      return `(${operands.map((operand) => this.build(operand)).join(filter.op === 'and' ? ' AND ' : ' OR ')})`;
    }
    const attribute = lookup(this.attributes, filter.attribute.toLowerCase());
    invariant(attribute, `attribute ${filter.attribute} was checked before building SQL`);
    if (filter.op === 'pr') return this.present(attribute);
    return this.compare(filter, attribute);
  }

  private present(attribute: ScimAttribute): string {
    const col = attribute.column;
    // An empty string counts as absent, as RFC 7643 §2.5 treats unassigned and empty values alike.
    return attribute.type === 'string' ? `(${col} IS NOT NULL AND ${col} <> '')` : `${col} IS NOT NULL`;
  }

  private absent(attribute: ScimAttribute): string {
    const col = attribute.column;
    return attribute.type === 'string' ? `(${col} IS NULL OR ${col} = '')` : `${col} IS NULL`;
  }

  private compare(filter: Comparison, attribute: ScimAttribute): string {
    const { op, value } = filter;
    const name = filter.attribute;
    const col = attribute.column;

    if (value === null) {
      // `eq null` is the exact complement of `pr`; `ne null` (built by code only) is `pr` itself.
      if (op === 'eq') return this.absent(attribute);
      if (op === 'ne') return this.present(attribute);
      throw typeError(`"${op}" cannot compare ${name} with null; use "eq null" or "pr"`, name);
    }

    switch (attribute.type) {
      case 'string': {
        if (typeof value !== 'string') {
          throw typeError(
            `${name} is a string attribute; quote the value: ${name} ${op} ${JSON.stringify(String(value))}`,
            name,
          );
        }
        const exact = attribute.caseExact === true;
        if (op === 'co' || op === 'sw' || op === 'ew') {
          const pattern = `${op === 'sw' ? '' : '%'}${escapeLike(value)}${op === 'ew' ? '' : '%'}`;
          return `${col} ${exact ? 'LIKE' : 'ILIKE'} ${this.param(pattern, 'text')} ESCAPE '\\'`;
        }
        const p = this.param(value, 'text');
        // lower() on both sides, as UAA does; an index on lower(column) serves it.
        const [left, right] = exact ? [col, p] : [`lower(${col})`, `lower(${p})`];
        return this.relation(op, col, left, right);
      }
      case 'boolean': {
        if (typeof value !== 'boolean') {
          throw typeError(`${name} is a boolean attribute; compare it with true or false, unquoted`, name);
        }
        if (op !== 'eq' && op !== 'ne') {
          // RFC 7644 §3.4.2.2: gt/ge/lt/le on a boolean is an invalid filter.
          throw typeError(`${name} is a boolean attribute; only "eq" applies to it, not "${op}"`, name);
        }
        return this.relation(op, col, col, this.param(value, 'boolean'));
      }
      case 'number': {
        if (typeof value !== 'number') {
          throw typeError(`${name} is a number attribute; compare it with an unquoted number`, name);
        }
        if (op === 'co' || op === 'sw' || op === 'ew') {
          throw typeError(`"${op}" applies to string attributes, and ${name} is a number`, name);
        }
        return this.relation(op, col, col, this.param(value, 'numeric'));
      }
      case 'timestamp': {
        if (typeof value !== 'string') {
          throw typeError(
            `${name} is a date-time attribute; give a quoted ISO 8601 value, e.g. "2024-05-13T04:42:34.000Z"`,
            name,
          );
        }
        if (op === 'co' || op === 'sw' || op === 'ew') {
          throw typeError(`"${op}" applies to string attributes, and ${name} is a date-time`, name);
        }
        return this.relation(op, col, col, this.param(isoTimestamp(value, name), 'timestamptz'));
      }
      default: {
        const unexpected: never = attribute.type;
        invariant(false, `unknown SCIM attribute type ${String(unexpected)}`);
      }
    }
  }

  private relation(op: Comparison['op'], col: string, left: string, right: string): string {
    switch (op) {
      case 'eq':
        return `${left} = ${right}`;
      case 'ne':
        // SCIM `ne` matches resources that lack the attribute, which SQL's `<>` alone would drop.
        return `(${col} IS NULL OR ${left} <> ${right})`;
      case 'gt':
        return `${left} > ${right}`;
      case 'ge':
        return `${left} >= ${right}`;
      case 'lt':
        return `${left} < ${right}`;
      case 'le':
        return `${left} <= ${right}`;
      default:
        invariant(false, `operator ${op} has no SQL relation`);
    }
  }
}

/**
 * Translates a parsed filter to a SQL boolean expression whose values are all `$n` parameters, numbered from
 * `firstParam`. `attributes` maps lowercased SCIM attribute paths to columns. An unknown attribute, or a
 * value of the wrong type for its attribute, throws `InputError` (field `filter`). Every unknown attribute is
 * named at once, as UAA does.
 */
export function scimFilterToSql(
  filter: ScimFilter,
  attributes: Record<string, ScimAttribute>,
  firstParam: number,
): { sql: string; params: unknown[] } {
  invariant(
    Number.isInteger(firstParam) && firstParam >= 1,
    `firstParam must be a positive integer, not ${firstParam}`,
  );
  const unknown = new Set<string>();
  collectUnknown(filter, attributes, unknown);
  if (unknown.size > 0) {
    const names = [...unknown].map((name) => `"${name}"`).join(', ');
    throw new InputError(
      'filter',
      `unknown filter ${unknown.size === 1 ? 'attribute' : 'attributes'} ${names}`,
      { allowed: allowedAttributes(attributes), details: { attributes: [...unknown] } },
    );
  }
  const builder = new SqlBuilder(attributes, firstParam);
  const sql = builder.build(filter);
  return { sql, params: builder.params };
}

/**
 * Translates `sortBy` to the column(s) to order by, or `undefined` when it is absent or blank. Like UAA, it
 * takes a comma-separated list of attributes (case-insensitive) and returns the columns comma-separated. A
 * caller appending ` ASC`/` DESC` then sorts by the last column in that direction, as UAA does. Unknown
 * attributes throw `InputError` (field `sortBy`). Unlike UAA, column ordinals (`sortBy=1`) are not accepted.
 */
export function parseScimSortBy(
  sortBy: string | undefined,
  attributes: Record<string, ScimAttribute>,
): string | undefined {
  if (sortBy === undefined || sortBy.trim() === '') return undefined;
  if (sortBy.length > MAX_FILTER_LENGTH) {
    throw new InputError(
      'sortBy',
      `sortBy is ${sortBy.length} characters long, over the limit of ${MAX_FILTER_LENGTH}`,
      {
        allowed: allowedAttributes(attributes),
      },
    );
  }
  const columns: string[] = [];
  for (const part of sortBy.split(',')) {
    const name = part.trim();
    if (name === '') {
      throw new InputError('sortBy', `sortBy ${JSON.stringify(sortBy)} has an empty entry`, {
        allowed: allowedAttributes(attributes),
      });
    }
    const attribute = lookup(attributes, attributeName(name).toLowerCase());
    if (!attribute) {
      throw new InputError('sortBy', `unknown sort attribute "${name}"`, {
        allowed: allowedAttributes(attributes),
        details: { attribute: name },
      });
    }
    columns.push(attribute.column);
  }
  return columns.join(', ');
}
