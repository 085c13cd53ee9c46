// How many Keccak-f[1600] permutations Keccak256 and Keccak256Many (core/crypto.h) have run in
// this process, on every thread: one per 136-byte rate block of each input, the padded last block
// included. Benchmarks compare a run's time with what one core needs for that many permutations
// alone (bench/README.md, "simulator": the Keccak floor). Counting costs one relaxed atomic
// addition per hash or batch.
#pragma once

#include <cstdint>

namespace supersafe {

uint64_t KeccakPermutationsRun();

}  // namespace supersafe
