/* Fail points: crash the process at a chosen instant, for tests only.
 *
 * A fail point marks a place where esgledger persists something (a block's
 * LMDB commit, the signer's state file, the consensus log), so that a test
 * can make the process die exactly there and check what survives:
 *
 *   ESG_FAILPOINT("block-commit-after");
 *
 * In a normal build the macro expands to nothing: esgnode has no fail
 * points, not even a branch. Compiled with -DESG_FAILPOINTS (the CMake
 * target esgnode-failpoints, never installed), each use calls
 * esg_failpoint_hit(name), which on its first call reads the environment
 * variable ESG_FAILPOINT, "NAME" or "NAME:N" (N >= 1, default 1). At the
 * N-th hit of the fail point NAME it writes one line to stderr
 * ("failpoint 'NAME' hit N: exiting 86") and calls _exit(86): no atexit
 * handler, no stdio flush, no LMDB or file close -- what kill -9 at that
 * instant would leave, except that data already handed to the kernel
 * (written, not necessarily fsynced) survives, as it would a process
 * crash (not a power loss). Hits of other names are not counted. With the
 * variable unset or empty nothing ever happens; a malformed value ends the
 * process with status 2 at the first hit, so a typo cannot make a test
 * pass without crashing.
 *
 * The names and what each simulates are listed in docs/FAILPOINTS.md.
 * CMake compiles again, with ESG_FAILPOINTS, the .c files that use
 * ESG_FAILPOINT("...") when it configures: a file that gains its first
 * fail point needs `cmake -S . -B BUILD` once before it counts.
 *
 * Threads: esg_failpoint_hit may be called from any thread; the variable
 * is read once (pthread_once) and the hit counter is atomic. The counter is
 * process-wide state, the one exception to "no global mutable state",
 * acceptable because it exists only in the test build.
 */
#ifndef ESG_FAILPOINT_H
#define ESG_FAILPOINT_H

/* Exit status of a process stopped by a fail point. */
#define ESG_FAILPOINT_EXIT 86

/* Counts a hit of fail point `name` (a string literal) and ends the
 * process with _exit(ESG_FAILPOINT_EXIT) if it is the armed one and this is
 * its N-th hit. Defined only in a build with ESG_FAILPOINTS. */
void esg_failpoint_hit(const char *name);

#ifdef ESG_FAILPOINTS
#define ESG_FAILPOINT(name) esg_failpoint_hit(name)
#else
#define ESG_FAILPOINT(name) ((void)0)
#endif

#endif
