import { describe, expect, it } from 'vitest';
import { gb, ofLimit, usageLine } from './quota';

describe('the usage line of the clusters page', () => {
  it('shows usage against each limit', () => {
    expect(usageLine({ cluster: 2, cpu: 8, memory: 16 }, { cluster: 3, cpu: 16, memory: 64 })).toBe(
      'Clusters 2 / 3 · CPU 8 / 16 · Memory 16 / 64 GB',
    );
  });

  it('shows a resource the quota leaves unlimited as no limit', () => {
    expect(usageLine({ cluster: 2, cpu: 8, memory: 16 }, { cluster: null, cpu: 16, memory: null })).toBe(
      'Clusters 2 / no limit · CPU 8 / 16 · Memory 16 / no limit',
    );
    expect(ofLimit(gb(2.5), 4.125, gb)).toBe('2.5 / 4.13');
  });

  it('says when there is no quota', () => {
    expect(usageLine({ cluster: 1, cpu: 4, memory: 8 }, null)).toBe(
      'Clusters 1 · CPU 4 · Memory 8 GB · no quota',
    );
  });

  it('rounds GB to hundredths without float noise', () => {
    expect([gb(0.1 + 0.2), gb(31.5), gb(2 / 3)]).toEqual(['0.3', '31.5', '0.67']);
  });
});
