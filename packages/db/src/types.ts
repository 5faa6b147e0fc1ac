import pg from 'pg';

/**
 * Both backends return the same JavaScript values for the same SQL types. PGlite's defaults win except
 * for `date`, which both return as the text PostgreSQL sends (`2024-01-02`), because a date has no time
 * zone and a `Date` would invent one. Decisions:
 *   int8 / bigint          → number (as PGlite does; counts and sums fit, ids should be uuid or int4)
 *   numeric                → string (both)
 *   date                   → string `YYYY-MM-DD`
 *   interval               → string (`1 day 02:00:00`; PGlite's default, node-postgres returns an object)
 *   timestamptz            → Date (both)
 *   json / jsonb           → parsed value (both)
 *   bytea                  → Uint8Array (PGlite) / Buffer, a Uint8Array (node-postgres)
 * Arrays of these follow their element type.
 */
export const Oid = {
  INT8: 20,
  INT8_ARRAY: 1016,
  TEXT_ARRAY: 1009,
  DATE: 1082,
  DATE_ARRAY: 1182,
  INTERVAL: 1186,
  INTERVAL_ARRAY: 1187,
} as const;

const identity = (value: string): string => value;

/** For PGlite's `parsers` option. */
export const pgliteParsers: Record<number, (value: string) => unknown> = {
  [Oid.DATE]: identity,
};

type NestedArray<T> = (T | null | NestedArray<T>)[];

function mapNested<T, U>(values: NestedArray<T>, fn: (value: T) => U): NestedArray<U> {
  return values.map((value) =>
    value === null ? null : Array.isArray(value) ? mapNested(value, fn) : fn(value as T),
  );
}

// pg-types' own TypeId enum lists scalar types only; array oids are just as valid at run time.
const defaultParser = pg.types.getTypeParser as (
  oid: number,
  format?: 'text' | 'binary',
) => (value: string) => unknown;
const parseTextArray = defaultParser(Oid.TEXT_ARRAY) as (value: string) => NestedArray<string>;

/** For node-postgres' `types` option (per pool, so the process-wide defaults stay untouched). */
export const pgTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary'): (value: string) => unknown {
    switch (oid) {
      case Oid.INT8:
        return Number;
      case Oid.INT8_ARRAY:
        return (value) => mapNested(parseTextArray(value), Number);
      case Oid.DATE:
      case Oid.INTERVAL:
        return identity;
      case Oid.DATE_ARRAY:
      case Oid.INTERVAL_ARRAY:
        return parseTextArray;
      default:
        return defaultParser(oid, format ?? 'text');
    }
  },
};
