import { unavailable } from "../errors.js";

/**
 * Group commit across fsyncs for LmdbStorageEngine: at most one write transaction is committed
 * and not yet flushed at a time; writes that arrive meanwhile wait and then go together as the
 * next transaction.
 *
 * Why: lmdb-js already puts every write of one event-loop turn into one transaction, and with
 * overlappingSync it commits the next turn's transaction while the previous one's fdatasync
 * runs. Under a steady stream of writes (a replica during a put load) nearly every such turn
 * then pays a transaction and an fsync of its own: each costs the writer thread a fixed amount
 * (waking it, copying the B-tree's branch and root pages, the freelist, the meta pages, the
 * fdatasync itself) on top of its writes, and the nodes share cores. Measured on a 3-node
 * cluster under a W=2 put load (perf-probe cput, anti-entropy off, 2026-12-07): without the
 * gate 176 transactions and 163 fdatasync per node per second at 3146 puts/s; with it 101 and
 * 94 at 2895 puts/s (0.155 -> 0.098 fsyncs per put across the cluster). A write waiting here
 * would mostly have waited anyway (a durable write resolves only once its own transaction is
 * flushed, and flushes run one after another); the cost is that the next batch commits after
 * the flush instead of during it.
 *
 * Why the gate does not hold a batch longer to make it larger: a transaction's fixed cost is
 * most of what a write costs (a microbenchmark of lmdb-js durable puts on this machine: about
 * 250 to 400 us of CPU per transaction, page writes and fdatasync included, against about 5 us
 * per put), yet under a strong put load (perf-probe csput, 3 nodes, 64 in flight, 2026-12-07)
 * a node ran about 110 transactions a second at about 3000 puts a second, each carrying about
 * 2.2 gate writes (the callers already batch their records per turn), with about 21 page
 * pwrites and one fdatasync each. Holding the waiting batch one more event-loop iteration left
 * that rate unchanged and the CPU per put within the noise: the batches follow the waves of
 * the closed loop of requests, not the gate's timing, so only a hold of several milliseconds,
 * added to every durable write's latency, would merge waves.
 *
 * Writes keep their order: a write issued after another is applied after it (in the same or a
 * later transaction). A batch that fails fails the writes it carried (as a failed lmdb-js
 * transaction does), and the gate moves on to the next batch either way.
 *
 * `issue` hands writes to lmdb-js synchronously; every call made in one turn shares that turn's
 * transaction. The window in which a new write joins the transaction being formed stays open
 * until `endOfTurn` fires (after lmdb-js starts the transaction, which it schedules with
 * setImmediate on the turn's first write).
 */
export interface IssuedWrite {
  /** Resolves once the write's transaction committed (rejects when it failed). */
  committed: Promise<unknown>;
  /** Resolves once that transaction is on disk; never settles when the commit failed. */
  flushed: PromiseLike<unknown>;
}

export interface CommitGateOptions<W> {
  issue(write: W): IssuedWrite;
  /** Runs `callback` after the current turn's transaction was started (setImmediate in production). */
  endOfTurn(callback: () => void): void;
  /** Writes waiting at most (they are bounded upstream by the key locks and in-flight requests; this is a backstop). */
  queuedMax: number;
}

interface Waiting<W> {
  write: W;
  durable: boolean;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class CommitGate<W> {
  /** The flush of the transaction in flight (committed, not yet on disk), or undefined when none is. */
  private inFlight: Promise<void> | undefined;
  /** True until the end of the turn that issued the transaction in flight: writes still join it. */
  private windowOpen = false;
  private waiting: Waiting<W>[] = [];
  private drained: Array<() => void> = [];
  /** What the gate counts (transactions issued, writes that waited), for tests and profiles. */
  readonly stats = { batches: 0, writes: 0, waited: 0 };

  constructor(private readonly options: CommitGateOptions<W>) {}

  /** Writes waiting for the transaction in flight. */
  get queued(): number {
    return this.waiting.length;
  }

  /** Resolves once committed (with `durable`, once on disk). */
  write(write: W, durable: boolean): Promise<void> {
    this.stats.writes++;
    if (this.inFlight === undefined || this.windowOpen) {
      const issued = this.issueNow(write);
      return durable ? issued.committed.then(() => issued.flushed).then(ignore) : issued.committed.then(ignore);
    }
    if (this.waiting.length >= this.options.queuedMax) return Promise.reject(unavailable("StorageBusy", `cannot write: ${this.waiting.length} writes wait for the disk; the limit is ${this.options.queuedMax}`));
    this.stats.waited++;
    return new Promise<void>((resolve, reject) => this.waiting.push({ write, durable, resolve, reject }));
  }

  /** Resolves once nothing waits and the transaction in flight (if any) settled. */
  whenDrained(): Promise<void> {
    if (this.inFlight === undefined && this.waiting.length === 0) return Promise.resolve();
    return new Promise<void>((resolve) => this.drained.push(resolve));
  }

  private issueNow(write: W): IssuedWrite {
    const issued = this.options.issue(write);
    if (this.inFlight === undefined) this.open();
    // The last write of the window decides when it is over: one transaction, so its flush covers the others.
    this.last = issued;
    return issued;
  }

  private last: IssuedWrite | undefined;

  private open(): void {
    this.stats.batches++;
    this.windowOpen = true;
    let settle!: () => void;
    this.inFlight = new Promise<void>((resolve) => (settle = resolve));
    this.options.endOfTurn(() => {
      this.windowOpen = false;
      const last = this.last!;
      last.committed.then(() => last.flushed).then(settle, settle);
    });
    void this.inFlight.then(() => this.next());
  }

  private next(): void {
    this.inFlight = undefined;
    this.last = undefined;
    const batch = this.waiting;
    if (batch.length === 0) {
      const drained = this.drained;
      this.drained = [];
      for (const resolve of drained) resolve();
      return;
    }
    this.waiting = [];
    for (const entry of batch) {
      let issued: IssuedWrite;
      try {
        issued = this.issueNow(entry.write);
      } catch (error) {
        entry.reject(error);
        continue;
      }
      const done = entry.durable ? issued.committed.then(() => issued.flushed) : issued.committed;
      done.then(() => entry.resolve(), entry.reject);
    }
    // Every write of the batch threw: nothing in flight, so move on to what came meanwhile.
    if (this.inFlight === undefined) this.next();
  }
}

const ignore = (): void => undefined;
