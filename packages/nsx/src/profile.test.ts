import { InputError, InputErrors } from '@openpks/domain';
import { describe, expect, it } from 'vitest';
import {
  mergeNetworkProfileUpdate,
  networkProfileUpdateConflicts,
  validateNetworkProfileParameters,
} from './profile.js';

function errorsOf(
  parameters: unknown,
  options = {},
): { field: string | undefined; allowed: string | undefined }[] {
  try {
    validateNetworkProfileParameters(parameters, options);
  } catch (error) {
    if (error instanceof InputErrors)
      return error.errors.map((e) => ({ field: e.field, allowed: e.allowed }));
    if (error instanceof InputError) return [{ field: error.field, allowed: error.allowed }];
    throw error;
  }
  return [];
}

describe('network profile parameters', () => {
  it('accepts the full schema of PKS 1.6, cni_configurations included', () => {
    const parameters = {
      lb_size: 'medium',
      pod_ip_block_ids: ['ebe78a74-a5d5-4dde-ba76-9cf4067eee55'],
      pod_subnet_prefix: 26,
      pod_routable: true,
      node_ip_block_ids: ['2250dc43-63c8-4bb8-b8cf-c6e12ccfb7de'],
      node_subnet_prefix: 20,
      node_routable: false,
      fip_pool_ids: ['e50e8f6e-1a7a-45dc-ad49-3a607baa7fa3'],
      t0_router_id: '5a7a82b2-37e2-4d73-9cb1-97a8329e1a90',
      master_vms_nsgroup_id: '9b8d535a-d3b6-4735-9fd0-56305c4a5293',
      nodes_dns: ['8.8.8.8', '1.1.1.1'],
      dns_lookup_mode: 'API_INGRESS',
      ingress_prefix: 'ingress',
      single_tier_topology: false,
      infrastructure_networks: ['30.0.0.0/24', '192.168.1.0/28'],
      cni_configurations: {
        type: 'nsxt',
        parameters: {
          nsx_lb: true,
          nsx_ingress_controller: false,
          x_forwarded_for: 'insert',
          ingress_ip: '192.168.160.212',
          log_settings: { log_level: 'DEBUG', log_dropped_traffic: true },
          ingress_persistence_settings: { persistence_type: 'cookie', persistence_timeout: 30 },
          max_l4_lb_service: 10,
          l4_persistence_type: 'source_ip',
          l4_lb_algorithm: 'weighted_round_robin',
          top_firewall_section_marker: 'top',
          bottom_firewall_section_marker: 'bottom',
        },
      },
    };
    expect(validateNetworkProfileParameters(parameters)).toEqual(parameters);
    expect(validateNetworkProfileParameters({})).toEqual({});
  });

  it('names every bad field with what is allowed', () => {
    const errors = errorsOf({
      lb_size: 'huge',
      pod_ip_block_ids: 'block',
      pod_subnet_prefix: 8,
      pod_routable: 'yes',
      node_ip_block_ids: ['ok', 'not valid!'],
      node_subnet_prefix: 24.5,
      fip_pool_ids: ['a', 'a'],
      t0_router_id: 7,
      nodes_dns: ['8.8.8.8', '8.8.4.4', '1.1.1.1', '9.9.9.9'],
      dns_lookup_mode: 'DNS',
      ingress_prefix: 'not a label',
      single_tier_topology: 1,
      infrastructure_networks: ['10.0.0.1/24'],
      colour: 'blue',
    });
    const byField = Object.fromEntries(errors.map((e) => [e.field, e.allowed]));
    expect(byField).toMatchObject({
      'parameters.lb_size': 'small, medium, large',
      'parameters.pod_ip_block_ids': 'a JSON array',
      'parameters.pod_subnet_prefix': 'an integer from 16 to 28',
      'parameters.pod_routable': 'true, false',
      'parameters.node_ip_block_ids[1]': expect.stringContaining('NSX-T object id'),
      'parameters.node_subnet_prefix': 'an integer from 16 to 28',
      'parameters.fip_pool_ids': 'each entry once',
      'parameters.t0_router_id': expect.stringContaining('NSX-T object id'),
      'parameters.nodes_dns': 'at most 3',
      'parameters.dns_lookup_mode': 'API, API_INGRESS',
      'parameters.ingress_prefix': expect.stringContaining('letters'),
      'parameters.single_tier_topology': 'true, false',
      'parameters.infrastructure_networks[0]': expect.stringContaining('CIDR'),
      'parameters.colour': expect.stringContaining('lb_size'),
    });
    expect(errors).toHaveLength(14);
  });

  it('checks cni_configurations field by field', () => {
    const errors = errorsOf({
      cni_configurations: {
        type: 'flannel',
        parameters: {
          nsx_lb: 'true',
          x_forwarded_for: 'append',
          ingress_ip: '300.1.1.1',
          log_settings: { log_level: 'TRACE' },
          ingress_persistence_settings: { persistence_type: 'sticky', persistence_timeout: 0 },
          max_l4_lb_service: 0,
          l4_persistence_type: 'cookie',
          l4_lb_algorithm: 'random',
          extra: 1,
        },
      },
    });
    const byField = Object.fromEntries(errors.map((e) => [e.field, e.allowed]));
    const p = 'parameters.cni_configurations';
    expect(byField).toEqual({
      [`${p}.type`]: 'nsxt',
      [`${p}.parameters.nsx_lb`]: 'true, false',
      [`${p}.parameters.x_forwarded_for`]: 'insert, replace',
      [`${p}.parameters.ingress_ip`]: expect.stringContaining('IPv4'),
      [`${p}.parameters.log_settings.log_level`]: 'INFO, WARNING, DEBUG, ERROR, CRITICAL',
      [`${p}.parameters.ingress_persistence_settings.persistence_type`]: 'none, cookie, source_ip',
      [`${p}.parameters.ingress_persistence_settings.persistence_timeout`]: 'an integer, at least 1',
      [`${p}.parameters.max_l4_lb_service`]: 'an integer, at least 1',
      [`${p}.parameters.l4_persistence_type`]: 'source_ip',
      [`${p}.parameters.l4_lb_algorithm`]: 'round_robin, least_connection, ip_hash, weighted_round_robin',
      [`${p}.parameters.extra`]: expect.stringContaining('nsx_lb'),
    });
    expect(errorsOf({ cni_configurations: { parameters: {} } })).toEqual([
      { field: 'parameters.cni_configurations.type', allowed: 'nsxt' },
    ]);
  });

  it("refuses the installation's own pod IP block and a non-object", () => {
    expect(errorsOf({ pod_ip_block_ids: ['tile-pods'] }, { tilePodIpBlockId: 'tile-pods' })).toEqual([
      { field: 'parameters.pod_ip_block_ids', allowed: 'IP blocks created for profiles' },
    ]);
    expect(errorsOf([])[0]!.field).toBe('parameters');
  });
});

