// `supersafe export`: fault-proof fixtures (docs/fp-fixtures.md) for the games of a scenario.
//
// The scenario runs as `supersafe sim` runs it (same runner, same seed rules). When the run has
// passed, each game is read from the supervisor as it stands at the end of the run, bounded by the
// game's L1 head, as op-challenger plays a game: it asks the supervisor it has now and treats
// whatever was not cross-safe at the L1 head as unreachable. The L1 head is the canonical L1 block
// of that number at the end of the run. The fixture holds the answers the claims read and the
// claim at every trace index 0 .. (poststate - prestate) * S; docs/fp-fixtures.md says how each
// field is computed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/fp_trace.h"
#include "core/status.h"
#include "sim/scenario.h"

namespace supersafe::sim {

// A bound on the claims of one game ((poststate - prestate) * S + 1), to keep files and memory sane.
inline constexpr uint64_t kMaxClaimsPerGame = uint64_t{1} << 20;

struct ExportOptions {
  uint64_t seed = 0;  // the file's seed, or --seed
  uint64_t steps_per_timestamp = kDefaultStepsPerTimestamp;
};

struct GameFixture {
  GameSpec game;
  std::string file_name;  // GameFileName(game)
  std::string json;       // the file's bytes: one top-level key, super root or claim per line
};

// "game-<l1head>-<prestate>-<poststate>.json"
std::string GameFileName(const GameSpec& game);

// Checks the options and the games, runs the scenario in a temporary data directory (removed
// afterwards) and returns one fixture per game, in the scenario's order. kInvalidArgument, naming
// the game or the option, for: no games; steps per timestamp under chains + 1 (0 included); a game
// whose prestate is not before its poststate or is before the L2 genesis time, whose poststate is
// 2^64-1 (the super roots read go to poststate + 1), one with more than
// kMaxClaimsPerGame claims, the same game twice; an l1_head beyond the L1 head at the end of the
// run, or one the supervisor has written no group for; a run that fails (an expectation or a step;
// kInternal for a broken invariant). kIOError if the temporary directory cannot be made.
Result<std::vector<GameFixture>> ExportFixtures(const Scenario& scenario, const ExportOptions& options);

}  // namespace supersafe::sim
