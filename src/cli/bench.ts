import type { Command, CliIo } from "./command.js";
import { benchUsage, runBenchCli } from "../../bench/bench-cli.js";

/** `shoal bench`: the single-node benchmark (the same as `npm run bench`), or a quick load against --url. */
export const benchCommand: Command = {
  name: "bench",
  summary: "run the benchmark, or a quick load against a running node (--url)",
  usage: benchUsage,
  run(argv: string[], io: CliIo): Promise<number> {
    return runBenchCli(argv, io);
  },
};
