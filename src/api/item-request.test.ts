import { test } from "node:test";
import assert from "node:assert/strict";
import { defaultLimits } from "../limits.js";
import { checkMetadata, conditionFromHeaders, keyBytes, parseEtagList, parseKeySegment, parseTtlSeconds } from "./item-request.js";

test("parseEtagList reads *, strong and weak tags, and lists", () => {
  assert.equal(parseEtagList(" * "), "*");
  assert.deepEqual(parseEtagList('"a"'), ["a"]);
  assert.deepEqual(parseEtagList('"a", W/"b" ,"c-1"'), ["a", "b", "c-1"]);
  assert.deepEqual(conditionFromHeaders({}), {});
  assert.deepEqual(conditionFromHeaders({ "if-match": '"x"', "if-none-match": "*" }), { ifMatch: ["x"], ifNoneMatch: "*" });
});

test("parseKeySegment decodes percent-encoding and counts UTF-8 bytes", () => {
  assert.deepEqual(Buffer.from(parseKeySegment("a%2Fb", defaultLimits)).toString(), "a/b");
  assert.equal(parseKeySegment("%F0%9F%98%80", defaultLimits).length, 4);
  assert.equal(parseKeySegment("x".repeat(1024), defaultLimits).length, 1024);
  assert.throws(() => parseKeySegment("x".repeat(1025), defaultLimits), /key is 1025 bytes; the limit is 1024/);
  assert.throws(() => parseKeySegment("", defaultLimits), /empty/);
});

test("TTLs are whole seconds from 1 to ttlSecondsMax", () => {
  assert.equal(parseTtlSeconds("1", defaultLimits, "ttl"), 1);
  assert.equal(parseTtlSeconds(String(defaultLimits.ttlSecondsMax), defaultLimits, "ttl"), defaultLimits.ttlSecondsMax);
  for (const bad of ["0", "1e3", " 1", "01.0", String(defaultLimits.ttlSecondsMax + 1), "99999999999999999"]) {
    assert.throws(() => parseTtlSeconds(bad, defaultLimits, "ttl"), /InvalidTtl|whole number/, bad);
  }
});

test("metadata names must be lower-case tokens and values header-safe; entries are bounded", () => {
  checkMetadata({ "a-b_c.d": "Value with spaces\tand tab é" }, defaultLimits);
  assert.throws(() => checkMetadata({ Upper: "x" }, defaultLimits), /metadata name/);
  assert.throws(() => checkMetadata({ "has space": "x" }, defaultLimits), /metadata name/);
  assert.throws(() => checkMetadata({ ok: "line\nbreak" }, defaultLimits), /printable/);
  assert.throws(() => checkMetadata({ ok: "snow ☃" }, defaultLimits), /printable/);
  const many = Object.fromEntries(Array.from({ length: defaultLimits.metadataEntriesMax + 1 }, (_, i) => [`m${i}`, ""]));
  assert.throws(() => checkMetadata(many, defaultLimits), /entries; the limit is 64/);
});

test("keys with lone surrogates are refused; paired ones are fine", () => {
  assert.equal(keyBytes("😀", defaultLimits).length, 4);
  assert.throws(() => keyBytes("a\ud800", defaultLimits), /lone surrogate/);
  assert.throws(() => keyBytes("\udc00b", defaultLimits), /lone surrogate/);
});
