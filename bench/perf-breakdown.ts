import { spawn } from "node:child_process";

/**
 * Where a server's CPU goes, from `perf record -g` of its process (all its threads): the share
 * of samples per thread role (the main thread; libuv's pool threads, where lmdb commits and
 * fsyncs; V8's platform threads, where GC helpers and the optimising compiler run), the kernel's
 * share of each, and the main thread's samples split into categories by the frames on their
 * stacks (the first rule that matches wins, so the order is the priority). The V8 CPU profile
 * (`--profile`) cannot say this: it samples the main thread only, and it counts wall time, so a
 * main thread preempted by a pool thread on the same core shows up in whatever it was running.
 *
 * Needs perf (and the right to attach to the process); JavaScript frames have names only when
 * the server runs with --perf-basic-prof (dynamo-probe.ts adds it with `--perf`). Names come from
 * the JIT map, which can go stale when V8 reuses an address, so a category of a few percent can
 * hold frames that belong elsewhere: read the shares, not the decimals.
 *
 *   const text = await recordPerf(pid, { seconds: 10 });
 *   process.stdout.write(formatBreakdown(perfBreakdown(text, pid)));
 */
export interface PerfSample {
  tid: number;
  /** Frames from the innermost out. */
  frames: string[];
}

export type ThreadRole = "main" | "pool" | "v8" | "other";

export interface PerfBreakdown {
  samples: number;
  /** Samples per thread role, and of them in the kernel (innermost frame a kernel symbol). */
  roles: Record<ThreadRole, { samples: number; kernel: number }>;
  /** The main thread's samples per category (mainCategories), "other" last. */
  main: { category: string; samples: number }[];
}

/**
 * Main-thread categories, in priority order (a sample counts in the first that matches any of
 * its frames). Names are this code base's: HTTP server, DynamoDB front door, strong path,
 * storage. Patterns are matched against perf's symbol names, which carry the script path.
 */
