import assert from "node:assert/strict";
import { test } from "node:test";
import { LeanRequest } from "./lean-request.js";
import { HttpParseError, RequestParser, httpParserLimits, type RequestHead } from "./request-parser.js";

/** What the parser told its sink, in order. */
interface Seen {
  heads: RequestHead[];
  bodies: string[];
  ends: number;
  error: HttpParseError | undefined;
  log: string[];
}

function parse(chunks: readonly (string | Buffer)[]): Seen {
  const seen: Seen = { heads: [], bodies: [], ends: 0, error: undefined, log: [] };
  const parser = new RequestParser({
    onHead: (head) => {
      seen.heads.push(head);
      seen.bodies.push("");
      seen.log.push(`head ${head.method} ${head.url}`);
    },
    onBody: (chunk) => {
      seen.bodies[seen.bodies.length - 1] += chunk.toString("latin1");
    },
    onEnd: () => {
      seen.ends++;
      seen.log.push("end");
    },
    onError: (error) => {
      assert.equal(seen.error, undefined, "one error at most");
      seen.error = error;
      seen.log.push(`error ${error.status}`);
    },
  });
  for (const chunk of chunks) parser.push(typeof chunk === "string" ? Buffer.from(chunk, "latin1") : chunk);
  return seen;
}

/** Every way to cut `text` in two, and one byte at a time. */
function splits(text: string): string[][] {
  const ways: string[][] = [[text], [...text]];
  for (let i = 1; i < text.length; i++) ways.push([text.slice(0, i), text.slice(i)]);
  return ways;
}

const get = "GET /v1/tables/t/items/k?r=1 HTTP/1.1\r\nHost: a\r\nX-Shoal-Meta-A: one \r\nx-shoal-meta-a: two\r\n\r\n";
const put = "PUT /v1/tables/t/items/k HTTP/1.1\r\nhost: a\r\ncontent-length: 5\r\ncontent-type: text/plain\r\n\r\nhello";
const chunked =
  "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + "5;name=value;q=\"x\"\r\nhello\r\n" + "6\r\n world\r\n" + "0\r\nX-Checksum: 1\r\nX-Other: 2\r\n\r\n";

test("a request split at every byte, or sent one byte at a time, parses the same", () => {
  for (const text of [get, put, chunked]) {
    const whole = parse([text]);
    assert.equal(whole.error, undefined);
    assert.equal(whole.heads.length, 1);
    assert.equal(whole.ends, 1);
    for (const chunks of splits(text)) {
      const seen = parse(chunks);
      assert.equal(seen.error, undefined, `split ${chunks.map((c) => c.length).join("+")}`);
      assert.deepEqual(seen.heads, whole.heads);
      assert.deepEqual(seen.bodies, whole.bodies);
      assert.equal(seen.ends, 1);
    }
  }
  const seen = parse([get]);
  const head = seen.heads[0]!;
  assert.equal(head.method, "GET");
  assert.equal(head.url, "/v1/tables/t/items/k?r=1");
  assert.deepEqual(head.rawHeaders, ["Host", "a", "X-Shoal-Meta-A", "one", "x-shoal-meta-a", "two"], "values trimmed, names as sent");
  assert.equal(head.keepAlive, true);
  assert.equal(parse([put]).bodies[0], "hello");
  assert.equal(parse([chunked]).bodies[0], "hello world", "extensions and trailers are skipped");
});

test("pipelined requests in one chunk come out in order, bodies with their heads", () => {
  const seen = parse([get + put + chunked + get]);
  assert.equal(seen.error, undefined);
  assert.deepEqual(seen.log, ["head GET /v1/tables/t/items/k?r=1", "end", "head PUT /v1/tables/t/items/k", "end", "head POST /", "end", "head GET /v1/tables/t/items/k?r=1", "end"]);
  assert.deepEqual(seen.bodies, ["", "hello", "hello world", ""]);
  // Split at every byte too.
  const text = put + get + chunked;
  for (const chunks of splits(text)) assert.deepEqual(parse(chunks).bodies, ["hello", "", "hello world"]);
});

