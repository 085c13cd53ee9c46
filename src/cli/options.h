// Command-line validators shared by the subcommands.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

namespace supersafe::cli {

// A whole number of zero or more for an unsigned option: CLI11 would otherwise read "-1" as 2^64-1.
inline CLI::Validator Unsigned() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos)
          return "want a whole number of zero or more, got '" + text + "'";
        return "";
      },
      "UINT");
}

}  // namespace supersafe::cli
