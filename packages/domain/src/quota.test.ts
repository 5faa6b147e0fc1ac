import { describe, expect, it } from 'vitest';
import { InputError, InputErrors } from './errors.js';
import type { Plan } from './plan.js';
import {
  footprintOf,
  limitsAnything,
  quotaExceeded,
  validateQuotaLimit,
  validateQuotaOwner,
} from './quota.js';

const plan = {
  master: { instances: 3, cpu: 2, ramMb: 4096 },
  worker: { instances: 3, cpu: 4, ramMb: 1536 },
} as unknown as Plan;

describe('quota rules', () => {
  it('sizes a cluster from its masters’ and workers’ VM types, memory in GB', () => {
    expect(footprintOf(plan, 2)).toEqual({ cpu: 14, memory: 15 });
    // Two clusters of the plan with 5 workers among them.
    expect(footprintOf(plan, 5, 2)).toEqual({ cpu: 32, memory: 31.5 });
  });

  it('names the first limit a request breaks, with the usage and the request', () => {
    const limit = { cluster: 3, cpu: 16, memory: 64 };
    const used = { cluster: 2, cpu: 10, memory: 20.5 };
    expect(quotaExceeded(limit, used, { kind: 'create', clusters: 1, adds: { cpu: 6, memory: 8 } })).toBe(
      undefined,
    );
    expect(
      quotaExceeded(
        limit,
        { ...used, cluster: 3 },
        { kind: 'create', clusters: 1, adds: { cpu: 1, memory: 1 } },
      )?.message,
    ).toBe('clusters: 3 of 3 used, creating one more exceeds the limit');
    expect(
      quotaExceeded(limit, used, { kind: 'create', clusters: 1, adds: { cpu: 7, memory: 1 } })?.message,
    ).toBe('cpu: 10 of 16 used, this cluster needs 7');
    expect(
      quotaExceeded(limit, used, { kind: 'resize', clusters: 0, adds: { cpu: 2, memory: 43.75 } })?.message,
    ).toBe('memory: 20.5 of 64 GB used, this resize adds 43.75 GB');
    // Fewer workers always fit, even over a limit lowered meanwhile.
    expect(
      quotaExceeded({ cluster: 1, cpu: 0, memory: 0 }, used, {
        kind: 'resize',
        clusters: 0,
        adds: { cpu: -4, memory: -2 },
      }),
    ).toBe(undefined);
    // Exactly at the limit fits; a bit over does not.
    expect(quotaExceeded(limit, used, { kind: 'create', clusters: 1, adds: { cpu: 1, memory: 43.5 } })).toBe(
      undefined,
    );
    expect(
      quotaExceeded(limit, used, { kind: 'create', clusters: 1, adds: { cpu: 1, memory: 44 } })?.code,
    ).toBe('QUOTA_EXCEEDED');
  });

  it('validates limits field by field, partial ones too', () => {
    expect(validateQuotaLimit({ cluster: 1, cpu: 0, memory: 0.5 })).toEqual({
      cluster: 1,
      cpu: 0,
      memory: 0.5,
    });
    expect(validateQuotaLimit({ memory: 2 }, { partial: true })).toEqual({ memory: 2 });
    let error: unknown;
    try {
      validateQuotaLimit({ cluster: 1.5, cpu: '4', memory: undefined });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InputErrors);
    expect((error as InputErrors).errors.map((e) => [e.field, e.message])).toEqual([
      ['limit.cluster', '1.5 is not allowed'],
      ['limit.cpu', 'must be a number, got "4"'],
    ]);
    expect(() => validateQuotaLimit({}, { partial: true })).toThrow(InputError);
  });

  it('takes an absent or null field as no limit, but a quota must limit something', () => {
    // PKS 1.5's quotas, and PKS tooling's POSTs: cpu and memory only.
    expect(validateQuotaLimit({ cpu: 8, memory: 32 })).toEqual({ cluster: null, cpu: 8, memory: 32 });
    expect(validateQuotaLimit({ cluster: null, cpu: 0 })).toEqual({ cluster: null, cpu: 0, memory: null });
    for (const empty of [{}, { cluster: null, cpu: null, memory: null }]) {
      let error: unknown;
      try {
        validateQuotaLimit(empty);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(InputError);
      expect((error as InputError).field).toBe('limit');
      expect((error as InputError).allowed).toMatch(/at least one of cluster, cpu, memory/);
    }
    // A PATCH: null removes that limit, an absent field stays as it is.
    expect(validateQuotaLimit({ cpu: null, memory: 4 }, { partial: true })).toEqual({ cpu: null, memory: 4 });
    expect(limitsAnything({ cluster: null, cpu: null, memory: 0 })).toBe(true);
    expect(limitsAnything({ cluster: null, cpu: null, memory: null })).toBe(false);
  });

  it('never refuses on a resource without a limit', () => {
    const used = { cluster: 50, cpu: 400, memory: 1000 };
    const big = { kind: 'create', clusters: 1, adds: { cpu: 100, memory: 500 } } as const;
    expect(quotaExceeded({ cluster: null, cpu: null, memory: 2000 }, used, big)).toBe(undefined);
    expect(quotaExceeded({ cluster: null, cpu: 450, memory: null }, used, big)?.message).toBe(
      'cpu: 400 of 450 used, this cluster needs 100',
    );
    expect(quotaExceeded({ cluster: 50, cpu: null, memory: null }, used, big)?.message).toBe(
      'clusters: 50 of 50 used, creating one more exceeds the limit',
    );
  });

  it('takes UAA user names as owners', () => {
    expect(validateQuotaOwner('alice@example.com')).toBe('alice@example.com');
    for (const bad of ['', 'two words', 'tab\there', 'x'.repeat(256), 42]) {
      expect(() => validateQuotaOwner(bad)).toThrow(InputError);
    }
  });
});