test("headers: names lower-cased, repeats joined as node:http joins them", () => {
  const seen = parse(["GET / HTTP/1.1\r\nAccept: a\r\naccept: b\r\nContent-Type: x\r\ncontent-type: y\r\nCookie: c=1\r\ncookie: d=2\r\n\r\n"]);
  const req = new LeanRequest(seen.heads[0]!, { bodyHeld: () => undefined });
  assert.equal(req.headers.accept, "a, b");
  assert.equal(req.headers["content-type"], "x", "content-type keeps the first");
  assert.equal(req.headers.cookie, "c=1; d=2");
});

test("HTTP/1.0 closes unless keep-alive; Connection: close closes HTTP/1.1; Expect: 100-continue is seen", () => {
  assert.equal(parse(["GET / HTTP/1.0\r\n\r\n"]).heads[0]!.keepAlive, false);
  assert.equal(parse(["GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"]).heads[0]!.keepAlive, true);
  assert.equal(parse(["GET / HTTP/1.1\r\nConnection: te, close\r\n\r\n"]).heads[0]!.keepAlive, false);
  assert.equal(parse(["PUT / HTTP/1.1\r\nExpect: 100-Continue\r\ncontent-length: 1\r\n\r\n"]).heads[0]!.expectContinue, true);
  assert.equal(parse(["\r\n\r\nGET / HTTP/1.1\r\n\r\n"]).heads.length, 1, "empty lines before a request are skipped");
});

test("bad Content-Length (two values, negative, not digits) and ambiguous framing are 400", () => {
  const cases = [
    "PUT / HTTP/1.1\r\ncontent-length: 5\r\ncontent-length: 6\r\n\r\nhello",
    "PUT / HTTP/1.1\r\ncontent-length: -1\r\n\r\n",
    "PUT / HTTP/1.1\r\ncontent-length: 5x\r\n\r\n",
    "PUT / HTTP/1.1\r\ncontent-length: 0x5\r\n\r\n",
    "PUT / HTTP/1.1\r\ncontent-length: 5, 5\r\n\r\n",
    "PUT / HTTP/1.1\r\ncontent-length: 9999999999999999\r\n\r\n",
    "PUT / HTTP/1.1\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n",
    "PUT / HTTP/1.1\r\ntransfer-encoding: gzip\r\n\r\n",
    "PUT / HTTP/1.0\r\ntransfer-encoding: chunked\r\n\r\n",
  ];
  for (const text of cases) {
    const seen = parse([text]);
    assert.equal(seen.error?.status, 400, text);
    assert.equal(seen.heads.length, 0, "no request reaches a handler");
    assert.match(seen.error.message, /Content-Length|Transfer-Encoding/);
  }
  const same = parse(["PUT / HTTP/1.1\r\ncontent-length: 5\r\nContent-Length: 5\r\n\r\nhello"]);
  assert.equal(same.error, undefined, "a repeated equal Content-Length is accepted");
  assert.equal(same.bodies[0], "hello");
});

test("malformed heads are 400: bare LF, obs-fold, control characters, no version, bad names", () => {
  const cases = [
    "GET / HTTP/1.1\nHost: a\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n",
    "GET / HTTP/1.1\r\nX-A: a\x01b\r\n\r\n",
    "GET / HTTP/1.1\r\nX-A: a\rb\r\n\r\n",
    "GET /\r\n\r\n",
    "GET  / HTTP/1.1\r\n\r\n",
    "G(T / HTTP/1.1\r\n\r\n",
    "GET / HTTP/1.1\r\nBad Name: a\r\n\r\n",
    "GET / HTTP/1.1\r\n: a\r\n\r\n",
    "GET /a\x7fb HTTP/1.1\r\n\r\n",
  ];
  for (const text of cases) assert.equal(parse([text]).error?.status, 400, JSON.stringify(text));
  assert.equal(parse(["GET / HTTP/2.0\r\n\r\n"]).error?.status, 505);
  assert.equal(parse(["GET / HTTP/1.1\r\nExpect: teapot\r\n\r\n"]).error?.status, 417);
});

