import { describe, expect, it } from 'vitest';
import { InputError } from './errors.js';
import { validateClusterName } from './cluster.js';

function rejection(name: unknown): InputError {
  try {
    validateClusterName(name);
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(name)} to be rejected`);
}

describe('validateClusterName', () => {
  it.each(['a', 'my-cluster', 'c1', 'prod-eu-01', 'a'.repeat(40)])('accepts %s', (name) => {
    expect(validateClusterName(name)).toBe(name);
  });

  it('rejects an empty name as required', () => {
    expect(rejection('').message).toBe('cluster name is required');
    expect(rejection(undefined).field).toBe('name');
  });

  it('rejects a name longer than 40 characters and says how long it is', () => {
    const error = rejection('a'.repeat(41));
    expect(error.message).toContain('41 characters');
    expect(error.allowed).toContain('1-40');
  });

  it.each([
    ['Prod', 'contains uppercase letters'],
    ['1cluster', 'does not start with a letter'],
    ['-cluster', 'does not start with a letter'],
    ['cluster-', 'does not end with a letter or digit'],
    ['my_cluster', 'contains characters other than'],
    ['my.cluster', 'contains characters other than'],
  ])('rejects %s because it %s', (name, reason) => {
    const error = rejection(name);
    expect(error.code).toBe('BAD_USER_INPUT');
    expect(error.message).toContain(reason);
  });

  it('names the field it was asked to validate', () => {
    try {
      validateClusterName('Bad', 'input.name');
    } catch (error) {
      expect((error as InputError).field).toBe('input.name');
      return;
    }
    throw new Error('not rejected');
  });
});
