import { openSync, closeSync, fstatSync, readSync } from "node:fs";
import { defaultLimits } from "../limits.js";
import type { PutItemOptions } from "../client/http-client.js";
import type { Command, CliIo } from "./command.js";
import { integerFlag, parseCommandArgs, stringFlag, stringsFlag, type FlagValues } from "./parse-command-args.js";
import { UsageError } from "./usage-error.js";
import { urlFlag, urlHelp, withClient, writeLine } from "./with-client.js";
import { contextFlag, contextHelp, writeOptionsFromFlags, writeQuorumFlags, writeQuorumHelp } from "./item-flags.js";

const usage = `Usage: shoal put TABLE KEY [VALUE | --file F | < stdin] [options]

Stores a value under KEY, byte for byte: the VALUE argument (as UTF-8), the contents of --file,
or standard input when neither is given. Prints the new version's ETag.

Options:
${urlHelp}
  --file F             read the value from file F
  --content-type T     the value's Content-Type (default application/octet-stream)
  --ttl S              expire the item after S seconds
  --meta NAME=VALUE    user metadata (x-shoal-meta-NAME); repeat for several
  --if-match ETAG      replace only this version
  --if-none-match      create only (fail if the key exists)
${contextHelp}
${writeQuorumHelp}
  -h, --help           show this help

Examples:
  shoal put cart user/42 '{"items": 3}' --content-type application/json --meta owner=ann
  shoal put images logo.png --file ./logo.png --content-type image/png
  echo hello | shoal put notes greeting
  shoal put cart user/42 '{"items": 4}' --context "$CONTEXT"   # resolve the siblings a get printed
`;

const flagSpec = {
  ...urlFlag,
  file: { type: "string" },
  "content-type": { type: "string" },
  ttl: { type: "string" },
  meta: { type: "string", multiple: true },
  "if-match": { type: "string" },
  "if-none-match": { type: "boolean" },
  ...contextFlag,
  ...writeQuorumFlags,
} as const;

/** The CLI reads at most this many bytes of value; the server enforces its own (configurable) limit. */
const valueBytesReadMax = defaultLimits.valueBytesMax;

export const putCommand: Command = {
  name: "put",
  summary: "store a value under a key",
  usage,
  async run(argv: string[], io: CliIo): Promise<number> {
    const args = parseCommandArgs("put", argv, flagSpec, { min: 2, max: 3 });
    if (args.help) {
      io.stdout.write(usage);
      return 0;
    }
    const [table, key, text] = args.positionals as [string, string, string | undefined];
    const options = putOptions(args.flags);
    const value = await readValue(text, stringFlag(args.flags, "file"), io);
    return withClient("put", args.flags, async (client) => {
      const result = await client.putItem(table, key, value, options);
      await writeLine(io.stdout, result.etag ?? "");
      return 0;
    });
  },
};

function putOptions(flags: FlagValues): PutItemOptions {
  const options: PutItemOptions = writeOptionsFromFlags("put", flags);
  const contentType = stringFlag(flags, "content-type");
  if (contentType !== undefined) options.contentType = contentType;
  const ttl = integerFlag("put", flags, "ttl", { min: 1, max: defaultLimits.ttlSecondsMax });
  if (ttl !== undefined) options.ttlSeconds = ttl;
  const ifMatch = stringFlag(flags, "if-match");
  if (ifMatch !== undefined) options.ifMatch = ifMatch;
  if (flags["if-none-match"] === true) options.ifNoneMatch = "*";
  const metadata: Record<string, string> = {};
  for (const pair of stringsFlag(flags, "meta")) {
    const equals = pair.indexOf("=");
    if (equals <= 0) throw new UsageError(`--meta takes NAME=VALUE; got ${JSON.stringify(pair)}`, "put");
    metadata[pair.slice(0, equals)] = pair.slice(equals + 1);
  }
  if (Object.keys(metadata).length > 0) options.metadata = metadata;
  return options;
}

async function readValue(text: string | undefined, file: string | undefined, io: CliIo): Promise<Uint8Array> {
  if (text !== undefined && file !== undefined) throw new UsageError("give the value either as an argument or with --file, not both", "put");
  if (text !== undefined) return new TextEncoder().encode(text);
  if (file !== undefined) return readFileBounded(file);
  if (io.stdin.isTTY === true) throw new UsageError("no value: give VALUE, --file F, or pipe the value on stdin", "put");
  return readStreamBounded(io.stdin);
}

function readFileBounded(path: string): Uint8Array {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (error) {
    throw new UsageError(`cannot read --file ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, "put");
  }
  try {
    const size = fstatSync(fd).size;
    if (size > valueBytesReadMax) throw new UsageError(`--file ${path} is ${size} bytes; the value limit is ${valueBytesReadMax}`, "put");
    const buffer = Buffer.alloc(size);
    let offset = 0;
    while (offset < size) {
      const read = readSync(fd, buffer, offset, size - offset, offset);
      if (read === 0) break;
      offset += read;
    }
    return buffer.subarray(0, offset);
  } finally {
    closeSync(fd);
  }
}

async function readStreamBounded(stream: NodeJS.ReadableStream): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    const bytes = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    total += bytes.length;
    if (total > valueBytesReadMax) throw new UsageError(`stdin holds more than ${valueBytesReadMax} bytes; the value limit is ${valueBytesReadMax}`, "put");
    chunks.push(bytes);
  }
  return Buffer.concat(chunks);
}
