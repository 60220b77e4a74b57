#!/bin/sh
# Removes what a crashed or interrupted fault run (test/faults/run.ts) left behind: the network
# namespaces and links named shf<pid base 36>-*, after killing every process inside those
# namespaces, and their data directories under $TMPDIR. The runner does this itself at start for
# runs whose process is gone; this script removes every run's leftovers, live or not, so run it
# only when no fault run is in progress. Needs root.
set -u
prefix=shf
for ns in $(ip netns list | awk '{print $1}' | grep "^${prefix}[0-9a-z]*-" || true); do
  for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
  ip netns del "$ns" && echo "removed namespace $ns"
done
for link in $(ip -o link show | sed -n "s/^[0-9]*: \(${prefix}[0-9a-z]*-[^:@]*\).*/\1/p"); do
  ip link del "$link" 2>/dev/null && echo "removed link $link"
done
for dir in "${TMPDIR:-/tmp}/${prefix}"*-data-*; do
  [ -d "$dir" ] && rm -rf "$dir" && echo "removed $dir"
done
exit 0
