import { test } from "node:test";
import assert from "node:assert/strict";
import { membershipBoundsDefault, membershipIntervalsDefault, resolveMembershipSettings } from "./membership-options.js";

test("the defaults satisfy their own relations", () => {
  assert.deepEqual(resolveMembershipSettings(), { intervals: membershipIntervalsDefault, bounds: membershipBoundsDefault });
});

test("settings that could never work are refused at construction", () => {
  assert.throws(() => resolveMembershipSettings({ probeTimeoutMs: 800, indirectProbeTimeoutMs: 700 }), /indirectProbeTimeoutMs/);
  assert.throws(() => resolveMembershipSettings({ gossipTimeoutMs: 2000 }), /gossipTimeoutMs/);
  assert.throws(() => resolveMembershipSettings({ suspicionTimeoutMs: 10 }), /suspicionTimeoutMs/);
  assert.throws(() => resolveMembershipSettings({}, { membersMax: 0 }), /membersMax/);
  assert.throws(() => resolveMembershipSettings({ forgetDownAfterMs: 5000 }), /forgetDownAfterMs/);
  assert.throws(() => resolveMembershipSettings({}, { piggybackPerMessageMax: 300 }), /piggybackPerMessageMax/);
});
