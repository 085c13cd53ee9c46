// Pieces of the timeline page (inside sim/ only) that the picture (sim/timeline.cc) and the page
// around it (sim/timeline_page.cc) share: escaping and numbers, the styles of the five heads, of
// the mark kinds and of message edges, and small SVG elements.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "sim/timeline.h"

namespace supersafe::sim::timeline_detail {

void AppendEscaped(std::string& out, std::string_view text);
std::string Esc(std::string_view text);
// At most max_chars code points; a cut text ends in an ellipsis.
std::string Abbreviate(std::string_view text, size_t max_chars);
std::string Int(uint64_t v);
// Coordinates: one decimal at most, locale independent, "-0" never printed.
std::string Num(double v);

struct HeadStyle {
  const char* name;
  const char* short_name;
  const char* color;
  double offset;  // px; equal heads are drawn side by side, unsafe on top, finalized at the bottom
};

inline constexpr std::array<HeadStyle, 5> kHeads = {{
    {"unsafe", "u", "#e69f00", -4},
    {"cross-unsafe", "xu", "#cc79a7", -2},
    {"local-safe", "ls", "#56b4e9", 0},
    {"cross-safe", "xs", "#0072b2", 2},
    {"finalized", "fin", "#009e73", 4},
}};

uint64_t HeadValue(const ChainHeads& h, size_t head);

struct KindStyle {
  const char* name;
  const char* glyph;
  const char* color;
  int severity;  // when marks share a cell, the most severe one gives the icon and the colour
};

KindStyle StyleOf(MarkKind kind);
inline constexpr std::array<MarkKind, 7> kAllKinds = {MarkKind::kL1Reorg, MarkKind::kUnsafeReorg, MarkKind::kReplacement,
                                               MarkKind::kRestart,  MarkKind::kCrash,       MarkKind::kFailure,
                                               MarkKind::kNote};
std::string MarkLine(const Mark& mark);

// How an executing-message edge is drawn, by what became of its executing block.
struct FateStyle {
  const char* name;
  const char* color;
  const char* dash;  // stroke-dasharray, "" for a solid line
};
FateStyle StyleOf(EdgeFate fate);
inline constexpr std::array<EdgeFate, 4> kAllFates = {EdgeFate::kCrossSafe, EdgeFate::kPending, EdgeFate::kInvalid,
                                                      EdgeFate::kDropped};

inline constexpr double kIconSize = 13;
std::string Rect(double x, double y, double w, double h, std::string_view attrs);
std::string Text(double x, double y, std::string_view attrs, std::string_view text);
std::string Title(std::string_view text);
std::string Icon(MarkKind kind, double cx, double cy, std::string_view title);

// The SVG picture (sim/timeline.cc).
std::string Picture(const Timeline& t);

}  // namespace supersafe::sim::timeline_detail
