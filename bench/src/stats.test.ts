import { describe, expect, it } from 'vitest';
import { quantile, quantileWithMisses } from './stats.js';

describe('quantileWithMisses', () => {
  it('equals quantile when nothing was missed', () => {
    const values = [300, 100, 200, 400];
    for (const q of [0, 0.5, 0.99, 1]) expect(quantileWithMisses(values, q)).toBe(quantile(values, q));
  });

  it('counts a miss as longer than every hit', () => {
    // Sorted: 100, 200, 300, miss, miss → p50 is the third value; p99 falls among the misses.
    const values = [null, 300, 100, null, 200];
    expect(quantileWithMisses(values, 0.5)).toBe(300);
    expect(quantileWithMisses(values, 0.99)).toBeNull();
  });

  it('gives null when interpolation would reach a miss, or when every value missed', () => {
    expect(quantileWithMisses([100, null], 0.5)).toBeNull();
    expect(quantileWithMisses([null, null, null], 0)).toBeNull();
    expect(quantileWithMisses([], 0.5)).toBeNull();
  });
});
