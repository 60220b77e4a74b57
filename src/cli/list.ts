import type { ListedItem, ShoalHttpClient } from "../client/http-client.js";
import { defaultLimits } from "../limits.js";
import type { Command, CliIo } from "./command.js";
import { booleanFlag, integerFlag, parseCommandArgs, stringFlag, type FlagValues } from "./parse-command-args.js";
import { UsageError } from "./usage-error.js";
import { urlFlag, urlHelp, withClient, writeLine } from "./with-client.js";

const usage = `Usage: shoal list TABLE [--prefix P] [--limit N] [--cursor C] [--all] [--json] [--url URL]

Lists keys in byte order, one a line (with --json, one JSON object a line with size, content type,
metadata and expiry; an item with siblings has a "siblings" array instead, one entry per
sibling, and a plain listing marks it on stderr). Without --all it prints one page and, if more
remain, the cursor of the next page on stderr.

Options:
${urlHelp}
  --prefix P           only keys that start with P
  --limit N            keys per page, 1-${defaultLimits.listPageItemsMax} (with --all: page size while following cursors)
  --cursor C           continue after a previous page
  --all                follow cursors to the end
  --json               print each item as a JSON line
  -h, --help           show this help

Example:
  shoal list cart --prefix user/ --all
`;

const flagSpec = {
  ...urlFlag,
  prefix: { type: "string" },
  limit: { type: "string" },
  cursor: { type: "string" },
  all: { type: "boolean" },
  json: { type: "boolean" },
} as const;

/** --all stops after this many pages (a billion keys at 1000 a page), so a bad cursor cannot loop forever. */
const listPagesMax = 1_000_000;

export const listCommand: Command = {
  name: "list",
  summary: "list keys of a table",
  usage,
  async run(argv: string[], io: CliIo): Promise<number> {
    const args = parseCommandArgs("list", argv, flagSpec, { min: 1, max: 1 });
    if (args.help) {
      io.stdout.write(usage);
      return 0;
    }
    const table = args.positionals[0]!;
    const limit = integerFlag("list", args.flags, "limit", { min: 1, max: defaultLimits.listPageItemsMax });
    const json = booleanFlag(args.flags, "json");
    const print = async (item: ListedItem): Promise<void> => {
      await writeLine(io.stdout, json ? JSON.stringify(item) : item.key);
      if (!json && Array.isArray(item.siblings)) io.stderr.write(`${JSON.stringify(item.key)} has ${item.siblings.length} siblings; see shoal get ${table} KEY\n`);
    };
    return withClient("list", args.flags, async (client) => {
      if (booleanFlag(args.flags, "all")) await printAll(client, table, { flags: args.flags, limit }, print);
      else await printPage(client, table, args.flags, limit, print, io);
      return 0;
    });
  },
};

async function printAll(
  client: ShoalHttpClient,
  table: string,
  options: { flags: FlagValues; limit: number | undefined },
  print: (item: ListedItem) => Promise<void>,
): Promise<void> {
  if (options.flags.cursor !== undefined) throw new UsageError("--all starts from the beginning; it does not take --cursor", "list");
  const prefix = stringFlag(options.flags, "prefix");
  const pages = { pagesMax: listPagesMax, ...(prefix !== undefined ? { prefix } : {}), ...(options.limit !== undefined ? { pageItems: options.limit } : {}) };
  for await (const item of client.listAllItems(table, pages)) await print(item);
}

async function printPage(
  client: ShoalHttpClient,
  table: string,
  flags: FlagValues,
  limit: number | undefined,
  print: (item: ListedItem) => Promise<void>,
  io: CliIo,
): Promise<void> {
  const prefix = stringFlag(flags, "prefix");
  const cursor = stringFlag(flags, "cursor");
  const page = await client.listItems(table, {
    ...(prefix !== undefined ? { prefix } : {}),
    ...(cursor !== undefined ? { cursor } : {}),
    ...(limit !== undefined ? { limit } : {}),
  });
  for (const item of page.items) await print(item);
  if (page.cursor !== null) io.stderr.write(`more items: continue with --cursor ${page.cursor} (or use --all)\n`);
}
