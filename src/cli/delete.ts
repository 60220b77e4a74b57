import type { Command, CliIo } from "./command.js";
import { contextFlag, contextHelp, writeOptionsFromFlags, writeQuorumFlags, writeQuorumHelp } from "./item-flags.js";
import { parseCommandArgs, stringFlag } from "./parse-command-args.js";
import { urlFlag, urlHelp, withClient } from "./with-client.js";

const usage = `Usage: shoal delete TABLE KEY [--context C] [--if-match ETAG] [--url URL]

Deletes an item. Prints nothing on success. With --context, only the versions the read that
printed it saw are deleted (a sibling written concurrently survives).

Options:
${urlHelp}
  --if-match ETAG      delete only this version
${contextHelp}
${writeQuorumHelp}
  -h, --help           show this help

Example:
  shoal delete cart user/42
`;

const flagSpec = { ...urlFlag, "if-match": { type: "string" }, ...contextFlag, ...writeQuorumFlags } as const;

export const deleteCommand: Command = {
  name: "delete",
  summary: "delete an item",
  usage,
  async run(argv: string[], io: CliIo): Promise<number> {
    const args = parseCommandArgs("delete", argv, flagSpec, { min: 2, max: 2 });
    if (args.help) {
      io.stdout.write(usage);
      return 0;
    }
    const [table, key] = args.positionals as [string, string];
    const ifMatch = stringFlag(args.flags, "if-match");
    const options = { ...writeOptionsFromFlags("delete", args.flags), ...(ifMatch !== undefined ? { ifMatch } : {}) };
    return withClient("delete", args.flags, async (client) => {
      await client.deleteItem(table, key, options);
      return 0;
    });
  },
};
