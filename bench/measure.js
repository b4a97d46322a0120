// Runs one whole command and measures its wall-clock time and peak memory.
//
// CPU time: user + system of the command and every child it waited for (GNU time's %U and %S,
// from the kernel's accounting; null without /usr/bin/time).
//
// Peak RSS: the larger of
//   - GNU time's %M (/usr/bin/time, when present): the peak resident set of the largest single
//     process of the command (exact: the kernel's high-water mark), and
//   - the largest sum of VmRSS over the command's whole process tree, sampled every 50 ms from
//     /proc, so that tools with worker processes (the Pillow pool) are counted whole.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const GNU_TIME = '/usr/bin/time';

/** Whether GNU time is usable (`-f %M -o file`). */
const hasGnuTime = existsSync(GNU_TIME);

/** The pids in /proc now (empty where /proc is missing). */
function pids() {
  try {
    return readdirSync('/proc').filter((name) => name.charCodeAt(0) >= 48 && name.charCodeAt(0) <= 57).map(Number);
  } catch {
    return [];
  }
}

/**
 * The ppid and VmRSS (KB) of every process but those in `skip` (processes that were running
 * before the command started, so cannot descend from it): reading every process's status on
 * every sample cost the 2-core machine a few percent of a core.
 */
function processTable(skip) {
  const table = new Map();
  for (const pid of pids()) {
    if (skip.has(pid)) continue;
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'latin1');
      const ppid = /\nPPid:\s+(\d+)/.exec(status);
      const rss = /\nVmRSS:\s+(\d+)/.exec(status);
      table.set(pid, { ppid: ppid ? Number(ppid[1]) : 0, rss: rss ? Number(rss[1]) : 0 });
    } catch {
      // the process ended while we looked
    }
  }
  return table;
}

/** Sum of VmRSS (KB) over the descendants of `root`, and `root` itself unless `skipRoot`. */
function treeRss(root, skipRoot, before) {
  const table = processTable(before);
  const children = new Map();
  for (const [pid, p] of table) {
    if (!children.has(p.ppid)) children.set(p.ppid, []);
    children.get(p.ppid).push(pid);
  }
  let sum = 0;
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop();
    if (pid !== root || !skipRoot) sum += table.get(pid)?.rss ?? 0;
    for (const c of children.get(pid) ?? []) stack.push(c);
  }
  return sum;
}

/**
 * Runs `command args` to completion.
 *
 * @param {string} command
 * @param {string[]} args
 * @param {{ cwd?: string, env?: NodeJS.ProcessEnv, shell?: boolean }} [options]
 * @returns {Promise<{ code: number | null, wallMs: number, cpuMs: number | null, peakRssMb: number, stdout: string, stderr: string }>}
 */
export function measure(command, args, options = {}) {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'exif-fix-bench-'));
  const timeFile = path.join(tmp, 'time');
  const argv = hasGnuTime ? [GNU_TIME, '-f', '%M %U %S', '-o', timeFile, command, ...args] : [command, ...args];
  const before = new Set(pids());
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(argv[0], argv.slice(1), { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [];
    const err = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    let sampled = 0;
    const timer = setInterval(() => {
      sampled = Math.max(sampled, treeRss(child.pid, hasGnuTime, before)); // GNU time itself is not counted
    }, 50);
    child.on('error', (error) => {
      clearInterval(timer);
      reject(error);
    });
    child.on('close', (code) => {
      const wallMs = performance.now() - started;
      clearInterval(timer);
      let timeKb = 0;
      let cpuMs = null;
      try {
        const [kb, user, sys] = readFileSync(timeFile, 'utf8').trim().split('\n').pop().split(' ').map(Number);
        timeKb = kb || 0;
        if (Number.isFinite(user) && Number.isFinite(sys)) cpuMs = (user + sys) * 1000;
      } catch {
        // no GNU time output
      }
      rmSync(tmp, { recursive: true, force: true });
      resolve({
        code,
        wallMs,
        cpuMs,
        peakRssMb: Math.max(timeKb, sampled) / 1024,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
  });
}
