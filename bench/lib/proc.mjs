// Reading a server's CPU time and memory from /proc (Linux), for every process and thread it runs.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat times. */
export const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** `pid` and all its descendants (through /proc/<pid>/task/<tid>/children). */
export function processTree(pid) {
  const out = [];
  const walk = (p) => {
    out.push(p);
    let tids = [];
    try {
      tids = readdirSync(`/proc/${p}/task`);
    } catch {
      return;
    }
    for (const tid of tids) {
      let children = '';
      try {
        children = readFileSync(`/proc/${p}/task/${tid}/children`, 'utf8');
      } catch {
        continue;
      }
      for (const c of children.trim().split(/\s+/).filter(Boolean)) walk(Number(c));
    }
  };
  walk(pid);
  return out;
}

/**
 * CPU seconds (user + system) used so far by `pid`'s whole process tree: every thread of every
 * process (a process's /proc/<pid>/stat sums its threads, exited ones included), plus what reaped
 * children used (cutime + cstime).
 */
export function cpuSeconds(pid) {
  let ticks = 0;
  for (const p of processTree(pid)) {
    let stat;
    try {
      stat = readFileSync(`/proc/${p}/stat`, 'utf8');
    } catch {
      continue;
    }
    // Fields after the command name (which may contain spaces) start at field 3.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]); // utime stime cutime cstime
  }
  return ticks / CLK_TCK;
}

/** Resident memory of `pid`'s process tree, KB. */
export function rssKB(pid) {
  let kb = 0;
  for (const p of processTree(pid)) {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      if (m) kb += Number(m[1]);
    } catch {
      // exited
    }
  }
  return kb;
}

/** Threads in `pid`'s process tree. */
export function threadCount(pid) {
  let n = 0;
  for (const p of processTree(pid)) {
    try {
      n += readdirSync(`/proc/${p}/task`).length;
    } catch {
      // exited
    }
  }
  return n;
}
