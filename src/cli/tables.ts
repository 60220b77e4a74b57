import type { TableSpec } from "../client/http-client.js";
import type { Command, CliIo } from "./command.js";
import { choiceFlag, integerFlag, parseCommandArgs, type FlagValues } from "./parse-command-args.js";
import { UsageError } from "./usage-error.js";
import { urlFlag, urlHelp, withClient, writeLine } from "./with-client.js";

const usage = `Usage: shoal tables [list] [--url URL]
       shoal tables create NAME [--n N] [--r R] [--w W] [--consistency eventual|strong] [--conflicts siblings|lww] [--url URL]
       shoal tables describe NAME [--url URL]
       shoal tables delete NAME [--url URL]

Lists, creates, describes and drops tables. Names are 3-255 characters of [A-Za-z0-9_.-].
"list" prints one name a line; "create" and "describe" print the table as JSON; "delete" drops
the table with its items.

Options:
${urlHelp}
  --n N, --r R, --w W  replication factor and read/write quorums (create only)
  --consistency C      eventual or strong (create only)
  --conflicts C        siblings or lww (create only)
  -h, --help           show this help

Example:
  shoal tables create cart --n 3 --r 2 --w 2
`;

const flagSpec = {
  ...urlFlag,
  n: { type: "string" },
  r: { type: "string" },
  w: { type: "string" },
  consistency: { type: "string" },
  conflicts: { type: "string" },
} as const;

const createOnlyFlags = ["n", "r", "w", "consistency", "conflicts"];
/** Replication factors beyond this are typos on one node's CLI; the server enforces its own bound. */
const replicationMax = 64;

export const tablesCommand: Command = {
  name: "tables",
  summary: "list, create, describe or delete tables",
  usage,
  async run(argv: string[], io: CliIo): Promise<number> {
    const args = parseCommandArgs("tables", argv, flagSpec, { min: 0, max: 2 });
    if (args.help) {
      io.stdout.write(usage);
      return 0;
    }
    const [action = "list", name] = args.positionals;
    if (action !== "create") rejectCreateFlags(action, args.flags);
    if (action === "list") {
      if (name !== undefined) throw new UsageError(`tables list takes no name; got ${JSON.stringify(name)}`, "tables");
      return withClient("tables", args.flags, async (client) => {
        for (const table of await client.listTables()) await writeLine(io.stdout, table.name);
        return 0;
      });
    }
    if (action !== "create" && action !== "describe" && action !== "delete") {
      throw new UsageError(`unknown tables action ${JSON.stringify(action)}; use list, create, describe or delete`, "tables");
    }
    if (name === undefined) throw new UsageError(`tables ${action} needs a table NAME`, "tables");
    return withClient("tables", args.flags, async (client) => {
      if (action === "create") await writeLine(io.stdout, JSON.stringify(await client.createTable(tableSpec(name, args.flags)), null, 2));
      else if (action === "describe") await writeLine(io.stdout, JSON.stringify(await client.describeTable(name), null, 2));
      else await client.deleteTable(name);
      return 0;
    });
  },
};

function rejectCreateFlags(action: string, flags: FlagValues): void {
  const given = createOnlyFlags.filter((flag) => flags[flag] !== undefined);
  if (given.length > 0) throw new UsageError(`--${given[0]} applies only to "tables create", not "tables ${action}"`, "tables");
}

function tableSpec(name: string, flags: FlagValues): TableSpec {
  const bounds = { min: 1, max: replicationMax };
  const n = integerFlag("tables", flags, "n", bounds);
  const r = integerFlag("tables", flags, "r", bounds);
  const w = integerFlag("tables", flags, "w", bounds);
  const consistency = choiceFlag("tables", flags, "consistency", ["eventual", "strong"] as const);
  const conflicts = choiceFlag("tables", flags, "conflicts", ["siblings", "lww"] as const);
  const spec: TableSpec = { name };
  if (n !== undefined || r !== undefined || w !== undefined) {
    spec.replication = { ...(n !== undefined ? { n } : {}), ...(r !== undefined ? { r } : {}), ...(w !== undefined ? { w } : {}) };
  }
  if (consistency !== undefined) spec.consistency = consistency;
  if (conflicts !== undefined) spec.conflicts = conflicts;
  return spec;
}
