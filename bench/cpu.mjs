/**
 * CPU time used by a server's whole process group (wrangler and both workerd processes), read from
 * /proc. CPU milliseconds per request is steadier than throughput on a machine shared with other
 * work: other processes slow the server down, but do not add to its own CPU time.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

let ticksPerSecond;

function clockTicks() {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/**
 * user + system CPU milliseconds of every live process in group `pgid`, and their pids (a changed set
 * means wrangler reloaded the worker: a process exited and took its CPU time with it).
 * null where /proc is missing.
 */
export function groupSnapshot(pgid) {
  let entries;
  try {
    entries = readdirSync("/proc");
  } catch {
    return null;
  }
  let ticks = 0;
  const pids = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // exited meanwhile
    }
    // proc(5): "pid (comm) state ppid pgrp ... utime stime"; comm may contain spaces, so split after ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(fields[2]) !== pgid) continue;
    ticks += Number(fields[11]) + Number(fields[12]);
    pids.push(entry);
  }
  return { cpuMs: (ticks * 1000) / clockTicks(), pids: pids.sort().join(",") };
}
