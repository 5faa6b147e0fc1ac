import { mkdir, open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { InputError } from '@openpks/domain';
import { createBinding, dashboardUrl, deleteBinding, type BindingRegistry } from './binding.js';
import { AdapterExitCode, adapterExitCodeOf, userMessageOf } from './errors.js';
import { generateManifest } from './manifest.js';
import { generatePlanSchemas } from './schemas.js';
import type { BoshVms, OdbPlan, RequestParameters, ServiceDeployment } from './types.js';

export interface AdapterRun {
  exitCode: AdapterExitCode;
  stdout: string;
  stderr: string;
}

export interface AdapterCommandOptions {
  /** Where the executable remembers bindings (41/49); without it every binding is new and deletable. */
  stateDir?: string | undefined;
  resolves?: ((hostname: string) => Promise<boolean>) | undefined;
}

/** Each stdin value is a string holding serialized JSON or YAML (ODB's `use_stdin` mode). */
function field<T>(input: Record<string, unknown>, key: string, optional = false): T {
  const value = input[key];
  if (value === undefined || value === null || value === '') {
    if (optional) return undefined as T;
    throw new InputError(key, `stdin is missing '${key}'`);
  }
  if (typeof value !== 'string') return value as T;
  return parse(value) as T;
}

function section(stdin: string, key: string): Record<string, unknown> {
  let document: unknown;
  try {
    document = JSON.parse(stdin);
  } catch {
    throw new InputError(undefined, 'stdin is not a JSON document');
  }
  const value = (document as Record<string, unknown> | null)?.[key];
  if (typeof value !== 'object' || value === null) {
    throw new InputError(key, `stdin has no '${key}' object`);
  }
  return value as Record<string, unknown>;
}

/** Remembers bindings as files, created exclusively so two adapters racing on one id cannot both win. */
function directoryRegistry(dir: string): BindingRegistry {
  const path = (id: string) => join(dir, `binding-${encodeURIComponent(id)}`);
  return {
    async add(id) {
      await mkdir(dir, { recursive: true });
      try {
        await (await open(path(id), 'wx')).close();
        return true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
        throw error;
      }
    },
    async remove(id) {
      try {
        await unlink(path(id));
        return true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
        throw error;
      }
    },
  };
}

/**
 * Runs one ODB subcommand against its stdin document: stdout for ODB (JSON), stderr for the operator, and
 * ODB's exit code. Never throws; nothing secret goes to stderr.
 */
export async function runAdapterCommand(
  subcommand: string | undefined,
  stdin: string,
  options: AdapterCommandOptions = {},
): Promise<AdapterRun> {
  const registry = options.stateDir !== undefined ? directoryRegistry(options.stateDir) : undefined;
  try {
    switch (subcommand) {
      case 'generate-manifest': {
        const input = section(stdin, 'generate_manifest');
        const result = generateManifest({
          serviceDeployment: field<ServiceDeployment>(input, 'service_deployment'),
          plan: field<OdbPlan>(input, 'plan'),
          requestParams: field<RequestParameters | null>(input, 'request_parameters', true) ?? null,
          previousManifest: typeof input.previous_manifest === 'string' ? input.previous_manifest : undefined,
          previousPlan: field<OdbPlan | null>(input, 'previous_plan', true) ?? null,
        });
        return ok(JSON.stringify({ manifest: result.manifest, secrets: {}, configs: {}, labels: {} }));
      }
      case 'create-binding': {
        const input = section(stdin, 'create_binding');
        const binding = await createBinding(
          {
            bindingId: String(input.binding_id ?? ''),
            boshVms: field<BoshVms>(input, 'bosh_vms', true) ?? {},
            manifest: String(input.manifest ?? ''),
            requestParams: field<RequestParameters>(input, 'request_parameters', true) ?? {},
            secrets: field<Record<string, string>>(input, 'secrets', true) ?? {},
          },
          { registry, resolves: options.resolves },
        );
        return ok(JSON.stringify(binding));
      }
      case 'delete-binding': {
        const input = section(stdin, 'delete_binding');
        await deleteBinding({ bindingId: String(input.binding_id ?? '') }, { registry });
        return ok('');
      }
      case 'dashboard-url': {
        const input = section(stdin, 'dashboard_url');
        const url = dashboardUrl({
          instanceId: String(input.instance_id ?? ''),
          plan: field<OdbPlan>(input, 'plan'),
          manifest: String(input.manifest ?? ''),
        });
        return ok(JSON.stringify({ dashboard_url: url }));
      }
      case 'generate-plan-schemas': {
        const input = section(stdin, 'generate_plan_schemas');
        return ok(JSON.stringify(generatePlanSchemas(field<OdbPlan>(input, 'plan'))));
      }
      default:
        return {
          exitCode: AdapterExitCode.ERROR,
          stdout: '',
          stderr: `unknown subcommand '${subcommand ?? ''}': expected generate-manifest, create-binding, delete-binding, dashboard-url or generate-plan-schemas\n`,
        };
    }
  } catch (error) {
    const exitCode = adapterExitCodeOf(error);
    const message = userMessageOf(error);
    return {
      exitCode,
      stdout: exitCode === AdapterExitCode.ERROR ? message : '',
      stderr: `${subcommand}: ${error instanceof Error ? error.message : String(error)}\n`,
    };
  }
}

function ok(stdout: string): AdapterRun {
  return { exitCode: AdapterExitCode.OK, stdout, stderr: '' };
}
