import { writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import { join } from "node:path";

/**
 * Loaded with `--import` into each Shoal server the perf probe starts (perf-probe.ts) when it
 * is asked for profiles: Node 20 refuses `--cpu-prof` in NODE_OPTIONS, so the V8 profiler is
 * started through the inspector instead, and the profile is written to
 * $SHOAL_PROFILE_DIR/<pid>.cpuprofile when the process exits (open it in Chrome DevTools or
 * speedscope). Only processes running the shoal CLI are profiled, not helpers they spawn.
 */
const dir = process.env.SHOAL_PROFILE_DIR;
if (dir !== undefined && dir !== "" && process.argv.some((arg) => arg.endsWith("main.js"))) {
  const session = new Session();
  session.connect();
  session.post("Profiler.enable");
  session.post("Profiler.setSamplingInterval", { interval: 500 });
  session.post("Profiler.start");
  process.on("exit", () => {
    // The same-thread inspector session answers synchronously, so this runs before exit.
    session.post("Profiler.stop", (error, result) => {
      if (error === null) writeFileSync(join(dir, `${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
