import type { NodeId } from "../runtime/network.js";
import type { StrongCoordinator } from "../paxos/strong-coordinator.js";

export type { StrongDecision, StrongResult, StrongValue, StrongVersioned } from "../paxos/strong-coordinator.js";

/**
 * What the strong workload calls on a node: the strong path's two operations (DESIGN.md, "The
 * strong path"; CASPaxos, Rystsov 2018), `change` with a function of the current value and
 * `read` (a client's get uses `readFast` where the register has it: the one-round-trip read;
 * puts and deletes use `write`, which forwards them to the key's first live primary, where it has it).
 * StrongCoordinator is one; the single-copy register the simulator's own tests use as
 * an obviously linearizable reference is another.
 */
export type StrongRegister = Pick<StrongCoordinator, "change" | "read"> & Partial<Pick<StrongCoordinator, "readFast" | "write">>;

/** How a scenario finds the register of a running node (undefined while the node is down). */
export type StrongRegisterOf = (node: NodeId) => StrongRegister | undefined;
