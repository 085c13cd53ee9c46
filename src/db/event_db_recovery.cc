// Reading the event-log DB front to back: the scan of its blocks, the zero tail of preallocation
// and torn writes (Open's recovery and Verify), VerifyEventDB and EventDBContentSize
// (docs/event-db-format.md, "Preallocation and the zero tail", "Recovery on open", "Verify").
#include "db/event_db_internal.h"
#include "db/verifier.h"

#include <cstring>

namespace supersafe::db {
namespace event_db_internal {

Result<ScanOutcome> ScanBlocks(SequentialReader& reader, ScanMode mode,
                               const std::function<void(uint64_t, const Checkpoint&)>& on_block, uint64_t from,
                               std::optional<BlockRef> prev) {
  const uint64_t size = reader.size();
  ScanOutcome out;
  std::vector<Problem> problems;
  uint64_t p = from;
  auto report = [&](uint64_t offset, std::string what) {
    if (!out.first_bad) {
      out.first_bad = p;
      out.before_bad = prev;
    }
    out.last_bad = p;
    out.before_last_bad = prev;
    out.corruption.push_back(Finding{reader.file(), offset, std::move(what)});
  };
  while (p < size) {
    if (size - p < kCheckpointSize) {
      out.torn_from = p;
      break;
    }
    SS_ASSIGN_OR_RETURN(const uint8_t* c, reader.View(p, kCheckpointSize));
    if (auto problem = CheckCheckpoint(c)) {
      if (mode == ScanMode::kStopAtCorruption) {
        report(p + problem->offset, problem->what);
        break;
      }
      uint64_t q = p + kEntrySize;
      for (; q + kCheckpointSize <= size; q += kEntrySize) {
        SS_ASSIGN_OR_RETURN(const uint8_t* candidate, reader.View(q, kCheckpointSize));
        if (!CheckCheckpoint(candidate)) break;
      }
      const bool resumed = q + kCheckpointSize <= size;
      report(p + problem->offset, problem->what + (resumed ? "; the next sound checkpoint is at offset " + std::to_string(q)
                                                           : "; no sound checkpoint follows"));
      if (!resumed) break;
      p = q;
      prev.reset();
      continue;
    }
    const Checkpoint cp = DecodeCheckpoint(c);
    const size_t findings_before = out.corruption.size();
    if (prev && (prev->number == UINT64_MAX || cp.ref.number != prev->number + 1))
      report(p, "block " + std::to_string(cp.ref.number) + " follows block " + std::to_string(prev->number));
    if (prev && cp.ref.parent_hash != prev->hash)
      report(p, "parent hash of block " + std::to_string(cp.ref.number) + " is not the hash of the block before it");
    if (mode == ScanMode::kStopAtCorruption && !out.corruption.empty()) break;
    if (cp.size() > size - p) {
      out.torn_from = p;
      break;
    }
    SS_ASSIGN_OR_RETURN(const uint8_t* block, reader.View(p, cp.size()));
    problems.clear();
    CheckBody(block, cp, problems);
    for (const Problem& problem : problems) report(p + problem.offset, problem.what);
    if (mode == ScanMode::kStopAtCorruption && !out.corruption.empty()) break;
    if (out.corruption.size() == findings_before) on_block(p, cp);
    prev = cp.ref;
    p += cp.size();
  }
  return out;
}

Result<ContentBounds> FindContentEnd(File& file, uint64_t size) {
  ContentBounds b{size, size, size, std::nullopt};
  const uint64_t reach = kMaxZeroTail + kEntrySize;
  const uint64_t floor = size > reach ? size - reach : 0;
  static const Bytes zeros(64 << 10, 0);
  SS_ASSIGN_OR_RETURN(const uint64_t data_end, file.DataEnd());
  uint64_t last = std::max(floor, std::min(size, data_end));  // the bytes from data_end on are zero
  // Reads back from there in blocks of 512 bytes growing to 64 KiB: the last nonzero byte is
  // usually within the last entry, and each step's check of a small file should not copy all of it.
  Bytes block;
  for (uint64_t want = 512; last > floor; want = std::min<uint64_t>(want * 4, zeros.size())) {
    const uint64_t n = std::min<uint64_t>(want, last - floor);
    block.resize(n);
    SS_RETURN_IF_ERROR(file.ReadAt(last - n, n, block.data()));
    if (std::memcmp(block.data(), zeros.data(), n) == 0) {
      last -= n;
      continue;
    }
    uint64_t k = n;
    while (block[k - 1] == 0) --k;
    last = last - n + k;
    break;
  }
  b.last = last;
  b.end = std::min(size, (last + kEntrySize - 1) / kEntrySize * kEntrySize);
  if (size - b.end > kMaxZeroTail)
    b.problem = Problem{b.end, "the file ends in " + std::string(last == floor ? "more than " : "") +
                                   std::to_string(size - b.end) + " zero bytes, more than preallocation leaves (" +
                                   std::to_string(kMaxZeroTail) + ")"};
  return b;
}

bool TornHeader(const ContentBounds& b, const uint8_t* header) {
  if (b.size < kFileHeaderSize || b.end < kFileHeaderSize) return true;
  return b.zero_tail() && b.last < kFileHeaderSize && CheckFileHeader(header).has_value();
}

Result<bool> TornInPreallocatedSpace(SequentialReader& reader, uint64_t p, const std::optional<BlockRef>& prev,
                                     uint64_t last) {
  const uint64_t end = reader.size();
  uint64_t extent = std::min<uint64_t>(kCheckpointSize, end - p);  // the checkpoint, or the whole block
  SS_ASSIGN_OR_RETURN(const uint8_t* c, reader.View(p, extent));
  const bool sound_checkpoint = extent == kCheckpointSize && !CheckCheckpoint(c);
  if (sound_checkpoint) {
    const Checkpoint cp = DecodeCheckpoint(c);
    // Zeros do not make a sound checkpoint of another block.
    if (prev && (prev->number == UINT64_MAX || cp.ref.number != prev->number + 1 || cp.ref.parent_hash != prev->hash))
      return false;
    extent = std::min(cp.size(), end - p);
  } else if (extent == kCheckpointSize && c[kCheckpointSize - 1] == 0 && end - p >= kCheckpointSize + kEntrySize) {
    extent += kEntrySize;  // zeros that run on from the checkpoint into the entry after it
  }
  // Rule 1: an all-zero entry of this block within the last kMaxWrite bytes of content.
  uint64_t from = end > kMaxWrite ? end - kMaxWrite : 0;
  from = std::max(p, (from + kEntrySize - 1) / kEntrySize * kEntrySize);
  for (uint64_t e = from; e + kEntrySize <= p + extent; e += kEntrySize) {
    SS_ASSIGN_OR_RETURN(const uint8_t* bytes, reader.View(e, kEntrySize));
    if (AllZero(bytes, kEntrySize)) return true;
  }
  // Rule 2: the block is the last one and ends in zero bytes: judged as ending at its last nonzero
  // byte, it is incomplete (a sound checkpoint whose block runs past, or a partial checkpoint).
  if (last < end && p + extent == end) return sound_checkpoint || last - p < kCheckpointSize;
  return false;
}

}  // namespace event_db_internal

using namespace event_db_internal;

Verifier::Pass EventDBVerifier::Run(Env* env, const std::filesystem::path& file, bool resume) {
  Pass pass;
  pass.start = resume ? Start::kCannotResume : Start::kWhole;
  const uint64_t verified_before = verified_;
  verified_ = 0;  // set again below when nothing is found
  auto found = [&](std::vector<Finding> findings) {
    pass.findings = std::move(findings);
    return pass;
  };
  Result<Env::Opened> opened = env->Open(file, Env::OpenMode::kReadOnly);
  if (!opened.ok()) return found({Finding{file, 0, "cannot open: " + opened.status().ToString()}});
  File& f = *opened->file;
  Result<uint64_t> file_size = f.Size();
  if (!file_size.ok()) return found({Finding{file, 0, "cannot stat: " + file_size.status().ToString()}});
  const uint64_t size = *file_size;
  if (size == 0) return pass;
  if (size < kFileHeaderSize) return found({Finding{file, 0, "torn file header: " + std::to_string(size) + " bytes"}});

  std::vector<Finding> findings;
  Bytes header(kFileHeaderSize);
  if (Status read = f.ReadAt(0, kFileHeaderSize, header.data()); !read.ok()) return found({Finding{file, 0, read.ToString()}});
  // As Open judges the end: the zero tail is no finding, a torn write one finding for all of it.
  Result<ContentBounds> bounds = FindContentEnd(f, size);
  if (!bounds.ok()) return found({Finding{file, 0, bounds.status().ToString()}});
  if (TornHeader(*bounds, header.data()))
    return found({Finding{file, 0, "torn file header: " +
                                       std::to_string(bounds->zero_tail() ? bounds->last : bounds->end) + " bytes"}});
  const std::optional<Problem> header_problem = CheckFileHeader(header.data());
  if (header_problem) findings.push_back(Finding{file, header_problem->offset, header_problem->what});

  // The blocks verified before are taken as they were if the file still holds them and its header
  // and the last one's checkpoint read as they did.
  uint64_t from = kFileHeaderSize;
  std::optional<BlockRef> prev;
  if (resume && !header_problem && !bounds->problem && bounds->end >= verified_before && header == header_) {
    bool same = true;
    if (last_block_) {
      uint8_t checkpoint[kCheckpointSize];
      same = f.ReadAt(*last_block_, kCheckpointSize, checkpoint).ok() &&
             std::equal(last_checkpoint_.begin(), last_checkpoint_.end(), checkpoint);
    }
    if (same) {
      pass.start = Start::kResumed;
      from = verified_before;
      prev = last_ref_;
    }
  }
  SequentialReader reader(f, bounds->end);
  std::optional<uint64_t> last_block = pass.start == Start::kResumed ? last_block_ : std::nullopt;
  std::optional<BlockRef> last_ref = prev;
  Result<ScanOutcome> scan = ScanBlocks(
      reader, ScanMode::kReportAll,
      [&](uint64_t offset, const Checkpoint& cp) {
        last_block = offset;
        last_ref = cp.ref;
      },
      from, prev);
  // A torn write is the first bad block on (what Open recovers), else maybe the last bad block on.
  for (int i = 0; i < 2 && scan.ok() && !scan->corruption.empty() && bounds->zero_tail(); ++i) {
    const uint64_t p = i == 0 ? *scan->first_bad : *scan->last_bad;
    if (i == 1 && p == *scan->first_bad) break;
    Result<bool> torn = TornInPreallocatedSpace(reader, p, i == 0 ? scan->before_bad : scan->before_last_bad,
                                                bounds->last);
    if (!torn.ok()) scan = torn.status();
    if (scan.ok() && *torn) {
      std::erase_if(scan->corruption, [p](const Finding& f) { return f.offset >= p; });
      scan->torn_from = p;
      break;
    }
  }
  if (!scan.ok()) {
    findings.push_back(Finding{file, 0, scan.status().ToString()});
    return found(std::move(findings));
  }
  findings.insert(findings.end(), scan->corruption.begin(), scan->corruption.end());
  if (bounds->problem) {
    findings.push_back(Finding{file, bounds->problem->offset, bounds->problem->what});
  } else if (scan->torn_from) {
    const uint64_t torn_end = bounds->zero_tail() ? bounds->last : size;
    findings.push_back(Finding{file, *scan->torn_from,
                               "torn tail: " + std::to_string(torn_end - *scan->torn_from) +
                                   " bytes of an incomplete block (recovery moves them to " +
                                   file.filename().string() + ".broken)"});
  }
  if (findings.empty()) {
    // The context for the next pass.
    if (last_block && (pass.start != Start::kResumed || last_block != last_block_)) {
      Result<const uint8_t*> checkpoint = reader.View(*last_block, kCheckpointSize);
      if (!checkpoint.ok()) return found({Finding{file, *last_block, checkpoint.status().ToString()}});
      last_checkpoint_.assign(*checkpoint, *checkpoint + kCheckpointSize);
    }
    header_ = std::move(header);
    last_block_ = last_block;
    last_ref_ = last_ref;
    verified_ = bounds->end;
  }
  return found(std::move(findings));
}

std::vector<Finding> VerifyEventDB(Env* env, const std::filesystem::path& file) {
  return EventDBVerifier().Continue(env, file);
}

Result<uint64_t> EventDBContentSize(Env* env, const std::filesystem::path& file) {
  SS_ASSIGN_OR_RETURN(Env::Opened opened, env->Open(file, Env::OpenMode::kReadOnly));
  SS_ASSIGN_OR_RETURN(const uint64_t size, opened.file->Size());
  SS_ASSIGN_OR_RETURN(const ContentBounds bounds, FindContentEnd(*opened.file, size));
  return bounds.end;
}

Result<EventDBDump> DumpEventDB(Env* env, const std::filesystem::path& file) {
  SS_ASSIGN_OR_RETURN(Env::Opened opened, env->Open(file, Env::OpenMode::kReadOnly));
  File& f = *opened.file;
  EventDBDump dump;
  SS_ASSIGN_OR_RETURN(dump.file_size, f.Size());
  SS_ASSIGN_OR_RETURN(const ContentBounds bounds, FindContentEnd(f, dump.file_size));
  dump.content_end = bounds.end;
  if (dump.content_end < kFileHeaderSize) {
    if (dump.content_end > 0) {
      dump.stopped_at = 0;
      dump.stopped_why = "torn file header";
    }
    return dump;
  }
  SequentialReader reader(f, dump.content_end);
  SS_ASSIGN_OR_RETURN(const uint8_t* header, reader.View(0, kFileHeaderSize));
  dump.header_sound = !CheckFileHeader(header).has_value();
  dump.version = GetU32BE(header + kHeaderVersion);
  dump.chain_id = ChainID::FromBytes32(HashAt(header + kHeaderChainID));
  uint64_t p = kFileHeaderSize;
  auto stop = [&](std::string why) {
    dump.stopped_at = p;
    dump.stopped_why = std::move(why);
  };
  std::vector<Problem> problems;
  while (p < dump.content_end) {
    if (dump.content_end - p < kCheckpointSize) {
      stop("a partial checkpoint");
      break;
    }
    SS_ASSIGN_OR_RETURN(const uint8_t* c, reader.View(p, kCheckpointSize));
    if (auto problem = CheckCheckpoint(c)) {
      stop(problem->what);
      break;
    }
    const Checkpoint cp = DecodeCheckpoint(c);
    if (cp.size() > dump.content_end - p) {
      stop("a block cut short");
      break;
    }
    SS_ASSIGN_OR_RETURN(const uint8_t* block, reader.View(p, cp.size()));
    problems.clear();
    CheckBody(block, cp, problems);
    if (!problems.empty()) {
      stop("the body of block " + std::to_string(cp.ref.number) + ": " + problems.front().what);
      break;
    }
    dump.blocks.push_back(DumpedBlock{p, cp.ref, DecodeLogs(block, cp)});
    p += cp.size();
  }
  return dump;
}

}  // namespace supersafe::db
