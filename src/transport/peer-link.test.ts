import { test } from "node:test";
import assert from "node:assert/strict";
import type { TimerHandle, Timers } from "../runtime/runtime.js";
import { SeededRandom } from "../runtime/seeded-random.js";
import { PeerLink, type PeerDialer } from "./peer-link.js";
import type { RpcConnection } from "./rpc-connection.js";

/** Timers that fire only when the test says so. */
class ManualTimers implements Timers {
  private nextId = 1;
  readonly live = new Map<number, { callback: () => void; delayMs: number }>();
  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const id = this.nextId++;
    this.live.set(id, { callback, delayMs });
    return { id };
  }
  clearTimeout(handle: TimerHandle): void {
    this.live.delete(handle.id);
  }
  fireAll(): void {
    const due = [...this.live.values()];
    this.live.clear();
    for (const timer of due) timer.callback();
  }
}

interface FakeDial {
  connection: RpcConnection & { closedWith?: string };
  opened: boolean;
  /** The handshake finished. */
  open(): void;
  /** The socket closed (after opening or not). */
  drop(): void;
}

function fakeDialer(): { dial: PeerDialer; dials: FakeDial[] } {
  const dials: FakeDial[] = [];
  const dial: PeerDialer = (_address, events) => {
    let closed = false;
    const connection = {
      get isClosed() {
        return closed;
      },
      close(failure: string) {
        closed = true;
        connection.closedWith = failure;
      },
    } as unknown as RpcConnection & { closedWith?: string };
    const fake: FakeDial = {
      connection,
      opened: false,
      open: () => {
        fake.opened = true;
        events.onOpen();
      },
      drop: () => {
        closed = true;
        events.onClose(null, fake.opened);
      },
    };
    dials.push(fake);
    return connection;
  };
  return { dial, dials };
}

function link(timers: ManualTimers, dial: PeerDialer): PeerLink {
  return new PeerLink({ address: { host: "127.0.0.1", port: 9001 }, dial, timers, random: new SeededRandom(1), backoffBaseMs: 50, backoffMaxMs: 800 });
}

test("a link dials on first use and reuses the live connection", () => {
  const timers = new ManualTimers();
  const { dial, dials } = fakeDialer();
  const peer = link(timers, dial);
  const first = peer.connection();
  assert.equal(peer.connection(), first);
  assert.equal(dials.length, 1);
});

test("a failed dial backs off: no connection until the backoff timer fires, then a new dial", () => {
  const timers = new ManualTimers();
  const { dial, dials } = fakeDialer();
  const peer = link(timers, dial);
  peer.connection();
  dials[0]!.drop(); // never opened
  assert.equal(peer.failedDials, 1);
  assert.equal(peer.backingOff, true);
  assert.equal(peer.connection(), undefined);
  assert.equal(dials.length, 1);
  timers.fireAll();
  assert.ok(peer.connection());
  assert.equal(dials.length, 2);
});

test("backoff delays grow with consecutive failures and reset after a success", () => {
  const timers = new ManualTimers();
  const { dial, dials } = fakeDialer();
  const peer = link(timers, dial);
  const delays: number[] = [];
  for (let i = 0; i < 6; i++) {
    peer.connection();
    dials.at(-1)!.drop();
    delays.push([...timers.live.values()][0]!.delayMs);
    timers.fireAll();
  }
  assert.ok(delays[1]! > delays[0]! / 2 && delays.every((d) => d <= 800), `delays ${delays}`);
  assert.ok(delays.at(-1)! >= 400, "capped delays stay at least half the cap");
  peer.connection();
  dials.at(-1)!.open();
  assert.equal(peer.failedDials, 0);
});

test("a connection that was open and broke is redialed at once, without backoff", () => {
  const timers = new ManualTimers();
  const { dial, dials } = fakeDialer();
  const peer = link(timers, dial);
  peer.connection();
  const first = dials[0]!;
  first.open();
  first.drop();
  assert.equal(peer.backingOff, false);
  assert.ok(peer.connection());
  assert.equal(dials.length, 2);
});

test("closing a link closes its connection with the given failure and stops dialing", () => {
  const timers = new ManualTimers();
  const { dial, dials } = fakeDialer();
  const peer = link(timers, dial);
  peer.connection();
  peer.close("unreachable");
  assert.equal(dials[0]!.connection.closedWith, "unreachable");
  assert.equal(peer.connection(), undefined);
  assert.equal(dials.length, 1);
});
