import { CombinedError } from 'urql';
import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { codeOf, fieldErrorOf, fieldErrorsOf, inputErrorLine } from './errors';

const graphQLError = (message: string, extensions: Record<string, unknown>) =>
  new GraphQLError(message, { extensions });

describe('fieldErrorsOf', () => {
  const CLUSTER_FORM = { name: 'Cluster name', externalHostname: 'External hostname' };

  it('puts a BAD_USER_INPUT error on the field the API names, in the one rule, by its label', () => {
    const error = new CombinedError({
      graphQLErrors: [
        // As the API answers: the message already in the rule, the parts in extensions.
        graphQLError('name: cluster name "Demo" contains uppercase letters (allowed: lowercase letters)', {
          code: 'BAD_USER_INPUT',
          field: 'name',
          allowed: 'lowercase letters',
          fields: [
            {
              field: 'name',
              message: 'cluster name "Demo" contains uppercase letters',
              allowed: 'lowercase letters',
            },
          ],
        }),
      ],
    });
    expect(fieldErrorsOf(error, CLUSTER_FORM)).toEqual({
      fields: {
        name: 'Cluster name: cluster name "Demo" contains uppercase letters (allowed: lowercase letters)',
      },
    });
    expect(codeOf(error)).toBe('BAD_USER_INPUT');
  });

  it('puts every bad key of a parameters JSON under that field, one line each, named by its path', () => {
    const error = new CombinedError({
      graphQLErrors: [
        graphQLError('…', {
          code: 'BAD_USER_INPUT',
          fields: [
            {
              field: 'parameters.lb_size',
              message: '"huge" is not allowed',
              allowed: 'small, medium, large',
            },
            { field: 'name', message: 'is taken' },
            { field: 'parameters.nodes_dns[0]', message: '"x" is not an IPv4 address' },
          ],
        }),
      ],
    });
    expect(fieldErrorsOf(error, { name: 'Name', parameters: 'Parameters' })).toEqual({
      fields: {
        parameters:
          'parameters.lb_size: "huge" is not allowed (allowed: small, medium, large)\n' +
          'parameters.nodes_dns[0]: "x" is not an IPv4 address',
        name: 'Name: is taken',
      },
    });
  });

  it('leaves errors without a known field for the form as a whole, still in the rule', () => {
    const quota = new CombinedError({
      graphQLErrors: [graphQLError('quota exceeded', { code: 'QUOTA_EXCEEDED' })],
    });
    expect(fieldErrorsOf(quota, { name: 'Name' })).toEqual({ fields: {}, form: 'quota exceeded' });
    const elsewhere = new CombinedError({
      graphQLErrors: [
        graphQLError('drain.kubeletDrainTimeout: "x" is not allowed', {
          code: 'BAD_USER_INPUT',
          fields: [{ field: 'drain.kubeletDrainTimeout', message: '"x" is not allowed' }],
        }),
      ],
    });
    expect(fieldErrorsOf(elsewhere, { name: 'Name' })).toEqual({
      fields: {},
      form: 'drain.kubeletDrainTimeout: "x" is not allowed',
    });
  });

  it('shows a conflict on its field as the API words it', () => {
    const error = new CombinedError({
      graphQLErrors: [graphQLError('Cluster demo already exists', { code: 'CONFLICT', field: 'name' })],
    });
    expect(fieldErrorsOf(error, CLUSTER_FORM)).toEqual({ fields: { name: 'Cluster demo already exists' } });
  });

  it('reports an unreachable API as a form error', () => {
    const error = new CombinedError({ networkError: new Error('fetch failed') });
    expect(fieldErrorsOf(error, { name: 'Name' }).form).toContain('could not reach the API');
  });
});

describe('inputErrorLine', () => {
  it('names a form field by its label and anything inside one by its path', () => {
    const form = { numNodes: 'Worker nodes', parameters: 'Parameters' };
    expect(inputErrorLine(form, 'numNodes', '11 is not allowed', '1 to 10')).toBe(
      'Worker nodes: 11 is not allowed (allowed: 1 to 10)',
    );
    expect(inputErrorLine(form, 'parameters.lb_size', '"huge" is not allowed')).toBe(
      'parameters.lb_size: "huge" is not allowed',
    );
    expect(inputErrorLine(form, undefined, 'nothing to change')).toBe('nothing to change');
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
