import { httpCall } from "./http-call.js";
import { itemUrl, parseItemRead } from "./item-reads.js";
import { waitFor } from "./wait-for.js";

/**
 * After the faults are healed and the load has stopped: wait, within a bound, until every node
 * answers the same sibling set for every key at r=n (all replicas) and at r=1 (whichever
 * replica answers first), on two polls in a row. The agreed sets are the final state the
 * checks read. r=n reads repair what they find, so this bounds convergence by reads, hinted
 * handoff and anti-entropy together.
 */
export interface ConvergenceOptions {
  urls: readonly string[];
  table: string;
  keys: readonly string[];
  replicas: number;
  deadlineMs: number;
  timeoutMs: number;
}

export interface Convergence {
  finals: Map<string, string[]>;
  elapsedMs: number;
}

export async function waitForConvergence(options: ConvergenceOptions): Promise<Convergence> {
  let previous: string | undefined;
  let last = "";
  const { value, elapsedMs } = await waitFor("every node to answer the same siblings for every key at r=n and r=1", async () => {
    const snapshot = await agreedSnapshot(options);
    if (snapshot.disagreement !== undefined) {
      last = snapshot.disagreement;
      previous = undefined;
      return false;
    }
    const text = JSON.stringify([...snapshot.finals]);
    const stable = previous === text;
    previous = text;
    return stable ? snapshot.finals : false;
  }, { deadlineMs: options.deadlineMs, pollMs: 500, describe: () => last });
  return { finals: value, elapsedMs };
}

async function agreedSnapshot(options: ConvergenceOptions): Promise<{ finals: Map<string, string[]>; disagreement?: string }> {
  const finals = new Map<string, string[]>();
  for (const key of options.keys) {
    const answers = await Promise.all(options.urls.flatMap((url) => [`r=${options.replicas}`, "r=1"].map(async (query) => {
      const read = parseItemRead(await httpCall({ method: "GET", url: itemUrl(url, options.table, key, query), timeoutMs: options.timeoutMs }));
      return { where: `${url} ${query}`, values: read === undefined ? undefined : JSON.stringify(read.values) };
    })));
    const first = answers[0]!;
    const differing = answers.find((a) => a.values === undefined || a.values !== first.values);
    if (differing !== undefined) {
      return { finals, disagreement: `key ${key}: ${first.where} answered ${first.values}, ${differing.where} answered ${differing.values ?? "no answer"}` };
    }
    finals.set(key, JSON.parse(first.values!) as string[]);
  }
  return { finals };
}
