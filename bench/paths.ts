import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Where the compiled pieces live. The benchmark runs from dist/bench/ (after `npm run build`);
 * the repository root is the nearest directory above with a package.json.
 */
const here = dirname(fileURLToPath(import.meta.url));

function findRoot(start: string): string {
  let dir = start;
  for (let depth = 0; depth < 8; depth++) {
    if (existsSync(join(dir, "package.json"))) return dir;
    dir = dirname(dir);
  }
  throw new Error(`no package.json above ${start}`);
}

export const repoRoot = findRoot(here);
export const distRoot = join(repoRoot, "dist");
export const shoalCliPath = join(distRoot, "src", "cli", "main.js");
export const loadScriptPath = join(distRoot, "bench", "load.js");
export const ceilingScriptPath = join(distRoot, "bench", "ceiling-server.js");
export const resultsDirDefault = join(repoRoot, "bench", "results");
export const benchmarksDocPath = join(repoRoot, "docs", "benchmarks.md");