test("oversize heads are 431 naming the limit: request line, whole head, header count", () => {
  const longLine = parse([`GET /${"a".repeat(httpParserLimits.requestLineBytesMax)} HTTP/1.1\r\n\r\n`]);
  assert.equal(longLine.error?.status, 431);
  assert.match(longLine.error.message, /8192/);
  // Without the end of the line yet: refused as soon as the line passes its limit.
  assert.equal(parse([`GET /${"a".repeat(httpParserLimits.requestLineBytesMax + 10)}`]).error?.status, 431);
  const bigHead = parse([`GET / HTTP/1.1\r\nX-A: ${"v".repeat(httpParserLimits.headBytesMax)}\r\n\r\n`]);
  assert.equal(bigHead.error?.status, 431);
  assert.match(bigHead.error.message, /16384/);
  const partial = parse([`GET / HTTP/1.1\r\nX-A: ${"v".repeat(httpParserLimits.headBytesMax)}`]);
  assert.equal(partial.error?.status, 431, "refused before the head ends");
  const many = Array.from({ length: httpParserLimits.headersMax + 1 }, (_, i) => `X-${i}: v\r\n`).join("");
  const tooMany = parse([`GET / HTTP/1.1\r\n${many}\r\n`]);
  assert.equal(tooMany.error?.status, 431);
  assert.match(tooMany.error.message, /100/);
  const exactly = Array.from({ length: httpParserLimits.headersMax }, (_, i) => `X-${i}: v\r\n`).join("");
  assert.equal(parse([`GET / HTTP/1.1\r\n${exactly}\r\n`]).error, undefined);
});

test("bad chunked framing is 400 and stops the parser: size, data end, oversize trailers", () => {
  const start = "POST / HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n";
  for (const body of ["zz\r\n", "5\r\nhelloXX", "-1\r\n", "5 x\r\nhello\r\n", `${"f".repeat(13)}\r\n`]) {
    const seen = parse([start + body + "0\r\n\r\nGET / HTTP/1.1\r\n\r\n"]);
    assert.equal(seen.error?.status, 400, JSON.stringify(body));
    assert.equal(seen.heads.length, 1, "nothing after the error is parsed");
    assert.equal(seen.ends, 0);
  }
  const trailers = Array.from({ length: 300 }, (_, i) => `X-T${i}: ${"v".repeat(60)}\r\n`).join("");
  assert.equal(parse([`${start}0\r\n${trailers}\r\n`]).error?.status, 431);
  const longExtension = parse([`${start}1;${"e".repeat(httpParserLimits.chunkLineBytesMax)}\r\nx\r\n0\r\n\r\n`]);
  assert.equal(longExtension.error?.status, 400);
});

test("a head held back (pipelining bound) is parsed once released, with its body", () => {
  const heads: string[] = [];
  const bodies: string[] = [];
  const parser: RequestParser = new RequestParser({
    onHead: (head) => {
      heads.push(head.method);
      parser.holdHeads = true;
    },
    onBody: (chunk) => bodies.push(chunk.toString()),
    onEnd: () => undefined,
    onError: (error) => assert.fail(error.message),
  });
  parser.push(Buffer.from(put + put + get));
  assert.deepEqual(heads, ["PUT"]);
  assert.deepEqual(bodies, ["hello"], "the held request's body still flows");
  parser.holdHeads = false;
  parser.drive();
  assert.deepEqual(heads, ["PUT", "PUT"]);
  parser.holdHeads = false;
  parser.drive();
  assert.deepEqual(heads, ["PUT", "PUT", "GET"]);
  assert.equal(parser.idle, true);
});
