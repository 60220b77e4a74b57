import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
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
  assert.deepEqual(matchRoute("/v1/cluster?x=1"), { route: Route.cluster, table: "", key: "", query: "x=1" });
  assert.deepEqual(matchRoute("/v1/internal/anti-entropy"), { route: Route.antiEntropy, table: "", key: "", query: "" });
  assert.deepEqual(matchRoute("/v1/tables/cart/items/a%2Fb/increment?by=2"), { route: Route.increment, table: "cart", key: "a%2Fb", query: "by=2" });
  assert.deepEqual(matchRoute("/v1/tables/cart/items/increment"), { route: Route.item, table: "cart", key: "increment", query: "" });
});

test("matchRoute refuses everything else", () => {
  for (const url of ["", "/", "health", "/healthz", "/v1", "/v1/table", "/v2/tables", "/v1/tables/", "/v1/tables//items", "/v1/tables/cart/items/a/b", "/v1/tables/cart/items//increment", "/v1/tables/cart/items/a/increment/x", "/v1/tables/cart/items/a/incr", "/v1/tables/cart/batch/x", "/v1/tables/cart/nope", "/metrics/x", "/v1/cluster/", "/v1/cluster/x", "/v1/clusters", "/v1/internal", "/v1/internal/anti-entropy/x"]) {
    assert.equal(matchRoute(url), undefined, url);
  }
});

/** The obvious split-based matcher, as the reference the indexOf walk must agree with. */
function referenceMatch(url: string) {
  const q = url.indexOf("?");
  const query = q < 0 ? "" : url.slice(q + 1);
  const s = (q < 0 ? url : url.slice(0, q)).split("/");
  if (s[0] !== "") return undefined;
  if (s.length === 2 && s[1] === "health") return { route: Route.health, table: "", key: "", query };
  if (s.length === 2 && s[1] === "metrics") return { route: Route.metrics, table: "", key: "", query };
  if (s.length === 3 && s[1] === "v1" && s[2] === "cluster") return { route: Route.cluster, table: "", key: "", query };
  if (s.length === 4 && s[1] === "v1" && s[2] === "internal" && s[3] === "anti-entropy") return { route: Route.antiEntropy, table: "", key: "", query };
  if (s[1] !== "v1" || s[2] !== "tables") return undefined;
  if (s.length === 3) return { route: Route.tables, table: "", key: "", query };
  const table = s[3]!;
  if (table === "") return undefined;
  if (s.length === 4) return { route: Route.table, table, key: "", query };
  if (s[4] === "batch" && s.length === 5) return { route: Route.batch, table, key: "", query };
  if (s[4] !== "items") return undefined;
  if (s.length === 5) return { route: Route.items, table, key: "", query };
  if (s.length === 6) return { route: Route.item, table, key: s[5]!, query };
  if (s.length === 7 && s[6] === "increment" && s[5] !== "") return { route: Route.increment, table, key: s[5]!, query };
  return undefined;
}

test("matchRoute agrees with a split-based reference on generated paths", () => {
  const segment = fc.constantFrom("", "v1", "tables", "items", "batch", "health", "metrics", "cluster", "cart", "a%2Fb", "x?y=1", "v1tables", "increment", "internal", "anti-entropy");
  const url = fc.tuple(fc.array(segment, { maxLength: 7 }), fc.option(fc.constantFrom("ttl=1", "", "a=/b"))).map(([parts, query]) => `/${parts.join("/")}${query === null ? "" : `?${query}`}`);
  fc.assert(
    fc.property(fc.oneof(url, fc.string({ maxLength: 40 })), (u) => {
      assert.deepEqual(matchRoute(u), referenceMatch(u), u);
    }),
    { numRuns: 500, seed: 5 },
  );
});
