import { randomUUID } from 'node:crypto';
import { Leases, type Database } from '@openpks/db';
import { InputError, NotFoundError } from '@openpks/domain';
import type { Logger } from '@openpks/role';
import {
  UpgradeInstanceState,
  UpgradeRunState,
  type UpgradeRun,
  type UpgradeRunRequest,
  type UpgradeRunSummary,
} from '../contract/upgradeRuns.js';
import { ConcurrencyError, GoneError } from '../service/errors.js';
import type { BrokerService } from '../service/brokerService.js';
import {
  upgradeRunStore,
  type RunInstanceRow,
  type RunRow,
  type StateTally,
} from '../store/upgradeRunStore.js';

export interface UpgradeRunsOptions {
  db: Database;
  service: BrokerService;
  logger: Logger;
  /** Who drives runs from this process (a lease holder name). */
  holder?: string;
  /** A driver that stops renewing (a crashed broker) loses its runs to another after this long. */
  leaseMs?: number;
  /** How often the driver looks for runs to pick up. */
  scanMs?: number;
  /** Settings of a run that its request leaves out (pks.yaml `broker.upgrades`; ODB's defaults otherwise). */
  defaults?: Partial<UpgradeRunDefaults>;
}

/** The upgrade-all settings a run request may leave out. */
export interface UpgradeRunDefaults {
  canaries: number;
  maxInFlight: number;
  attemptLimit: number;
  attemptIntervalMs: number;
}

/** ODB's upgrade-all-service-instances errand defaults. */
export const ODB_UPGRADE_DEFAULTS: UpgradeRunDefaults = {
  canaries: 0,
  maxInFlight: 1,
  attemptLimit: 5,
  attemptIntervalMs: 60_000,
};

const ACTIVE = ['pending', 'busy', 'in progress'];

/**
 * Upgrade-all as a durable job: each run and each instance's progress are rows, driven by whichever broker
 * holds the run's lease, so a restarted (or another) broker carries a run on where it stopped. Canaries
 * go first, one at a time; then up to `max_in_flight` at once. Busy instances are retried every
 * `attempt_interval` up to `attempt_limit` times. A failed canary stops new upgrades (running ones finish);
 * cancelling stops the pending ones.
 */
export class UpgradeRuns {
  readonly #db: Database;
  readonly #service: BrokerService;
  readonly #logger: Logger;
  readonly #leases: Leases;
  readonly #holder: string;
  readonly #leaseMs: number;
  readonly #scanMs: number;
  readonly #defaults: UpgradeRunDefaults;
  #timer: NodeJS.Timeout | undefined;
  #ticking: Promise<void> | undefined;
  /** Steps of this driver, one at a time: a run must never be stepped twice at once (double starts). */
  #steps: Promise<unknown> = Promise.resolve();
  #stopped = false;
  readonly #held = new Set<string>();

  constructor(options: UpgradeRunsOptions) {
    this.#db = options.db;
    this.#service = options.service;
    this.#logger = options.logger;
    this.#leases = new Leases(options.db, { schema: 'broker' });
    this.#holder = options.holder ?? `broker-${randomUUID()}`;
    this.#leaseMs = options.leaseMs ?? 15_000;
    this.#scanMs = options.scanMs ?? 1_000;
    this.#defaults = { ...ODB_UPGRADE_DEFAULTS, ...options.defaults };
  }

  /** Starts driving runs (and picks up those a stopped broker left). */
  resume(): void {
    this.#schedule(0);
  }

  /** Stops driving. `release: false` leaves the leases to expire, as a crash would. */
  async stop({ release = true }: { release?: boolean } = {}): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#ticking;
    await this.#steps;
    if (release) for (const id of this.#held) await this.#leases.release(`upgrade-run/${id}`, this.#holder);
    this.#held.clear();
  }

