/**
 * A seed as the operator writes it (`--join host:peerPort`, or "[::1]:9000" for IPv6). The
 * node resolves each seed's node id with one handshake (TcpNetwork.identify) before it starts
 * membership, so membership only ever sees node ids.
 */
export interface SeedAddress {
  host: string;
  port: number;
}

const hostLengthMax = 255;

/** The address `text` names, or undefined when it is not "host:port" with a port in 1..65535. */
export function parseSeedAddress(text: string): SeedAddress | undefined {
  const colon = text.lastIndexOf(":");
  if (colon <= 0 || colon === text.length - 1) return undefined;
  let host = text.slice(0, colon);
  const portText = text.slice(colon + 1);
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  else if (host.includes(":")) return undefined;
  if (host.length === 0 || host.length > hostLengthMax || /\s/.test(host)) return undefined;
  if (!/^\d{1,5}$/.test(portText)) return undefined;
  const port = Number(portText);
  return port >= 1 && port <= 65_535 ? { host, port } : undefined;
}

/** "host:port", bracketing an IPv6 host. */
export function formatHostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * `--join` values: each may hold several seeds separated by commas ("a:9000,b:9000"). Empty
 * entries are skipped; the caller validates each with parseSeedAddress.
 */
export function splitSeedList(values: readonly string[]): string[] {
  return values.flatMap((value) => value.split(",")).map((s) => s.trim()).filter((s) => s.length > 0);
}
