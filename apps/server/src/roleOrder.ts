import type { Role } from '@openpks/config';
import { InputError } from '@openpks/domain';
import type { RoleModule } from '@openpks/role';

/**
 * Orders the requested roles so each starts after the roles it names in `after` (when those run in
 * this process too). Stopping goes in reverse.
 */
export function orderRoles(available: readonly RoleModule[], requested: readonly Role[]): RoleModule[] {
  const byName = new Map(available.map((module) => [module.name, module]));
  const wanted = new Set(requested);
  const ordered: RoleModule[] = [];
  const visiting = new Set<Role>();
  const visit = (name: Role) => {
    if (ordered.some((m) => m.name === name)) return;
    if (visiting.has(name))
      throw new InputError('roles', `roles depend on each other in a cycle through ${name}`);
    visiting.add(name);
    const module = byName.get(name)!;
    for (const dependency of module.after ?? []) if (wanted.has(dependency)) visit(dependency);
    visiting.delete(name);
    ordered.push(module);
  };
  for (const name of requested) visit(name);
  return ordered;
}