  async start(request: UpgradeRunRequest | Record<string, unknown>): Promise<UpgradeRun<Date>> {
    const r = request as UpgradeRunRequest;
    const positive = (name: string, value: unknown, fallback: number, min = 1): number => {
      if (value === undefined) return fallback;
      if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
        throw new InputError(name, `must be a whole number of at least ${min}`);
      }
      return value;
    };
    const defaults = this.#defaults;
    const maxInFlight = positive('max_in_flight', r.max_in_flight, defaults.maxInFlight);
    const attemptLimit = positive('attempt_limit', r.attempt_limit, defaults.attemptLimit);
    const attemptInterval = positive(
      'attempt_interval_ms',
      r.attempt_interval_ms,
      defaults.attemptIntervalMs,
      0,
    );
    const polling = positive('polling_interval_ms', r.polling_interval_ms, 60_000, 10);
    const type = r.operation_type ?? 'upgrade';
    if (r.created_by !== undefined && (typeof r.created_by !== 'string' || r.created_by.length > 256))
      throw new InputError('created_by', 'must be a name of at most 256 characters');
    if (type !== 'upgrade' && type !== 'recreate')
      throw new InputError('operation_type', 'must be upgrade or recreate');
    const all = (await this.#service.listInstances()).map((i) => i.service_instance_id);
    const instances = r.instances ?? all;
    const unknown = instances.filter((id) => !all.includes(id));
    if (unknown.length > 0) throw new NotFoundError(`service instances not found: ${unknown.join(', ')}`);
    let canaries: string[];
    if (Array.isArray(r.canaries)) {
      const outside = r.canaries.filter((id) => !instances.includes(id));
      if (outside.length > 0)
        throw new InputError('canaries', `must be among the instances: ${outside.join(', ')}`);
      canaries = r.canaries;
    } else {
      canaries = instances.slice(
        0,
        Math.min(positive('canaries', r.canaries, defaults.canaries, 0), instances.length),
      );
    }
    // Canaries first, in the order given; then the rest in the order given.
    const ordered = [...canaries, ...instances.filter((id) => !canaries.includes(id))];
    const id = randomUUID();
    await upgradeRunStore.insert(this.#db, {
      id,
      operationType: type,
      maxInFlight,
      attemptLimit,
      attemptIntervalMs: attemptInterval,
      pollingIntervalMs: polling,
      createdBy: r.created_by ?? null,
      instances: ordered,
      canaries,
    });
    this.#logger.info(
      { run: id, instances: ordered.length, canaries: canaries.length, maxInFlight },
      'upgrade run created',
    );
    // The first step happens before the answer, so whoever started the run sees its canary (or first
    // instances) already upgrading rather than a run that has not begun.
    await this.#exclusive(async () => {
      if (this.#stopped) return;
      if (!(await this.#leases.tryAcquire(`upgrade-run/${id}`, this.#holder, this.#leaseMs))) return;
      this.#held.add(id);
      const run = await upgradeRunStore.get(this.#db, id);
      if (run !== undefined && (await this.#drive(run))) {
        await this.#leases.release(`upgrade-run/${id}`, this.#holder);
        this.#held.delete(id);
      }
    });
    this.#schedule(Math.min(this.#scanMs, polling));
    return this.get(id);
  }

  /** Runs, newest first; `active` keeps those still pending or running. */
  async list(options: { active?: boolean; limit?: number } = {}): Promise<UpgradeRun<Date>[]> {
    return Promise.all((await this.#ids(options)).map((id) => this.get(id)));
  }

  async listSummaries(
    options: { active?: boolean; limit?: number } = {},
  ): Promise<UpgradeRunSummary<Date>[]> {
    return Promise.all((await this.#ids(options)).map((id) => this.summary(id)));
  }

  #ids(options: { active?: boolean; limit?: number }): Promise<string[]> {
    return upgradeRunStore.ids(this.#db, { active: options.active ?? false, limit: options.limit ?? 100 });
  }

  #exclusive<T>(step: () => Promise<T>): Promise<T> {
    const result = this.#steps.then(step);
    this.#steps = result.catch(() => undefined);
    return result;
  }

  /**
   * A run with how many of its instances are in each state, not every one of them: what a watcher of a
   * fleet-wide run polls (1,000 instance rows a poll were a fifth of the run's CPU).
   */
  async summary(id: string): Promise<UpgradeRunSummary<Date>> {
    const run = await this.#run(id);
    return { ...headOf(run), instance_counts: await upgradeRunStore.counts(this.#db, id) };
  }

  async #run(id: string): Promise<RunRow> {
    const run = await upgradeRunStore.get(this.#db, id);
    if (run === undefined) throw new NotFoundError(`upgrade run ${id} not found`);
    return run;
  }

  async get(id: string): Promise<UpgradeRun<Date>> {
    const run = await this.#run(id);
    const instances = await upgradeRunStore.instances(this.#db, id);
    return {
      ...headOf(run),
      instances: instances.map((i) => ({
        instance_id: i.instance_id,
        is_canary: i.is_canary,
        state: i.state,
        attempts: i.attempts,
        operation_id: i.operation_id,
        description: i.description,
        started_at: i.started_at,
        finished_at: i.finished_at,
      })),
    };
  }

  /** Cancels the pending instances; those already upgrading finish. */
  async cancel(id: string): Promise<UpgradeRun<Date>> {
    if (!(await upgradeRunStore.requestCancel(this.#db, id)))
      throw new NotFoundError(`upgrade run ${id} not found`);
    await upgradeRunStore.cancelWaiting(this.#db, id, 'cancelled before it started');
    this.#schedule(0);
    return this.get(id);
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#ticking = this.#exclusive(() => this.#tick())
        .catch((error: unknown) => this.#logger.error({ err: error }, 'upgrade run driver failed'))
        .finally(() => {
          this.#ticking = undefined;
        });
    }, delayMs);
    this.#timer.unref?.();
  }

  async #tick(): Promise<void> {
    let next = this.#scanMs;
    for (const run of await upgradeRunStore.active(this.#db)) {
      if (this.#stopped) return;
      if (!(await this.#leases.tryAcquire(`upgrade-run/${run.id}`, this.#holder, this.#leaseMs))) continue;
      this.#held.add(run.id);
      const finished = await this.#drive(run);
      if (finished) {
        await this.#leases.release(`upgrade-run/${run.id}`, this.#holder);
        this.#held.delete(run.id);
      } else next = Math.min(next, run.polling_interval_ms);
    }
    this.#schedule(next);
  }

  /** One step of a run; true when it has ended. */
  async #drive(run: RunRow): Promise<boolean> {
    if (run.state === UpgradeRunState.PENDING) await upgradeRunStore.markRunning(this.#db, run.id);
    // Read once per step, and only what the step acts on (the upgrades under way and the next that may
    // start) with counts for the rest: a run of 1,000 read all its rows every step, linear in the fleet.
    // This process holds the run's lease, so the rows change only through the updates below, which keep
    // `rows` and `tally` in step.
    const step = await upgradeRunStore.step(this.#db, run.id, run.max_in_flight);
    const tally = new Tally(step.tally);
    // Follow the upgrades under way, together: each is a Director task whose state may need an HTTP
    // round trip, and one slow answer must not hold the others' next steps back. Those that ended are
    // recorded in one statement.
    const ended = (
      await Promise.all(
        step.rows
          .filter((i) => i.state === UpgradeInstanceState.IN_PROGRESS)
          .map(async (row) => {
            const outcome =
              row.operation_id === null ? undefined : await this.#service.operationState(row.operation_id);
            if (outcome === undefined || outcome.state === 'failed') {
              return {
                row,
                state: UpgradeInstanceState.FAILED,
                description: outcome?.description ?? 'the operation was lost',
              };
            }
            if (outcome.state === 'succeeded') {
              return { row, state: UpgradeInstanceState.SUCCEEDED, description: outcome.description };
            }
            return undefined;
          }),
      )
    ).filter((e) => e !== undefined);
    await upgradeRunStore.upgradesEnded(
      this.#db,
      run.id,
      ended.map((e) => ({ instanceId: e.row.instance_id, state: e.state, description: e.description })),
    );
    for (const { row, state, description } of ended) {
      tally.move(row.state, state, row.is_canary);
      row.state = state;
      row.description = description;
    }
    const canaryFailed = tally.count(UpgradeInstanceState.FAILED, true) > 0;
    const stopping = canaryFailed || run.cancel_requested;
    if (stopping) {
      await upgradeRunStore.cancelWaiting(
        this.#db,
        run.id,
        canaryFailed ? 'not started: a canary failed' : 'cancelled before it started',
      );
      for (const waiting of [UpgradeInstanceState.PENDING, UpgradeInstanceState.BUSY]) {
        for (const canary of [true, false]) {
          tally.move(waiting, UpgradeInstanceState.CANCELLED, canary, tally.count(waiting, canary));
        }
      }
    } else {
      await this.#startMore(run, step.rows, tally);
    }
    if (tally.active() > 0) return false;
    // The run's end: its outcome is told from every instance, read once.
    const instances = await upgradeRunStore.instances(this.#db, run.id);
    const failed = instances.filter((i) => i.state === UpgradeInstanceState.FAILED);
    const state =
      canaryFailed || failed.length > 0
        ? UpgradeRunState.FAILED
        : run.cancel_requested
          ? UpgradeRunState.CANCELLED
          : UpgradeRunState.SUCCEEDED;
    const description = canaryFailed
      ? `a canary failed: ${failed
          .filter((i) => i.is_canary)
          .map((i) => i.instance_id)
          .join(', ')}`
      : failed.length > 0
        ? `${failed.length} of ${instances.length} instances failed`
        : run.cancel_requested
          ? 'cancelled'
          : outcomeSummary(instances);
    await upgradeRunStore.finish(this.#db, run.id, state, description);
    this.#logger.info({ run: run.id, state, description }, 'upgrade run finished');
    return true;
  }

  /** Starts upgrades up to the run's limit from `rows` (the startable ones in order), reading on if needed. */
  async #startMore(run: RunRow, rows: RunInstanceRow[], tally: Tally): Promise<void> {
    // A canary that has ended lets the rest go: a failed one stopped the run before this, and an orphaned
    // one (its deployment is gone) says nothing about the upgrade, so it counts like a skipped one.
    // Canaries one at a time and before anything else (they come first in order); the rest up to
    // max_in_flight.
    const canariesLeft = tally.active(true) > 0;
    const limit = canariesLeft ? 1 : run.max_in_flight;
    let running = tally.count(UpgradeInstanceState.IN_PROGRESS);
    const waiting = (r: RunInstanceRow) =>
      r.state === UpgradeInstanceState.PENDING || r.state === UpgradeInstanceState.BUSY;
    let candidates = rows.filter(waiting);
    // Whether more may be startable beyond the page read (instances that end at once free their slot).
    let more = candidates.length >= run.max_in_flight;
    let next = 0;
    /** The next instance that may start in this phase, reading on past the page; undefined when none. */
    const nextCandidate = async (): Promise<RunInstanceRow | undefined> => {
      while (next >= candidates.length) {
        if (!more || candidates.length === 0) return undefined;
        candidates = await upgradeRunStore.startable(
          this.#db,
          run.id,
          candidates.at(-1)!.ordinal,
          run.max_in_flight,
        );
        more = candidates.length >= run.max_in_flight;
        next = 0;
      }
      const row = candidates[next]!;
      if (canariesLeft && !row.is_canary) return undefined;
      next += 1;
      return row;
    };
    // As many as there is room for start together (one at a time, a wave of 50 took 50 starts' time,
    // each a few Director round trips); those that end at once (current, orphaned, busy) make room again.
    while (running < limit) {
      const batch: RunInstanceRow[] = [];
      while (batch.length < limit - running) {
        const row = await nextCandidate();
        if (row === undefined) break;
        batch.push(row);
      }
      if (batch.length === 0) break;
      const started = await Promise.all(batch.map((row) => this.#startOne(run, row, tally)));
      running += started.filter(Boolean).length;
    }
  }

  /** Starts one instance's upgrade; true when it is under way (false: it ended or is busy). */
  async #startOne(run: RunRow, row: RunInstanceRow, tally: Tally): Promise<boolean> {
    const attempts = row.attempts + 1;
    try {
      const result = await this.#service.upgrade(row.instance_id, run.operation_type, {});
      if (result.outcome === 'current') {
        await this.#end(tally, row, UpgradeInstanceState.SKIPPED, 'already up to date', attempts, true);
        return false;
      }
      await upgradeRunStore.instanceStarted(
        this.#db,
        run.id,
        row.instance_id,
        attempts,
        result.operation.BoshContextID,
      );
      tally.move(row.state, UpgradeInstanceState.IN_PROGRESS, row.is_canary);
      Object.assign(row, {
        state: UpgradeInstanceState.IN_PROGRESS,
        attempts,
        operation_id: result.operation.BoshContextID,
      });
      return true;
    } catch (error) {
      if (error instanceof ConcurrencyError) {
        if (attempts >= run.attempt_limit) {
          await this.#end(
            tally,
            row,
            UpgradeInstanceState.FAILED,
            `still busy after ${attempts} attempts`,
            attempts,
            true,
          );
        } else {
          await upgradeRunStore.instanceBusy(
            this.#db,
            run.id,
            row.instance_id,
            attempts,
            run.attempt_interval_ms,
          );
          tally.move(row.state, UpgradeInstanceState.BUSY, row.is_canary);
          Object.assign(row, {
            state: UpgradeInstanceState.BUSY,
            attempts,
            next_attempt_at: new Date(Date.now() + run.attempt_interval_ms),
          });
        }
      } else if (error instanceof GoneError || error instanceof NotFoundError) {
        await this.#end(tally, row, UpgradeInstanceState.ORPHANED, (error as Error).message, attempts, true);
      } else {
        await this.#end(tally, row, UpgradeInstanceState.FAILED, (error as Error).message, attempts, true);
      }
      return false;
    }
  }

  async #end(
    tally: Tally,
    row: RunInstanceRow,
    state: UpgradeInstanceState,
    description: string,
    attempts?: number,
    starting = false,
  ): Promise<void> {
    await upgradeRunStore.instanceEnded(this.#db, row.run_id, row.instance_id, {
      state,
      description,
      ...(attempts !== undefined ? { attempts } : {}),
      starting,
    });
    tally.move(row.state, state, row.is_canary);
    row.state = state;
    row.description = description;
    if (attempts !== undefined) row.attempts = attempts;
  }
}

/** How many of a run's instances are in each state, canaries apart, kept in step with a step's updates. */
class Tally {
  readonly #n = new Map<string, number>();

  constructor(counts: readonly StateTally[]) {
    for (const c of counts) this.#n.set(key(c.state, c.is_canary), c.n);
  }

  /** Instances in `state` (canaries only, the rest only, or all). */
  count(state: UpgradeInstanceState, canary?: boolean): number {
    if (canary === undefined) return this.count(state, true) + this.count(state, false);
    return this.#n.get(key(state, canary)) ?? 0;
  }

  /** Instances not ended yet. */
  active(canary?: boolean): number {
    return ACTIVE.reduce((sum, state) => sum + this.count(state as UpgradeInstanceState, canary), 0);
  }

  move(from: UpgradeInstanceState, to: UpgradeInstanceState, canary: boolean, n = 1): void {
    if (from === to || n === 0) return;
    this.#n.set(key(from, canary), this.count(from, canary) - n);
    this.#n.set(key(to, canary), this.count(to, canary) + n);
  }
}

const key = (state: UpgradeInstanceState, canary: boolean) => `${state}/${canary ? 'canary' : 'rest'}`;

/** `3 instances upgraded, 1 already up to date, 1 orphaned`: what a run that did not fail did. */
function outcomeSummary(instances: RunInstanceRow[]): string {
  const count = (state: UpgradeInstanceState) => instances.filter((i) => i.state === state).length;
  const parts = [`${count(UpgradeInstanceState.SUCCEEDED)} instances upgraded`];
  if (count(UpgradeInstanceState.SKIPPED) > 0)
    parts.push(`${count(UpgradeInstanceState.SKIPPED)} already up to date`);
  if (count(UpgradeInstanceState.ORPHANED) > 0)
    parts.push(`${count(UpgradeInstanceState.ORPHANED)} orphaned`);
  return parts.join(', ');
}

/** What a run says of itself, with or without its instances. */
function headOf(run: RunRow): Omit<UpgradeRun<Date>, 'instances'> {
  return {
    id: run.id,
    state: run.state,
    operation_type: run.operation_type,
    max_in_flight: run.max_in_flight,
    attempt_limit: run.attempt_limit,
    description: run.description,
    created_by: run.created_by,
    created_at: run.created_at,
    started_at: run.started_at,
    finished_at: run.finished_at,
  };
}