export const mainCategories: readonly { name: string; pattern: RegExp }[] = [
  { name: "GC (on the main thread)", pattern: /CollectGarbage|Scavenge|MinorGC|MarkCompact|IncrementalMarking/ },
  { name: "HTTP answer (build and socket write)", pattern: /sendDynamoJson|lean-response\.js|(?:flush|write|respond) \S*http-connection\.js/ },
  { name: "HTTP request parse (and the handler's synchronous start)", pattern: /request-parser\.js/ },
  { name: "lmdb write issue (startWriting, commit gate)", pattern: /startWriting|commit-gate\.js|writeInstructions/ },
  { name: "acceptor record read (lmdb get, decode)", pattern: /load \S*acceptor-service\.js|getBinaryFast|decodeAcceptorRecord|readRecord/ },
  { name: "acceptor record write (encode, store)", pattern: /storeKeepingPromises|writeAcceptorRecord|encodeAcceptorRecord/ },
  { name: "strong path (coordinator, paxos)", pattern: /src\/paxos\/|strong-item-operations|cluster-coordinator|acceptor-relearn/ },
  { name: "JSON.parse of the body", pattern: /JsonParse|parseJsonBody/ },
  { name: "DynamoDB front door (other)", pattern: /src\/dynamodb\// },
  { name: "socket read (stream machinery)", pattern: /onStreamRead|http-connection\.js/ },
  { name: "microtask and promise machinery", pattern: /RunMicrotasks|processTicksAndRejections/ },
  { name: "event loop (epoll, timers, kernel reads)", pattern: /uv__io_poll|uv_run|epoll/ },
];

/**
 * The samples of `perf script -F tid,ip,sym,dso` output: a line with the tid, then one line
 * per frame, "address symbol (object)"; a frame keeps its symbol and object as one string.
 */
export function parsePerfScript(text: string): PerfSample[] {
  const samples: PerfSample[] = [];
  let current: PerfSample | undefined;
  for (const line of text.split("\n")) {
    const head = /^\s*(\d+)\s*$/.exec(line);
    if (head !== null) {
      current = { tid: Number(head[1]), frames: [] };
      samples.push(current);
      continue;
    }
    const frame = /^\s+[0-9a-f]+ (.*)$/.exec(line);
    if (frame !== null && current !== undefined) current.frames.push(frame[1]!);
  }
  return samples;
}

/** A thread's role from one of its stacks: `pid` is the main thread's id. */
export function roleOf(sample: PerfSample, pid: number): ThreadRole {
  if (sample.tid === pid) return "main";
  const text = sample.frames.join("\n");
  if (/PlatformWorkerThread|DefaultJobWorker|v8::platform/.test(text)) return "v8";
  if (/ThreadPoolWork|uv__queue_work|\bworker\b|WriteWorker/.test(text)) return "pool";
  return "other";
}

/** A frame of the kernel: perf names its object [kernel.kallsyms]. */
function inKernel(frame: string | undefined): boolean {
  return frame !== undefined && frame.endsWith("([kernel.kallsyms])");
}

export function perfBreakdown(text: string, pid: number): PerfBreakdown {
  const samples = parsePerfScript(text);
  const roles: PerfBreakdown["roles"] = { main: { samples: 0, kernel: 0 }, pool: { samples: 0, kernel: 0 }, v8: { samples: 0, kernel: 0 }, other: { samples: 0, kernel: 0 } };
  const counts = new Map<string, number>(mainCategories.map((category) => [category.name, 0]));
  let other = 0;
  // A thread keeps the role its first classified stack gave it (a pool thread's idle stack
  // may not show the work function).
  const known = new Map<number, ThreadRole>();
  for (const sample of samples) {
    let role = known.get(sample.tid);
    if (role === undefined || role === "other") {
      role = roleOf(sample, pid);
      known.set(sample.tid, role);
    }
    roles[role].samples++;
    if (inKernel(sample.frames[0])) roles[role].kernel++;
    if (role !== "main") continue;
    const text = sample.frames.join("\n");
    const category = mainCategories.find((c) => c.pattern.test(text));
    if (category === undefined) other++;
    else counts.set(category.name, counts.get(category.name)! + 1);
  }
  const main = [...counts].map(([category, n]) => ({ category, samples: n })).sort((a, b) => b.samples - a.samples);
  main.push({ category: "other", samples: other });
  return { samples: samples.length, roles, main };
}

export function formatBreakdown(breakdown: PerfBreakdown, usPerOp?: number): string {
  const { samples } = breakdown;
  if (samples === 0) return "  perf: no samples\n";
  const pct = (n: number): string => `${((100 * n) / samples).toFixed(1).padStart(5)}%`;
  const us = (n: number): string => (usPerOp === undefined ? "" : `  ~${((usPerOp * n) / samples).toFixed(1)} us/op`);
  let out = `  perf: ${samples} samples of the server's threads${usPerOp === undefined ? "" : ` (${usPerOp.toFixed(0)} us CPU per op)`}\n`;
  for (const role of ["main", "pool", "v8", "other"] as const) {
    const { samples: n, kernel } = breakdown.roles[role];
    if (n > 0) out += `  ${pct(n)} ${role.padEnd(5)} thread(s), ${((100 * kernel) / n).toFixed(0)}% of it in the kernel${us(n)}\n`;
  }
  out += "  main thread by category (share of all samples):\n";
  for (const { category, samples: n } of breakdown.main) if (n > 0) out += `  ${pct(n)} ${category}${us(n)}\n`;
  return out;
}

/** Records `pid` with perf for `seconds` and returns `perf script`'s text (tid, ip, symbol, object); rejects when perf fails. */
export async function recordPerf(pid: number, options: { seconds: number; frequency?: number; dataPath: string }): Promise<string> {
  await run("perf", ["record", "-q", "-F", String(options.frequency ?? 999), "-g", "-p", String(pid), "-o", options.dataPath, "--", "sleep", String(options.seconds)]);
  return run("perf", ["script", "-i", options.dataPath, "-F", "tid,ip,sym,dso"]);
}

function run(command: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolve(Buffer.concat(out).toString("utf8"));
      else reject(new Error(`${command} ${args.join(" ")} exited ${code}: ${Buffer.concat(err).toString("utf8").slice(0, 500)}`));
    });
  });
}
