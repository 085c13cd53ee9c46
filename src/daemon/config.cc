#include "daemon/config.h"

#include <glob.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "rpc/codec.h"

namespace supersafe::daemon {

using rpc::Json;

namespace {

Result<Json> ParseJsonFile(const std::string& text, const std::string& file) {
  Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded()) return InvalidArgument(file + ": not valid JSON");
  if (!j.is_object()) return InvalidArgument(file + ": want a JSON object at the top");
  return j;
}

Result<const Json*> Required(const Json& j, const char* name, const std::string& path) {
  if (!j.is_object()) return InvalidArgument(path + ": want an object");
  auto it = j.find(name);
  if (it == j.end()) return InvalidArgument(path + "." + name + ": missing");
  return &*it;
}

Result<ChainID> ChainKey(const std::string& key, const std::string& path) {
  auto id = ChainID::Parse(key);
  if (!id.ok()) return InvalidArgument(path + ": key '" + key + "': " + id.status().message());
  return *id;
}

}  // namespace

Result<std::string> ReadTextFile(const std::filesystem::path& file, const std::string& what) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return InvalidArgument(what + " " + file.string() + ": cannot read the file");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Result<DependencyFile> ParseDependencySet(const std::string& text, const std::string& file) {
  SS_ASSIGN_OR_RETURN(Json j, ParseJsonFile(text, file));
  DependencyFile out;
  SS_ASSIGN_OR_RETURN(const Json* deps, Required(j, "dependencies", file));
  if (!deps->is_object() || deps->empty()) return InvalidArgument(file + ".dependencies: want a non-empty object");
  for (const auto& [key, value] : deps->items()) {
    SS_ASSIGN_OR_RETURN(ChainID id, ChainKey(key, file + ".dependencies"));
    if (std::find(out.chains.begin(), out.chains.end(), id) != out.chains.end())
      return InvalidArgument(file + ".dependencies: chain " + id.Decimal() + " listed twice");
    out.chains.push_back(id);
  }
  std::sort(out.chains.begin(), out.chains.end());
  if (auto it = j.find("overrideMessageExpiryWindow"); it != j.end() && !it->is_null()) {
    SS_ASSIGN_OR_RETURN(uint64_t w, rpc::DecodeNumber(*it, file + ".overrideMessageExpiryWindow"));
    if (w != 0) out.expiry_window = w;
  }
  return out;
}

namespace {

// The rollup fields op-supervisor reads, from an object shaped as op-node's rollup.Config.
Result<RollupConfig> RollupConfigOf(const Json& value, const std::string& path) {
  RollupConfig c;
  SS_ASSIGN_OR_RETURN(const Json* genesis, Required(value, "genesis", path));
  SS_ASSIGN_OR_RETURN(const Json* l1, Required(*genesis, "l1", path + ".genesis"));
  SS_ASSIGN_OR_RETURN(c.genesis_l1, rpc::DecodeBlockID(*l1, path + ".genesis.l1"));
  SS_ASSIGN_OR_RETURN(const Json* l2, Required(*genesis, "l2", path + ".genesis"));
  SS_ASSIGN_OR_RETURN(c.genesis_l2, rpc::DecodeBlockID(*l2, path + ".genesis.l2"));
  SS_ASSIGN_OR_RETURN(const Json* l2_time, Required(*genesis, "l2_time", path + ".genesis"));
  SS_ASSIGN_OR_RETURN(c.genesis_time, rpc::DecodeNumber(*l2_time, path + ".genesis.l2_time"));
  SS_ASSIGN_OR_RETURN(const Json* block_time, Required(value, "block_time", path));
  SS_ASSIGN_OR_RETURN(c.block_time, rpc::DecodeNumber(*block_time, path + ".block_time"));
  if (c.block_time == 0) return InvalidArgument(path + ".block_time: must be positive");
  c.interop_time = c.genesis_time;
  if (auto it = value.find("interop_time"); it != value.end() && !it->is_null()) {
    SS_ASSIGN_OR_RETURN(c.interop_time, rpc::DecodeNumber(*it, path + ".interop_time"));
  }
  return c;
}

}  // namespace

