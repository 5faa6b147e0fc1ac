import { describe, expect, it } from 'vitest';
import { capabilitiesOf } from './scopes';

describe('capabilitiesOf', () => {
  it('lets pks.clusters.admin do everything', () => {
    expect(capabilitiesOf(['openid', 'pks.clusters.admin'])).toEqual({
      admin: true,
      readsAll: true,
      changes: true,
    });
  });

  it('lets pks.clusters.admin.read see every cluster but change none', () => {
    expect(capabilitiesOf(['pks.clusters.admin.read'])).toEqual({
      admin: false,
      readsAll: true,
      changes: false,
    });
  });

  it('lets pks.clusters.manage change its own clusters only', () => {
    expect(capabilitiesOf(['pks.clusters.manage'])).toEqual({ admin: false, readsAll: false, changes: true });
  });

  it('offers nothing without a PKS scope', () => {
    expect(capabilitiesOf(['openid'])).toEqual({ admin: false, readsAll: false, changes: false });
  });
});
