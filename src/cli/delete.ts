import type { Command, CliIo } from "./command.js";
import { parseCommandArgs } from "./parse-command-args.js";
import { urlFlag, urlHelp, withClient } from "./with-client.js";

const usage = `Usage: shoal delete TABLE KEY [--url URL]

Deletes an item. Prints nothing on success.

Options:
${urlHelp}
  -h, --help           show this help

Example:
  shoal delete cart user/42
`;

export const deleteCommand: Command = {
  name: "delete",
  summary: "delete an item",
  usage,
  async run(argv: string[], io: CliIo): Promise<number> {
    const args = parseCommandArgs("delete", argv, urlFlag, { min: 2, max: 2 });
    if (args.help) {
      io.stdout.write(usage);
      return 0;
    }
    const [table, key] = args.positionals as [string, string];
    return withClient("delete", args.flags, async (client) => {
      await client.deleteItem(table, key);
      return 0;
    });
  },
};