Result<std::map<ChainID, RollupConfig>> ParseRollupConfigSet(const std::string& text, const std::string& file) {
  SS_ASSIGN_OR_RETURN(Json j, ParseJsonFile(text, file));
  if (j.empty()) return InvalidArgument(file + ": no chains");
  std::map<ChainID, RollupConfig> out;
  for (const auto& [key, value] : j.items()) {
    const std::string path = file + "." + key;
    SS_ASSIGN_OR_RETURN(ChainID id, ChainKey(key, file));
    if (out.count(id)) return InvalidArgument(path + ": chain " + id.Decimal() + " listed twice");
    SS_ASSIGN_OR_RETURN(out[id], RollupConfigOf(value, path));
  }
  return out;
}

Result<std::pair<ChainID, RollupConfig>> ParseOpNodeRollupConfig(const std::string& text, const std::string& file) {
  SS_ASSIGN_OR_RETURN(Json j, ParseJsonFile(text, file));
  SS_ASSIGN_OR_RETURN(const Json* raw_id, Required(j, "l2_chain_id", file));
  ChainID id;
  if (raw_id->is_number_unsigned()) {
    id = ChainID(raw_id->get<uint64_t>());
  } else if (raw_id->is_string()) {
    SS_ASSIGN_OR_RETURN(id, rpc::DecodeChainID(*raw_id, file + ".l2_chain_id"));
  } else {
    return InvalidArgument(file + ".l2_chain_id: want an integer below 2^64 or a decimal string, got " +
                           std::string(raw_id->type_name()));
  }
  SS_ASSIGN_OR_RETURN(RollupConfig c, RollupConfigOf(j, file));
  return std::make_pair(id, c);
}

Result<std::map<ChainID, RollupConfig>> LoadRollupConfigPaths(const std::string& pattern) {
  const std::string what = "--rollup-config-paths '" + pattern + "'";
  glob_t found{};
  const int rc = ::glob(pattern.c_str(), GLOB_ERR, nullptr, &found);
  std::vector<std::string> files;
  for (size_t i = 0; rc == 0 && i < found.gl_pathc; ++i) files.emplace_back(found.gl_pathv[i]);
  ::globfree(&found);
  if (rc == GLOB_NOMATCH || (rc == 0 && files.empty())) return InvalidArgument(what + ": no file matches");
  if (rc != 0) return InvalidArgument(what + ": cannot read the directories of the pattern");
  std::map<ChainID, RollupConfig> out;
  std::map<ChainID, std::string> source;
  for (const std::string& file : files) {
    SS_ASSIGN_OR_RETURN(std::string text, ReadTextFile(file, "--rollup-config-paths"));
    SS_ASSIGN_OR_RETURN(auto parsed, ParseOpNodeRollupConfig(text, file));
    if (auto it = source.find(parsed.first); it != source.end())
      return InvalidArgument(what + ": " + it->second + " and " + file + " both configure chain " + parsed.first.Decimal());
    source[parsed.first] = file;
    out[parsed.first] = parsed.second;
  }
  return out;
}

Result<supervisor::DependencySet> BuildDependencySet(const DependencyFile& deps,
                                                     const std::map<ChainID, RollupConfig>& rollups,
                                                     const BlockRef& genesis_l1) {
  supervisor::DependencySet set;
  set.expiry_window = deps.expiry_window;
  set.genesis_l1 = genesis_l1;
  for (const ChainID& id : deps.chains) {
    auto it = rollups.find(id);
    if (it == rollups.end()) return InvalidArgument("rollup config set: no config for chain " + id.Decimal() + " of the dependency set");
    const RollupConfig& r = it->second;
    supervisor::ChainConfig c;
    c.id = id;
    c.genesis.hash = r.genesis_l2.hash;
    c.genesis.number = r.genesis_l2.number;
    c.genesis.timestamp = r.genesis_time;
    c.block_time = r.block_time;
    c.interop_time = r.interop_time;
    set.chains.push_back(c);
  }
  for (const auto& [id, r] : rollups)
    if (std::find(deps.chains.begin(), deps.chains.end(), id) == deps.chains.end())
      return InvalidArgument("rollup config set: chain " + id.Decimal() + " is not in the dependency set");
  return set;
}

}  // namespace supersafe::daemon
