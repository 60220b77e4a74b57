import { test } from "node:test";
import assert from "node:assert/strict";
import { murmurHash3 } from "./murmur-hash3.js";

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);

// Published MurmurHash3 x86_32 test vectors (the widely used set that exercises the empty key,
// every tail length, non-ASCII input and the seed).
const vectors: Array<[string, Uint8Array, number, number]> = [
  ["empty, seed 0", bytes(), 0, 0x00000000],
  ["empty, seed 1", bytes(), 1, 0x514e28b7],
  ["empty, seed 0xffffffff", bytes(), 0xffffffff, 0x81f16f39],
  ["four zero bytes", bytes(0, 0, 0, 0), 0, 0x2362f9de],
  ["three zero bytes", bytes(0, 0, 0), 0, 0x85f0b427],
  ["two zero bytes", bytes(0, 0), 0, 0x30f4c306],
  ["one zero byte", bytes(0), 0, 0x514e28b7],
  ["ff ff ff ff", bytes(0xff, 0xff, 0xff, 0xff), 0, 0x76293b50],
  ["21 43 65 87", bytes(0x21, 0x43, 0x65, 0x87), 0, 0xf55b516b],
  ["21 43 65 87 seeded", bytes(0x21, 0x43, 0x65, 0x87), 0x5082edee, 0x2362f9de],
  ["21 43 65", bytes(0x21, 0x43, 0x65), 0, 0x7e4a8634],
  ["21 43", bytes(0x21, 0x43), 0, 0xa0f7b07a],
  ["21", bytes(0x21), 0, 0x72661cf4],
  ["aaaa", utf8("aaaa"), 0x9747b28c, 0x5a97808a],
  ["aaa", utf8("aaa"), 0x9747b28c, 0x283e0130],
  ["aa", utf8("aa"), 0x9747b28c, 0x5d211726],
  ["a", utf8("a"), 0x9747b28c, 0x7fa09ea6],
  ["abcd", utf8("abcd"), 0x9747b28c, 0xf0478627],
  ["abc", utf8("abc"), 0x9747b28c, 0xc84a62dd],
  ["ab", utf8("ab"), 0x9747b28c, 0x74875592],
  ["Hello, world!", utf8("Hello, world!"), 0x9747b28c, 0x24884cba],
  ["pi x8 (UTF-8)", utf8("ππππππππ"), 0x9747b28c, 0xd58063c1],
  ["abc, seed 0", utf8("abc"), 0, 0xb3dd93fa],
  ["56-byte alphabet", utf8("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"), 0, 0xee925b90],
  ["quick brown fox", utf8("The quick brown fox jumps over the lazy dog"), 0x9747b28c, 0x2fa826cd],
];

for (const [name, input, seed, expected] of vectors) {
  test(`murmurHash3 matches the published vector: ${name}`, () => {
    assert.equal(murmurHash3(input, seed), expected);
  });
}

test("murmurHash3 matches SMHasher's verification value 0xB0F57EE3", () => {
  // SMHasher's VerificationTest: hash the keys [], [0], [0,1], ... [0..254] with seed 256 - length,
  // concatenate the 256 hashes little-endian, hash that with seed 0, and read it little-endian.
  const hashes = new Uint8Array(256 * 4);
  const view = new DataView(hashes.buffer);
  const key = new Uint8Array(256);
  for (let i = 0; i < 256; i++) {
    key[i] = i;
    view.setUint32(i * 4, murmurHash3(key.subarray(0, i), 256 - i), true);
  }
  assert.equal(murmurHash3(hashes, 0), 0xb0f57ee3);
});

test("murmurHash3 reads only the given view of a larger buffer", () => {
  const buffer = utf8("xxHello, world!yy");
  assert.equal(murmurHash3(buffer.subarray(2, 15), 0x9747b28c), 0x24884cba);
});

test("murmurHash3 always returns an unsigned 32-bit integer", () => {
  for (let n = 0; n < 64; n++) {
    const h = murmurHash3(Uint8Array.from({ length: n }, (_, i) => (i * 37 + n) & 0xff), n * 7919);
    assert.ok(Number.isInteger(h) && h >= 0 && h <= 0xffffffff, `hash ${h} of length ${n}`);
  }
});
