import { CombinedError } from 'urql';
import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { codeOf, fieldErrorOf, fieldErrorsOf } from './errors';

const graphQLError = (message: string, extensions: Record<string, unknown>) =>
  new GraphQLError(message, { extensions });

describe('fieldErrorsOf', () => {
  it('puts a BAD_USER_INPUT error on the field the API names, with what is allowed', () => {
    const error = new CombinedError({
      graphQLErrors: [
        graphQLError('cluster name "Demo" contains uppercase letters', {
          code: 'BAD_USER_INPUT',
          field: 'input.name',
          allowed: 'lowercase letters',
        }),
      ],
    });
    expect(fieldErrorsOf(error, ['name', 'externalHostname'])).toEqual({
      fields: { name: 'cluster name "Demo" contains uppercase letters (allowed: lowercase letters)' },
    });
    expect(codeOf(error)).toBe('BAD_USER_INPUT');
  });

  it('spreads a list of field errors, and maps nested parameter paths to their form field', () => {
    const error = new CombinedError({
      graphQLErrors: [
        graphQLError('invalid network profile', {
          code: 'BAD_USER_INPUT',
          fields: [
            { field: 'parameters.lb_size', message: 'must be small, medium or large' },
            { field: 'name', message: 'is taken' },
          ],
        }),
      ],
    });
    expect(fieldErrorsOf(error, ['name', 'parameters'])).toEqual({
      fields: { parameters: 'must be small, medium or large', name: 'is taken' },
    });
  });

  it('leaves errors without a known field for the form as a whole', () => {
    const error = new CombinedError({
      graphQLErrors: [graphQLError('quota exceeded', { code: 'QUOTA_EXCEEDED' })],
    });
    expect(fieldErrorsOf(error, ['name'])).toEqual({ fields: {}, form: 'quota exceeded' });
  });

  it('reports an unreachable API as a form error', () => {
    const error = new CombinedError({ networkError: new Error('fetch failed') });
    expect(fieldErrorsOf(error, ['name']).form).toContain('could not reach the API');
  });
});

describe('fieldErrorOf', () => {
  const atPath = (message: string, path: string[], extensions: Record<string, unknown>) =>
    new GraphQLError(message, { path, extensions });

  it('gives the reason of the error on that field of a partial answer, not the withheld message', () => {
    const error = new CombinedError({
      graphQLErrors: [
        atPath('internal error', ['cluster', 'nodes'], {
          code: 'INTERNAL',
          reason: 'the BOSH Director could not list this cluster’s VMs; try again later',
        }),
      ],
    });
    expect(fieldErrorOf(error, 'nodes')).toBe(
      'the BOSH Director could not list this cluster’s VMs; try again later',
    );
    expect(fieldErrorOf(error, 'nsxDetails')).toBeUndefined();
  });

  it('falls back to the message when the error gives no reason', () => {
    const error = new CombinedError({
      graphQLErrors: [
        atPath('Network profile p not found', ['cluster', 'nsxDetails'], { code: 'NOT_FOUND' }),
      ],
    });
    expect(fieldErrorOf(error, 'nsxDetails')).toBe('Network profile p not found');
    expect(fieldErrorOf(undefined, 'nsxDetails')).toBeUndefined();
  });
});
