// The super-safe-db: open (with recovery), append, truncate (docs/db-format.md, "Writes",
// "Recovery on open").
#include "db/super_safe_db.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <string>
#include <utility>

#include "core/crypto.h"
#include "db/super_safe_db_internal.h"

namespace supersafe::db {

using namespace super_safe_internal;

Status super_safe_internal::Handle::EnsureMapped(uint64_t bytes) {
  if (base != nullptr && bytes <= mapped) return Status::Ok();
  const size_t length = std::max<size_t>(size_t{64} << 20, std::bit_ceil(bytes * 2));
  SS_ASSIGN_OR_RETURN(mapping, file->raw().Map(0, length));
  base = mapping->data() + layout::kHeaderSize;
  mapped = mapping->length();
  return Status::Ok();
}

SuperSafeDB::SuperSafeDB(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SuperSafeDB::~SuperSafeDB() = default;

Result<std::unique_ptr<SuperSafeDB>> SuperSafeDB::Open(const std::filesystem::path& dir, std::span<const ChainID> chains,
                                                       const OpenOptions& options) {
  Env* env = EnvOr(options.env);
  SS_ASSIGN_OR_RETURN(const FileType type, env->TypeOf(dir));
  if (type == FileType::kNone) return IOError(dir.string() + ": directory does not exist");
  if (type != FileType::kDirectory) return IOError(dir.string() + ": not a directory");
  const Hash digest = DependencySetDigest(chains);

  auto impl = std::make_unique<Impl>();
  SS_ASSIGN_OR_RETURN(impl->file, AppendFile::Open(env, dir / kFileName, layout::kPreallocChunk));
  const std::filesystem::path& path = impl->file->path();
  const uint64_t size = impl->file->size();
  SS_RETURN_IF_ERROR(impl->EnsureMapped(size));
  SS_ASSIGN_OR_RETURN(const uint64_t data_end, impl->file->raw().DataEnd());

  // The groups' bytes follow the header; `content` speaks of offsets among them.
  const uint64_t groups_size = size > layout::kHeaderSize ? size - layout::kHeaderSize : 0;
  Content content = AnalyzeFile(impl->base, groups_size, data_end > layout::kHeaderSize ? data_end - layout::kHeaderSize : 0);
  const HeaderVerdict header =
      JudgeHeader(impl->mapping->data(), size, content.end == 0 && content.problems.empty(), digest);
  if (header.kind == HeaderVerdict::Kind::kBad) {
    const Problem& p = header.problems.front();
    if (p.offset == layout::kHeaderDigest)
      return InvalidArgument(path.string() + ": header at offset " + std::to_string(p.offset) + ": " + p.what);
    return Corruption(Describe(path, p));
  }
  if (header.kind != HeaderVerdict::Kind::kSound) {
    impl->file->SetContentSize(header.torn_bytes);
    if (header.kind == HeaderVerdict::Kind::kTorn) {
      SS_ASSIGN_OR_RETURN(impl->recovery.torn_bytes, impl->file->MoveTailToBroken(0));
    }
    // A new file: its header is durable before anything else is written (AppendFile::Open has
    // synced the directory entry; Append writes and syncs).
    const auto bytes = EncodeHeader(digest);
    SS_CHECK(impl->file->size() == 0 &&
                 JudgeHeader(bytes.data(), bytes.size(), true, digest).kind == HeaderVerdict::Kind::kSound,
             "the header about to be written to " + path.string() + " does not read back");
    SS_RETURN_IF_ERROR(impl->file->Append(ByteSpan(bytes.data(), bytes.size())));
    SS_RETURN_IF_ERROR(impl->EnsureMapped(layout::kHeaderSize));
    SS_CHECK(impl->file->size() == layout::kHeaderSize && std::memcmp(impl->mapping->data(), bytes.data(), bytes.size()) == 0,
             "the mapping of " + path.string() + " does not read back the header just written");
    impl->RefreshIndex();
    return std::unique_ptr<SuperSafeDB>(new SuperSafeDB(std::move(impl)));
  }

  if (content.problems.empty()) {
    GroupsChecked at;
    content.problems = CheckGroups(impl->base, 0, content.keep / kEntry, at);
  }
  if (!content.problems.empty()) {
    std::sort(content.problems.begin(), content.problems.end());
    ShiftProblems(content.problems, layout::kHeaderSize);
    return Corruption(Describe(path, content.problems.front()));
  }
  impl->file->SetContentSize(layout::kHeaderSize + content.end);
  if (content.keep < content.end) {
    SS_ASSIGN_OR_RETURN(impl->recovery.torn_bytes, impl->file->MoveTailToBroken(layout::kHeaderSize + content.keep));
  }
  SS_CHECK(impl->file->size() == layout::kHeaderSize + content.keep && content.keep % kEntry == 0,
           "recovery left " + path.string() + " at a size that is not its last seal's end");
  impl->entries = content.keep / kEntry;
  impl->RefreshIndex();
  return std::unique_ptr<SuperSafeDB>(new SuperSafeDB(std::move(impl)));
}

const RecoveryReport& SuperSafeDB::recovery() const { return impl_->recovery; }

Status SuperSafeDB::Append(const Group& group) { return AppendBatch(std::span<const Group>(&group, 1)); }

Status SuperSafeDB::AppendBatch(std::span<const Group> groups) {
  Impl& d = *impl_;
  SS_RETURN_IF_ERROR(d.file->CheckAlive());
  auto context = [](const Group& g) { return "group for L1 block " + std::to_string(g.l1_number); };
  if (groups.empty()) return Status::Ok();

  // Each group is checked and encoded in one visit (its entries are read from memory once); the
  // next groups' entries are prefetched meanwhile, since a caller's groups are separate heap blocks.
  size_t total = 0;
  for (size_t i = 0; i < groups.size(); ++i) {
    const size_t n = groups[i].entries.size();
    if (n == 0 || (n + 1) * kEntry > layout::kMaxWrite) {
      // Nothing is allocated for it; the first rejected group (this one or one before) is reported.
      for (size_t j = 0; j <= i; ++j) {
        if (Status s = CheckArgument(groups[j]); !s.ok()) return s.WithContext(context(groups[j]));
      }
    }
    total += (n + 1) * kEntry;
  }
  if (d.encoded_capacity < total) {
    d.encoded_capacity = std::max(total, 2 * d.encoded_capacity);
    d.encoded = std::make_unique_for_overwrite<uint8_t[]>(d.encoded_capacity);
  }
  const ByteSpan bytes(d.encoded.get(), total);
  constexpr size_t kPrefetchAhead = 4;
  uint8_t* out = d.encoded.get();
  for (size_t i = 0; i < groups.size(); ++i) {
    if (i + kPrefetchAhead < groups.size()) {
      const std::vector<ChainEntry>& ahead = groups[i + kPrefetchAhead].entries;
      const auto* p = reinterpret_cast<const char*>(ahead.data());
      const size_t n = ahead.size() * sizeof(ChainEntry);
      for (size_t off = 0; off < n; off += 64) __builtin_prefetch(p + off);
    }
    const Group& g = groups[i];
    if (Status s = CheckArgument(g); !s.ok()) return s.WithContext(context(g));
    uint8_t* end = EncodeGroup(g, out);
    Store32(end - kEntry + layout::kSealCrc, Crc32c(ByteSpan(out, static_cast<size_t>(end - out))));
    SS_CHECK(TypeOf(end - kEntry) == layout::kTypeSeal && L1Of(end - kEntry) == g.l1_number &&
                 SealCountOf(end - kEntry) == g.entries.size() && ChainIndexOf(out) == g.entries.front().chain_index,
             "AppendBatch encoded the group for L1 block " + std::to_string(g.l1_number) + " as another");
    out = end;
  }
  SS_CHECK(out == bytes.data() + bytes.size(), "AppendBatch encoded a size other than it reserved");

  // Keys never fall, only the tip is revised, and cross-safe numbers never fall between the newest
  // revisions of successive L1 blocks. `tip` is the newest group; `below_tip` the newest group of
  // the L1 block before the tip's (what a revision of the tip is compared with).
  std::optional<GroupBytes> tip, below_tip;
  if (d.entries > 0) {
    tip = d.GroupAt(d.entries - 1);
    const uint64_t tip_key = d.Key(d.entries - 1);
    const uint64_t end = tip_key == 0 ? 0 : d.UpperBound(tip_key - 1);
    if (end > 0) below_tip = d.GroupAt(end - 1);
  }
  const uint8_t* next = bytes.data();
  for (const Group& g : groups) {
    const GroupBytes gb{next, static_cast<uint32_t>(g.entries.size())};
    next += (gb.count + 1) * kEntry;
    if (tip) {
      const uint64_t tip_key = L1Of(tip->first);
      if (g.l1_number < tip_key)
        return InvalidArgument(context(g) + ": below the tip's L1 block " + std::to_string(tip_key));
      if (g.l1_number > tip_key) below_tip = tip;
      if (below_tip) {
        if (auto regression = CrossSafeRegression(*below_tip, gb))
          return InvalidArgument(context(g) + ": " + *regression);
      }
    }
    tip = gb;
  }

  // Before the write (both sides of every write are asserted, as TigerBeetle does): the bytes read
  // back, by the rules Open and Verify apply (types, counts, CRCs, key order, chain order, the
  // cross-safe rule), as sound groups; they go at the end of the content, where the entry count says.
  {
    GroupsChecked at;
    const std::vector<Problem> problems = CheckGroups(bytes.data(), 0, bytes.size() / kEntry, at);
    SS_CHECK(problems.empty(), "AppendBatch is about to write groups that do not read back: offset " +
                                   std::to_string(problems.front().offset) + " of the batch: " + problems.front().what);
  }
  const uint64_t old_size = d.file->size();
  SS_CHECK(old_size == layout::kHeaderSize + d.entries * kEntry,
           "file size and entry count disagree on " + d.file->path().string());
  SS_RETURN_IF_ERROR(d.EnsureMapped(old_size + bytes.size()));
  // Whole groups, at most kMaxWrite bytes per write and fdatasync (what bounds a torn write).
  for (size_t g = 0, start = 0; g < groups.size();) {
    size_t end = start;
    for (; g < groups.size() && end - start + (groups[g].entries.size() + 1) * kEntry <= layout::kMaxWrite; ++g)
      end += (groups[g].entries.size() + 1) * kEntry;
    SS_CHECK(end > start && TypeOf(bytes.data() + end - kEntry) == layout::kTypeSeal,
             "a write of " + d.file->path().string() + " that does not end at a seal");
    SS_RETURN_IF_ERROR(d.file->Append(ByteSpan(bytes.data() + start, end - start)));
    // After it: written and synced, the file's content ends where this write does.
    SS_CHECK(d.file->size() == old_size + end, "a write left " + d.file->path().string() + " at the wrong size");
    start = end;
  }
  SS_CHECK(d.file->size() == old_size + bytes.size(), "append did not grow " + d.file->path().string());
  d.entries += bytes.size() / kEntry;
  d.RefreshIndex();
  const uint8_t* last = d.Entry(d.entries - 1);
  SS_CHECK(std::memcmp(last, bytes.data() + bytes.size() - kEntry, kEntry) == 0,
           "the mapping of " + d.file->path().string() + " does not read back the seal just written");
  return Status::Ok();
}

Status SuperSafeDB::TruncateFrom(uint64_t l1_number) {
  Impl& d = *impl_;
  SS_RETURN_IF_ERROR(d.file->CheckAlive());
  const uint64_t keep = l1_number == 0 ? 0 : d.UpperBound(l1_number - 1);
  if (keep == d.entries) return Status::Ok();
  if (keep > 0) d.CheckStored(TypeOf(d.Entry(keep - 1)) == layout::kTypeSeal, keep - 1, "expected a seal");
  // Before the cut: it drops exactly the groups of L1 number l1_number and above, from a file whose
  // size is what the entry count says.
  SS_CHECK(keep < d.entries && d.Key(keep) >= l1_number && (keep == 0 || d.Key(keep - 1) < l1_number) &&
               d.file->size() == layout::kHeaderSize + d.entries * kEntry,
           "a truncation of " + d.file->path().string() + " that does not cut at L1 block " + std::to_string(l1_number));
  SS_RETURN_IF_ERROR(d.file->Truncate(layout::kHeaderSize + keep * kEntry));
  SS_CHECK(d.file->size() == layout::kHeaderSize + keep * kEntry,
           "truncate left " + d.file->path().string() + " at the wrong size");
  d.entries = keep;
  d.ForgetFrom(keep);
  return Status::Ok();
}

bool SuperSafeDB::empty() const { return impl_->entries == 0; }
uint64_t SuperSafeDB::entry_count() const { return impl_->entries; }

}  // namespace supersafe::db
