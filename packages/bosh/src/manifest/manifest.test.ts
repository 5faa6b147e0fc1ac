import { describe, expect, it } from 'vitest';
import { kuboManifest } from '../testing/kuboManifest.js';
import { maxInFlightOf, parseManifest } from './manifest.js';

describe('parseManifest', () => {
  it('reads a kubo-style manifest: groups, lifecycle, update block inherited per group, variables', () => {
    const manifest = parseManifest(kuboManifest({ name: 'm', masters: 3, workers: 5, maxInFlight: '50%' }));
    expect(manifest.instanceGroups.map((g) => [g.name, g.instances, g.lifecycle])).toEqual([
      ['master', 3, 'service'],
      ['worker', 5, 'service'],
      ['apply-addons', 1, 'errand'],
    ]);
    expect(manifest.instanceGroups[1]!.update).toMatchObject({
      canaries: 1,
      maxInFlight: '50%',
      serial: true,
    });
    expect(manifest.variables.map((v) => v.type)).toContain('ssh');
  });

  it.each([
    ['name: x\n', 'update'],
    ['name: [1]\n', 'manifest.name'],
    [kuboManifest({ name: 'm' }).replace('vm_type: worker', 'vm_type: ""'), 'instance_groups.worker.vm_type'],
    [
      kuboManifest({ name: 'm' }).replace(
        'stemcell: default\n    vm_type: worker',
        'stemcell: other\n    vm_type: worker',
      ),
      'instance_groups.worker.stemcell',
    ],
    [
      kuboManifest({ name: 'm' }).replace('lifecycle: errand', 'lifecycle: sometimes'),
      'instance_groups.apply-addons.lifecycle',
    ],
    [kuboManifest({ name: 'm' }).replace('type: rsa', 'type: gpg'), 'variables.service-account-key.type'],
    [kuboManifest({ name: 'm' }).replace('ca: etcd_ca', 'ca: nowhere'), 'variables.tls-etcd.options.ca'],
    ['name: x\nname: y\n', 'manifest'],
  ])('names the faulty field (%#)', (text, field) => {
    expect(() => parseManifest(text)).toThrow(expect.objectContaining({ field }));
  });
});

describe('maxInFlightOf', () => {
  it('takes numbers as they are and rounds percentages of the group, at least 1', () => {
    const policy = { canaries: 1, canaryWatchTime: 1, updateWatchTime: 1, serial: true };
    expect(maxInFlightOf({ ...policy, maxInFlight: 3 }, 10)).toBe(3);
    expect(maxInFlightOf({ ...policy, maxInFlight: '25%' }, 10)).toBe(3);
    expect(maxInFlightOf({ ...policy, maxInFlight: '10%' }, 3)).toBe(1);
    expect(maxInFlightOf({ ...policy, maxInFlight: '100%' }, 7)).toBe(7);
  });
});

describe('parsed manifests kept by text', () => {
  it('hands the same frozen manifest to every reader of the same text, and a failure afresh each time', () => {
    const text = kuboManifest({ name: 'kept', masters: 1, workers: 2 });
    const first = parseManifest(text);
    expect(parseManifest(text)).toBe(first);
    expect(Object.isFrozen(first.instanceGroups[0]!.jobs[0])).toBe(true);
    expect(() => {
      (first.raw as { name: string }).name = 'changed';
    }).toThrow(TypeError);
    expect(parseManifest(text).name).toBe('kept');
    expect(parseManifest(kuboManifest({ name: 'other' })).name).toBe('other');
    const broken = 'name: x\ninstance_groups: 3\n';
    const errors = [0, 1].map(() => {
      try {
        parseManifest(broken);
      } catch (error) {
        return error;
      }
      return undefined;
    });
    expect(errors[0]).toBeInstanceOf(Error);
    expect(errors[1]).not.toBe(errors[0]);
  });
});
