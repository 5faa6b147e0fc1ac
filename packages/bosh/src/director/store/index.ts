import type { Database } from '@openpks/db';
import type { SecretBox } from '@openpks/pki';
import { ArtifactStore } from './artifactStore.js';
import { ConfigStore } from './configStore.js';
import { DeploymentStore } from './deploymentStore.js';
import { EventStore } from './eventStore.js';
import { SettingsStore } from './settingsStore.js';
import { TaskStore } from './taskStore.js';
import { VariableStore } from './variableStore.js';

/**
 * The embedded Director's stores, one per area of the `director` schema: every statement the Director
 * runs is in one of them (the sim CPI's own tables excepted: they are the sim's, in `cpi/` and `sim/`).
 */
export interface DirectorStores {
  tasks: TaskStore;
  events: EventStore;
  deployments: DeploymentStore;
  variables: VariableStore;
  configs: ConfigStore;
  artifacts: ArtifactStore;
  settings: SettingsStore;
}

export function directorStores(db: Database, secrets: SecretBox): DirectorStores {
  return {
    tasks: new TaskStore(db),
    events: new EventStore(db),
    deployments: new DeploymentStore(db),
    variables: new VariableStore(db, secrets),
    configs: new ConfigStore(db),
    artifacts: new ArtifactStore(db),
    settings: new SettingsStore(db),
  };
}
