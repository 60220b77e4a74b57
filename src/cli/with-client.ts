import { ShoalHttpClient } from "../client/http-client.js";
import { stringFlag, type FlagValues } from "./parse-command-args.js";
import { UsageError } from "./usage-error.js";

export const defaultNodeUrl = "http://127.0.0.1:8000";

/** The `--url` flag every client command takes. */
export const urlFlag = { url: { type: "string" } } as const;

export const urlHelp = `  --url URL            the node to talk to (default ${defaultNodeUrl})`;

/** Runs `body` with a client for `--url` and closes the client afterwards, even on error. */
export async function withClient<T>(command: string, flags: FlagValues, body: (client: ShoalHttpClient) => Promise<T>): Promise<T> {
  const url = stringFlag(flags, "url") ?? defaultNodeUrl;
  let client: ShoalHttpClient;
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== "http:") throw new Error(`protocol ${parsed.protocol}`);
    client = new ShoalHttpClient({ url });
  } catch {
    throw new UsageError(`--url must be an http://host:port address; got ${JSON.stringify(url)}`, command);
  }
  try {
    return await body(client);
  } finally {
    await client.close();
  }
}

/** Writes text followed by a newline, resolving once the stream took it. */
export function writeLine(stream: NodeJS.WritableStream, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(`${text}\n`, (error) => (error ? reject(error) : resolve()));
  });
}
