import { pino, type Logger } from "pino";

/**
 * The JSON logger a node process uses (pino, one line per event). The CLI creates it from
 * `--log-level` and hands it to ShoalNode; tests pass `pino({ level: "silent" })`.
 */
export function createLogger(options: { level: string; nodeId?: string }): Logger {
  return pino({ level: options.level, base: options.nodeId === undefined ? {} : { node: options.nodeId } });
}
