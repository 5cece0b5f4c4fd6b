// Cost checks measure CPU time, not wall time: the CPU time a synchronous computation takes does not grow when
// other processes keep the machine busy (wall time does, by whatever the scheduler takes away).
import { readFileSync } from 'node:fs';

/** CPU milliseconds (user + system) this process spends per call of `fn`: the best of `rounds` rounds of `calls` calls. */
export function cpuMsPerCall(fn: () => void, calls: number, rounds = 3): number {
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    const before = process.cpuUsage();
    for (let i = 0; i < calls; i++) fn();
    const used = process.cpuUsage(before);
    best = Math.min(best, (used.user + used.system) / 1000 / calls);
  }
  return best;
}

/**
 * CPU milliseconds the calling thread has used so far (Linux: /proc/thread-self/stat, in clock ticks of 10 ms);
 * null elsewhere. Tells the calling thread's own work apart from its worker threads'.
 */
export function threadCpuMs(): number | null {
  if (process.platform !== 'linux') return null;
  // Fields after the ")" that ends the command name: state is field 3, utime and stime are fields 14 and 15.
  const fields = readFileSync('/proc/thread-self/stat', 'utf8').replace(/^.*\) /s, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}
