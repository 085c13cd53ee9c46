#include "core/crypto.h"

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <thread>

#include <cryptopp/keccak.h>
#include <isa-l/crc.h>

#include "core/check.h"
#include "core/keccak_count.h"

namespace supersafe {

namespace {

constexpr size_t kKeccak256Rate = 136;  // bytes absorbed per permutation
constinit std::atomic<uint64_t> g_permutations{0};

uint64_t PermutationsFor(size_t bytes) { return bytes / kKeccak256Rate + 1; }

}  // namespace

uint64_t KeccakPermutationsRun() { return g_permutations.load(std::memory_order_relaxed); }

Hash Keccak256(ByteSpan data) {
  g_permutations.fetch_add(PermutationsFor(data.size()), std::memory_order_relaxed);
  CryptoPP::Keccak_256 k;
  k.Update(data.data(), data.size());
  Hash out;
  k.Final(out.data());
  return out;
}

namespace {

// Inputs handed out at a time to either thread of a split batch: small enough that the caller
// never waits long for the worker's last share, large enough to keep the shared counter cold.
constexpr size_t kKeccakChunk = 16;  // ~5 us of Keccak for one-block inputs

void HashRange(std::span<const ByteSpan> in, std::span<Hash> out, size_t begin, size_t end) {
  // One Crypto++ object, restarted by each Final.
  CryptoPP::Keccak_256 k;
  uint64_t permutations = 0;
  for (size_t i = begin; i < end; ++i) {
    k.Update(in[i].data(), in[i].size());
    k.Final(out[i].data());
    permutations += PermutationsFor(in[i].size());
  }
  g_permutations.fetch_add(permutations, std::memory_order_relaxed);
}

// Set in a forked child (whose copy of the worker has no thread) and when the worker is
// destroyed at exit: from then on every batch is done inline.
constinit std::atomic<bool> g_worker_unavailable{false};

// A batch of inputs to hash; either thread hashes any [begin, end) range of it.
struct Job {
  std::span<const ByteSpan> in;
  std::span<Hash> out;
};

// The second thread of Keccak256Many: one at a time, a caller posts a batch, both
// threads take chunks of it from a shared counter, and the caller returns once the worker has left
// the batch.
class Worker {
 public:
  // The worker, its thread started on first use; nullptr when unavailable.
  static Worker* Get() {
    if (g_worker_unavailable.load(std::memory_order_acquire)) return nullptr;
    static Worker worker;
    return &worker;
  }

  // Runs the batch with the worker's help; false (nothing done) if another caller holds it.
  bool Run(const Job& job) {
    if (busy_.test_and_set(std::memory_order_acquire)) return false;
    job_ = job;
    next_.store(0, std::memory_order_relaxed);
    state_.store(kPosted, std::memory_order_release);
    state_.notify_all();
    Drain();
    int s = kPosted;
    // Withdraw the batch if the worker has not taken it yet; otherwise wait for it to leave.
    if (!state_.compare_exchange_strong(s, kIdle, std::memory_order_acq_rel, std::memory_order_acquire)) {
      while (s != kDone) {
        state_.wait(s, std::memory_order_acquire);
        s = state_.load(std::memory_order_acquire);
      }
      state_.store(kIdle, std::memory_order_relaxed);
    }
    busy_.clear(std::memory_order_release);
    return true;
  }

 private:
  enum State : int { kIdle, kPosted, kTaken, kDone, kStop };

  Worker() {
    ::pthread_atfork(nullptr, nullptr, [] { g_worker_unavailable.store(true, std::memory_order_release); });
    thread_ = new std::thread([this] { Loop(); });
  }
  ~Worker() {
    const bool forked = g_worker_unavailable.exchange(true, std::memory_order_acq_rel);
    if (forked) return;  // this process's copy of the thread does not exist: leave it
    while (busy_.test_and_set(std::memory_order_acquire)) std::this_thread::yield();
    state_.store(kStop, std::memory_order_release);
    state_.notify_all();
    thread_->join();
    delete thread_;
  }

  void Loop() {
    while (true) {
      int s = state_.load(std::memory_order_acquire);
      if (s == kStop) return;
      if (s != kPosted) {
        state_.wait(s, std::memory_order_acquire);
        continue;
      }
      if (!state_.compare_exchange_strong(s, kTaken, std::memory_order_acq_rel, std::memory_order_acquire))
        continue;  // withdrawn by its caller
      Drain();
      state_.store(kDone, std::memory_order_release);
      state_.notify_all();
    }
  }

  // Claims chunks of the posted batch until none is left.
  void Drain() {
    const Job& j = job_;
    const size_t n = j.in.size();
    for (size_t begin = next_.fetch_add(kKeccakChunk, std::memory_order_relaxed); begin < n;
         begin = next_.fetch_add(kKeccakChunk, std::memory_order_relaxed))
      HashRange(j.in, j.out, begin, std::min(n, begin + kKeccakChunk));
  }

  std::atomic<int> state_{kIdle};
  std::atomic_flag busy_;  // held by the caller whose batch is posted
  std::atomic<size_t> next_{0};
  Job job_;
  std::thread* thread_ = nullptr;  // not joined in a forked child, hence a pointer
};

// Runs `job` split with the worker if it is free and available; false (nothing done) otherwise.
bool RunSplit(const Job& job) {
  Worker* w = Worker::Get();
  return w != nullptr && w->Run(job);
}

}  // namespace

void Keccak256Many(std::span<const ByteSpan> in, std::span<Hash> out) {
  SS_CHECK(in.size() == out.size(), "Keccak256Many: as many outputs as inputs");
  if (in.size() >= kKeccak256ManySplitMin && RunSplit(Job{in, out})) return;
  HashRange(in, out, 0, in.size());
}

void Keccak256ManyInline(std::span<const ByteSpan> in, std::span<Hash> out) {
  SS_CHECK(in.size() == out.size(), "Keccak256ManyInline: as many outputs as inputs");
  HashRange(in, out, 0, in.size());
}

uint32_t Crc32c(ByteSpan data) { return Crc32cExtend(0, data); }

uint32_t Crc32cExtend(uint32_t crc32c, ByteSpan data) {
  // ISA-L's iSCSI CRC is CRC-32C without the initial and final inversions; it takes an int length,
  // hence the pieces.
  constexpr size_t kPiece = size_t{1} << 30;
  unsigned crc = ~crc32c;
  const uint8_t* p = data.data();
  for (size_t left = data.size(); left > 0;) {
    const size_t n = std::min(left, kPiece);
    static_assert(kPiece <= INT_MAX);
    crc = crc32_iscsi(const_cast<uint8_t*>(p), static_cast<int>(n), crc);
    p += n;
    left -= n;
  }
  return ~crc;
}

}  // namespace supersafe
