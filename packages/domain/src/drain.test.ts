import { describe, expect, it } from 'vitest';
import { drainSettingAllowed, drainSettingKeyOf, validateDrainSettings } from './drain.js';
import { InputError, InputErrors, describeInputErrors } from './errors.js';

function rejection(check: () => unknown): InputError | InputErrors {
  try {
    check();
  } catch (error) {
    if (error instanceof InputError || error instanceof InputErrors) return error;
    throw error;
  }
  throw new Error('expected the settings to be rejected');
}

describe('the drain rule', () => {
  it('accepts the ends of each range and PKS strings for booleans', () => {
    expect(
      validateDrainSettings({
        kubeletDrainTimeout: '0',
        kubeletDrainGracePeriod: '-1',
        kubeletDrainForce: 'true',
        kubeletDrainForceNode: null,
      }),
    ).toEqual({ kubeletDrainTimeout: '0', kubeletDrainGracePeriod: '-1', kubeletDrainForce: 'true' });
    expect(validateDrainSettings({ kubeletDrainTimeout: '1440', kubeletDrainGracePeriod: '86400' })).toEqual({
      kubeletDrainTimeout: '1440',
      kubeletDrainGracePeriod: '86400',
    });
  });

  it('rejects every bad setting at once, naming field, value and what is allowed', () => {
    const error = rejection(() =>
      validateDrainSettings({
        kubeletDrainTimeout: '1441',
        kubeletDrainGracePeriod: '-2',
        kubeletDrainForce: 'maybe',
        kubeletDrainDeleteLocalData: 'yes',
      }),
    );
    expect(describeInputErrors(error).split('\n')).toEqual([
      'drain.kubeletDrainTimeout: "1441" is not allowed (allowed: an integer from 0 to 1440)',
      'drain.kubeletDrainGracePeriod: "-2" is not allowed (allowed: an integer from -1 to 86400)',
      'drain.kubeletDrainForce: "maybe" is not allowed (allowed: true or false)',
      'drain.kubeletDrainDeleteLocalData: "yes" is not allowed (allowed: true or false)',
    ]);
  });

  it('refuses fractions, words and objects for integers, and names fields as the caller does', () => {
    const error = rejection(() =>
      validateDrainSettings(
        { kubeletDrainTimeout: 1.5 },
        { field: (key) => `kubernetes_setting_cluster_details.${key}` },
      ),
    );
    expect(describeInputErrors(error)).toBe(
      'kubernetes_setting_cluster_details.kubeletDrainTimeout: 1.5 is not allowed (allowed: an integer from 0 to 1440)',
    );
    expect(drainSettingAllowed('kubeletDrainTimeout', 'ten')).toBe(false);
    expect(drainSettingAllowed('kubeletDrainTimeout', 30)).toBe(true);
    expect(drainSettingAllowed('kubeletDrainForce', false)).toBe(true);
    expect(() => validateDrainSettings({ kubeletDrainForce: { a: 1 } })).toThrow(InputError);
  });

  it('maps the snake_case names of pks.yaml and OSB to the keys, and nothing else', () => {
    expect(drainSettingKeyOf('kubelet_drain_grace_period')).toBe('kubeletDrainGracePeriod');
    expect(drainSettingKeyOf('kubelet_drain_everything')).toBeUndefined();
  });
});
