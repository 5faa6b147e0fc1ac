import { InputError, throwInputErrors } from './errors.js';

/**
 * The six kubelet drain settings: plan fields in pks.yaml, per-cluster overrides in the PKS API, and
 * `kubernetes_setting_cluster_details` in the broker's OSB parameters. One rule for all three.
 */
export const DRAIN_SETTING_KEYS = [
  'kubeletDrainTimeout',
  'kubeletDrainGracePeriod',
  'kubeletDrainForce',
  'kubeletDrainIgnoreDaemonsets',
  'kubeletDrainDeleteLocalData',
  'kubeletDrainForceNode',
] as const;
export type DrainSettingKey = (typeof DRAIN_SETTING_KEYS)[number];

/** A drain setting's rule: what is allowed (in the words errors use) and what the value means. */
export interface DrainRule {
  readonly allowed: string;
  readonly meaning: string;
  /** Integer settings have a range; the others are booleans. */
  readonly range?: { readonly min: number; readonly max: number };
}

const integer = (min: number, max: number, meaning: string): DrainRule => ({
  allowed: `an integer from ${min} to ${max}`,
  meaning,
  range: { min, max },
});
const boolean = (meaning: string): DrainRule => ({ allowed: 'true or false', meaning });

export const DRAIN_RULES: Readonly<Record<DrainSettingKey, DrainRule>> = {
  kubeletDrainTimeout: integer(0, 1440, 'minutes; 0 waits without limit'),
  kubeletDrainGracePeriod: integer(-1, 86400, "seconds; -1 uses each pod's own grace period"),
  kubeletDrainForce: boolean('delete pods that no controller manages'),
  kubeletDrainIgnoreDaemonsets: boolean('leave DaemonSet pods in place'),
  kubeletDrainDeleteLocalData: boolean('delete pods that use emptyDir volumes'),
  kubeletDrainForceNode: boolean('stop the node even when the drain times out'),
};

/**
 * Whether a drain value obeys its rule. Values come as PKS and OSB carry them (strings: "30", "true"),
 * or typed from pks.yaml (30, true); both are read the same way.
 */
export function drainSettingAllowed(key: DrainSettingKey, value: string | number | boolean): boolean {
  const rule = DRAIN_RULES[key];
  const text = String(value);
  if (rule.range === undefined) return text === 'true' || text === 'false';
  if (!/^-?\d+$/.test(text)) return false;
  const n = Number(text);
  return n >= rule.range.min && n <= rule.range.max;
}

/** `kubelet_drain_timeout` → `kubeletDrainTimeout`; undefined for any other name. */
export function drainSettingKeyOf(name: string): DrainSettingKey | undefined {
  const key = name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
  return (DRAIN_SETTING_KEYS as readonly string[]).includes(key) ? (key as DrainSettingKey) : undefined;
}

export interface ValidateDrainOptions {
  /** The field an error names for a key (default `drain.<key>`, the PKS API's input). */
  field?: (key: DrainSettingKey) => string;
}

/**
 * Checks drain settings given as PKS takes them and returns them as strings; every bad one is reported
 * (one InputError, or InputErrors), naming its field, the value and what is allowed. Absent (undefined or
 * null) settings are left out.
 */
export function validateDrainSettings(
  settings: Partial<Record<DrainSettingKey, unknown>>,
  options: ValidateDrainOptions = {},
): Partial<Record<DrainSettingKey, string>> {
  const fieldOf = options.field ?? ((key: DrainSettingKey) => `drain.${key}`);
  const out: Partial<Record<DrainSettingKey, string>> = {};
  const bad: InputError[] = [];
  for (const key of DRAIN_SETTING_KEYS) {
    const value = settings[key];
    if (value === undefined || value === null) continue;
    const given = typeof value === 'string' ? JSON.stringify(value) : String(value);
    if (
      (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') ||
      !drainSettingAllowed(key, value)
    ) {
      bad.push(
        new InputError(fieldOf(key), `${given} is not allowed`, { allowed: DRAIN_RULES[key].allowed }),
      );
      continue;
    }
    out[key] = String(value);
  }
  throwInputErrors(bad);
  return out;
}
