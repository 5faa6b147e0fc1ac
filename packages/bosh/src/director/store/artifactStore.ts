import type { Queryable } from '@openpks/db';

export interface StemcellRow {
  name: string;
  version: string;
  operating_system: string;
  cid: string;
}

export interface ReleaseRow {
  name: string;
  version: string;
  commit_hash: string;
  job_names: string[];
}

/** `director.stemcells` and `director.releases`: what was uploaded (or registered by the sim). */
export class ArtifactStore {
  constructor(private readonly db: Queryable) {}

  async stemcells(): Promise<StemcellRow[]> {
    const { rows } = await this.db.query<StemcellRow>(
      'SELECT name, version, operating_system, cid FROM director.stemcells ORDER BY name, version',
    );
    return rows;
  }

  /** Whether a stemcell of that version is there, named by its name or its OS (a manifest may use either). */
  async hasStemcell(name: string, os: string, version: string): Promise<boolean> {
    const { rowCount } = await this.db.query(
      'SELECT 1 FROM director.stemcells WHERE (name = $1 OR operating_system = $2) AND version = $3',
      [name, os, version],
    );
    return rowCount > 0;
  }

  /** Records a stemcell; one already there is kept as it is. */
  async addStemcell(stemcell: StemcellRow): Promise<void> {
    await this.db.query(
      'INSERT INTO director.stemcells (name, version, operating_system, cid) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING',
      [stemcell.name, stemcell.version, stemcell.operating_system, stemcell.cid],
    );
  }

  async releases(): Promise<ReleaseRow[]> {
    const { rows } = await this.db.query<ReleaseRow>(
      'SELECT name, version, commit_hash, job_names FROM director.releases ORDER BY name, version',
    );
    return rows;
  }

  async hasRelease(name: string, version: string): Promise<boolean> {
    const { rowCount } = await this.db.query(
      'SELECT 1 FROM director.releases WHERE name = $1 AND version = $2',
      [name, version],
    );
    return rowCount > 0;
  }

  /** Records a release (without a commit hash: `unknown`); one already there is kept as it is. */
  async addRelease(release: Omit<ReleaseRow, 'commit_hash'> & { commit_hash?: string }): Promise<void> {
    await this.db.query(
      'INSERT INTO director.releases (name, version, commit_hash, job_names) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING',
      [release.name, release.version, release.commit_hash ?? 'unknown', JSON.stringify(release.job_names)],
    );
  }
}
