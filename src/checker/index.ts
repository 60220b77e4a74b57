/**
 * The checkers the simulator and the fault tests run against recorded histories
 * (TESTING.md, "The linearizability checker"): linearizability for the strong path, and
 * no-lost-write / no-resurrection for the eventual path.
 */
export * from "./history.js";
export * from "./history-recorder.js";
export * from "./model.js";
export * from "./register-model.js";
export * from "./counterexample.js";
export * from "./linearizability-checker.js";
export * from "./eventual-checker.js";
export * from "./register-history-text.js";
