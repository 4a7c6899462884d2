/**
 * A command run the way a person runs it: in a pseudo-terminal (util-linux `script -qfc`), with stdin
 * open and never written to. wrangler asks its questions only when stdin and stdout are terminals
 * (`isInteractive` in wrangler's dialogs), so pipes and `CI=true` hide every prompt this catches.
 *
 * `script` starts in its own process group (detached = setsid); the command becomes the session leader
 * of the pseudo-terminal, so its process group holds npm, node, wrangler and workerd. stop() signals
 * both groups and waits until they are gone.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { stripVTControlCharacters } from "node:util";
import { stopProcessGroup } from "../../../scripts/start-server.mjs";

export interface Terminal {
  /** Everything the terminal showed so far, without colours or cursor moves. */
  screen(): string;
  /** Exit code (or signal) of the command, null while it runs. */
  exited(): number | string | null;
  stop(): Promise<void>;
}

/** The pid `script` forked for the command (the session leader of the pseudo-terminal). */
function sessionLeader(scriptPid: number): number | undefined {
  const file = `/proc/${scriptPid}/task/${scriptPid}/children`;
  if (!existsSync(file)) return undefined;
  const [first] = readFileSync(file, "utf8").trim().split(/\s+/);
  return first ? Number(first) : undefined;
}

export function startInTerminal(command: string, o: { cwd: string; env: NodeJS.ProcessEnv }): Terminal {
  // -q quiet, -f flush at once, -e pass on the command's exit code; the typescript file is not needed.
  const child: ChildProcess = spawn("script", ["-qfec", `exec ${command}`, "/dev/null"], {
    cwd: o.cwd,
    env: o.env,
    detached: true,
    stdio: ["pipe", "pipe", "pipe"],
  });
  let raw = "";
  child.stdout?.on("data", (b: Buffer) => {
    raw += b.toString("utf8");
  });
  child.stderr?.on("data", (b: Buffer) => {
    raw += b.toString("utf8");
  });
  let status: number | string | null = null;
  child.on("exit", (code, signal) => {
    status = code ?? signal;
  });
  const scriptPid = child.pid as number;
  let leader: number | undefined;
  // Read the leader while it runs: once stop() kills `script`, /proc no longer links them.
  const watch = setInterval(() => {
    leader ??= sessionLeader(scriptPid);
    if (leader) clearInterval(watch);
  }, 50);
  return {
    screen: () => stripVTControlCharacters(raw).replace(/\r/g, ""),
    exited: () => status,
    async stop() {
      clearInterval(watch);
      leader ??= sessionLeader(scriptPid);
      if (leader) await stopProcessGroup(leader);
      await stopProcessGroup(scriptPid);
      // stdin stayed open the whole time, as a person's terminal does; close it only now.
      child.stdin?.end();
    },
  };
}
