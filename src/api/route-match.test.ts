import { test } from "node:test";
import assert from "node:assert/strict";
import { Route, matchRoute } from "./route-match.js";

test("matchRoute finds each route with its raw table and key segments and the query", () => {
  assert.deepEqual(matchRoute("/health"), { route: Route.health, table: "", key: "", query: "" });
  assert.equal(matchRoute("/metrics")?.route, Route.metrics);
  assert.equal(matchRoute("/v1/tables")?.route, Route.tables);
  assert.deepEqual(matchRoute("/v1/tables/cart"), { route: Route.table, table: "cart", key: "", query: "" });
  assert.deepEqual(matchRoute("/v1/tables/cart/items?prefix=a&limit=2"), { route: Route.items, table: "cart", key: "", query: "prefix=a&limit=2" });
  assert.deepEqual(matchRoute("/v1/tables/cart/items/a%2Fb?ttl=5"), { route: Route.item, table: "cart", key: "a%2Fb", query: "ttl=5" });
  assert.deepEqual(matchRoute("/v1/tables/cart/items/"), { route: Route.item, table: "cart", key: "", query: "" });
  assert.equal(matchRoute("/v1/tables/cart/batch")?.route, Route.batch);
});

test("matchRoute refuses everything else", () => {
  for (const url of ["", "/", "health", "/healthz", "/v1", "/v1/table", "/v2/tables", "/v1/tables/", "/v1/tables//items", "/v1/tables/cart/items/a/b", "/v1/tables/cart/batch/x", "/v1/tables/cart/nope", "/metrics/x"]) {
    assert.equal(matchRoute(url), undefined, url);
  }
});
