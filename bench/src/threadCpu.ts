import { readdirSync, readFileSync } from 'node:fs';

/** CPU ms of the main thread and of every other thread (Linux `/proc/self/task/<tid>/stat`). */
export type ThreadCpu = Record<string, number>;

// USER_HZ: 100 on every Linux Node supports (the kernel reports utime and stime in these ticks).
const TICK_MS = 10;

/**
 * This process's CPU time split into the main thread (the one event loop every role shares) and the
 * rest: libuv's pool (key generation, hashing, file I/O), V8's helpers (parallel GC, compilation) and
 * worker threads. Node names all of them `node`, so the split is by thread id (the main thread's is the
 * process id). Empty where `/proc` is not there.
 */
export function threadCpu(): ThreadCpu {
  const byName: ThreadCpu = {};
  let tids: string[];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    return byName;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      // `pid (comm) state ...`: comm may hold spaces and parentheses; the fields after its last `)`.
      const close = stat.lastIndexOf(')');
      const name = Number(tid) === process.pid ? 'mainThread' : 'otherThreads';
      const fields = stat.slice(close + 2).split(' ');
      const ms = (Number(fields[11]) + Number(fields[12])) * TICK_MS; // utime, stime
      byName[name] = (byName[name] ?? 0) + ms;
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return byName;
}

/** CPU ms of the main thread and the others between two readings (÷ count); ended threads' time is lost. */
export function threadCpuSince(before: ThreadCpu, count = 1): Record<string, number> {
  const now = threadCpu();
  return Object.fromEntries(
    Object.entries(now)
      .map(([name, ms]) => [name, Math.round((ms - (before[name] ?? 0)) / count)] as const)
      .filter(([, ms]) => ms > 0)
      .sort((a, b) => b[1] - a[1]),
  );
}
