import type { Command, CliIo } from "./command.js";
import { booleanFlag, parseCommandArgs } from "./parse-command-args.js";
import { urlFlag, urlHelp, withClient } from "./with-client.js";

const usage = `Usage: shoal get TABLE KEY [--url URL] [--headers]

Writes the item's value to stdout, byte for byte (no newline is added). A missing or expired
item is "error ...: ..." on stderr with exit code 1.

Options:
${urlHelp}
  --headers            also print content type, ETag and metadata to stderr
  -h, --help           show this help

Example:
  shoal get images logo.png > logo.png
`;

const flagSpec = { ...urlFlag, headers: { type: "boolean" } } as const;

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
    return withClient("get", args.flags, async (client) => {
      const item = await client.getItem(table, key);
      if (booleanFlag(args.flags, "headers")) {
        const meta = Object.entries(item.metadata).map(([name, value]) => `meta ${name}: ${value}\n`).join("");
        io.stderr.write(`content-type: ${item.contentType ?? ""}\netag: ${item.etag ?? ""}\nlast-modified: ${item.lastModified ?? ""}\n${meta}`);
      }
      await new Promise<void>((resolve, reject) => io.stdout.write(item.value, (error) => (error ? reject(error) : resolve())));
      return 0;
    });
  },
};