describe('update rules (PKS 1.6)', () => {
  const current = {
    lb_size: 'small' as const,
    pod_ip_block_ids: ['a', 'b'],
    pod_subnet_prefix: 24,
    t0_router_id: 't0',
    cni_configurations: { type: 'nsxt' as const, parameters: { nsx_lb: true } },
  };

  it('allows adding and reordering pod IP blocks, and ignores fields empty on either side', () => {
    const next = {
      pod_ip_block_ids: ['c', 'b', 'a'],
      lb_size: 'small' as const,
      cni_configurations: current.cni_configurations,
    };
    expect(networkProfileUpdateConflicts(current, next)).toEqual([]);
    expect(networkProfileUpdateConflicts(current, { ...next, t0_router_id: '' })).toEqual([]);
    // Adding blocks without the prefix keeps the cluster's prefix (the 1.6.0 bug wrote 0).
    expect(mergeNetworkProfileUpdate(current, next)).toMatchObject({
      pod_ip_block_ids: ['c', 'b', 'a'],
      pod_subnet_prefix: 24,
    });
  });

  it('reports every other difference field by field', () => {
    const conflicts = networkProfileUpdateConflicts(current, {
      lb_size: 'large',
      pod_ip_block_ids: ['b'],
      pod_subnet_prefix: 25,
      t0_router_id: 't0',
      cni_configurations: { type: 'nsxt', parameters: { nsx_lb: false, l4_lb_algorithm: 'ip_hash' } },
    });
    expect(conflicts.map((c) => c.field).sort()).toEqual([
      'parameters.cni_configurations.parameters.l4_lb_algorithm',
      'parameters.cni_configurations.parameters.nsx_lb',
      'parameters.lb_size',
      'parameters.pod_ip_block_ids',
      'parameters.pod_subnet_prefix',
    ]);
    expect(conflicts.find((c) => c.field === 'parameters.pod_ip_block_ids')!.message).toContain(
      'a would be removed',
    );
    expect(conflicts.find((c) => c.field === 'parameters.lb_size')!.message).toBe(
      'cannot change from "small" to "large"',
    );
  });

  it('never lets cni_configurations appear or disappear', () => {
    const { cni_configurations: _, ...without } = current;
    expect(networkProfileUpdateConflicts(current, without).map((c) => c.field)).toEqual([
      'parameters.cni_configurations',
    ]);
    expect(networkProfileUpdateConflicts(without, current).map((c) => c.field)).toEqual([
      'parameters.cni_configurations',
    ]);
  });
});
