import { test } from "node:test";
import assert from "node:assert/strict";
import { verifySignature } from "./sigv4-verifier.js";

/** AWS's published SigV4 test suite, case "get-vanilla" (credentials AKIDEXAMPLE, service "service"). */
const vanilla = {
  method: "GET",
  url: "/",
  headers: {
    host: "example.amazonaws.com",
    "x-amz-date": "20150830T123600Z",
    authorization:
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
  },
  body: new Uint8Array(0),
};
const credentials = [{ accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" }];
const signedAtMs = Date.UTC(2015, 7, 30, 12, 36, 0);
const clock = { nowMs: signedAtMs, skewMaxMs: 15 * 60_000 };

test("AWS's get-vanilla test vector verifies", () => {
  assert.equal(verifySignature(vanilla, credentials, clock), undefined);
});

test("changing any signed part of the vector breaks the signature", () => {
  const changed = [
    { ...vanilla, method: "POST" },
    { ...vanilla, url: "/other" },
    { ...vanilla, headers: { ...vanilla.headers, host: "example.amazonaws.org" } },
    { ...vanilla, body: new Uint8Array([1]) },
  ];
  for (const request of changed) assert.equal(verifySignature(request, credentials, clock)?.type, "InvalidSignatureException");
});

test("the skew bound is inclusive at 15 minutes and refuses one second more", () => {
  assert.equal(verifySignature(vanilla, credentials, { ...clock, nowMs: signedAtMs + 15 * 60_000 }), undefined);
  const late = verifySignature(vanilla, credentials, { ...clock, nowMs: signedAtMs + 15 * 60_000 + 1000 });
  assert.equal(late?.message, "Signature expired: 20150830T123600Z is now earlier than 20150830T123601Z (20150830T125101Z - 15 min.)");
});

test("a credential scope dated another day is refused", () => {
  const otherDay = { ...vanilla, headers: { ...vanilla.headers, authorization: vanilla.headers.authorization.replace("/20150830/", "/20150831/") } };
  assert.match(verifySignature(otherDay, credentials, clock)?.message ?? "", /Date in Credential scope does not match/);
});
