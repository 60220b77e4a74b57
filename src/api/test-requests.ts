import { fetch, type Response } from "undici";

/** Small request helpers for the REST API tests. */
export async function json(res: Response): Promise<any> {
  return JSON.parse(await res.text());
}

export function postJson(url: string, body: unknown): Promise<Response> {
  return fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
}

export async function createTable(base: string, name: string, extra: Record<string, unknown> = {}): Promise<void> {
  const res = await postJson(`${base}/v1/tables`, { name, ...extra });
  if (res.status !== 201) throw new Error(`creating table ${name}: ${res.status} ${await res.text()}`);
}

export function itemUrl(base: string, table: string, key: string): string {
  return `${base}/v1/tables/${table}/items/${encodeURIComponent(key)}`;
}

export function put(url: string, body: string | Uint8Array, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: "PUT", headers, body });
}

/** Asserts the error shape and returns the code. */
export async function errorCode(res: Response): Promise<string> {
  const body = await json(res);
  if (typeof body?.error?.code !== "string" || typeof body.error.message !== "string") throw new Error(`not an error body: ${JSON.stringify(body)}`);
  return body.error.code;
}

/** The causal context a read of `url` answers (X-Shoal-Context), for a write that replaces what it saw. */
export async function contextOf(url: string): Promise<string> {
  const res = await fetch(url, { method: "HEAD" });
  await res.text();
  return res.headers.get("x-shoal-context") ?? "";
}
