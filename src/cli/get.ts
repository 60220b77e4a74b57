import type { Item } from "../client/http-client.js";
import { ShoalError } from "../errors.js";
import { isTextual } from "../api/sibling-json.js";
import type { Command, CliIo } from "./command.js";
import { readOptionsFromFlags, readQuorumFlags, readQuorumHelp } from "./item-flags.js";
import { booleanFlag, parseCommandArgs } from "./parse-command-args.js";
import { urlFlag, urlHelp, withClient, writeLine } from "./with-client.js";

const usage = `Usage: shoal get TABLE KEY [--url URL] [--headers] [--r N] [--consistency C]

Writes the item's value to stdout, byte for byte (no newline is added). A missing or expired
item is "error ...: ..." on stderr with exit code 1.

When concurrent writes left siblings, prints each sibling as one JSON line on stdout
({"etag", "contentType", "lastModified", "metadata", "value", "encoding": "utf8"|"base64"}) and,
on stderr, how many there are and the context to resolve them with (shoal put ... --context C
replaces exactly the siblings this read saw). The exit code is 0: the read succeeded.

Options:
${urlHelp}
  --headers            also print content type, ETag, context and metadata to stderr
${readQuorumHelp}
  -h, --help           show this help

Examples:
  shoal get images logo.png > logo.png
  shoal get cart user/42 --headers --r 3
`;

const flagSpec = { ...urlFlag, headers: { type: "boolean" }, ...readQuorumFlags } as const;

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

export const getCommand: Command = {
  name: "get",
  summary: "print a value to stdout",
  usage,
  async run(argv: string[], io: CliIo): Promise<number> {
    const args = parseCommandArgs("get", argv, flagSpec, { min: 2, max: 2 });
    if (args.help) {
      io.stdout.write(usage);
      return 0;
    }
    const [table, key] = args.positionals as [string, string];
    const options = readOptionsFromFlags("get", args.flags);
    return withClient("get", args.flags, async (client) => {
      const read = await client.readItem(table, key, options);
      if (read.siblings.length > 1) {
        for (const sibling of read.siblings) await writeLine(io.stdout, JSON.stringify(siblingLine(sibling)));
        io.stderr.write(`${read.siblings.length} siblings; resolve them with: shoal put ${table} ${key} VALUE --context ${read.context}\n`);
        return 0;
      }
      const item = read.siblings[0];
      if (item === undefined) throw new ShoalError("ItemNotFound", 404, `item "${table}/${key}" does not exist`);
      if (booleanFlag(args.flags, "headers")) io.stderr.write(headerLines(item, read.context));
      await new Promise<void>((resolve, reject) => io.stdout.write(item.value, (error) => (error ? reject(error) : resolve())));
      return 0;
    });
  },
};

function headerLines(item: Item, context: string): string {
  const meta = Object.entries(item.metadata).map(([name, value]) => `meta ${name}: ${value}\n`).join("");
  return `content-type: ${item.contentType ?? ""}\netag: ${item.etag ?? ""}\nlast-modified: ${item.lastModified ?? ""}\ncontext: ${context}\n${meta}`;
}

/** A sibling as a JSON line: text values as UTF-8 when they are, bytes as base64. */
function siblingLine(item: Item): Record<string, unknown> {
  let text: string | undefined;
  if (isTextual(item.contentType ?? "")) {
    try {
      text = strictUtf8.decode(item.value);
    } catch {
      text = undefined;
    }
  }
  return {
    etag: item.etag,
    contentType: item.contentType,
    lastModified: item.lastModified,
    metadata: item.metadata,
    value: text ?? Buffer.from(item.value).toString("base64"),
    encoding: text === undefined ? "base64" : "utf8",
  };
}
