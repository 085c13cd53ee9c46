// RenderTimelineHtml: one HTML page, inline CSS and SVG, no scripts. docs/timeline.md explains how to read it.
//
// Picture layout, top to bottom: the L1 lane (head number and fork label per step), the events strip (marks that
// concern no single chain), one panel per chain (five step-lines over y = L2 block number, the chain's marks in a
// strip above the plot), then the x axis with the step labels. Column i is step i. Every column carries a hover
// tooltip (<title>) with all its numbers; below the picture a table repeats them for copying.
#include "sim/timeline.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <optional>
#include <string_view>

namespace supersafe::sim {
namespace {

// ---------------------------------------------------------------------------------------------------------------
// Text and numbers

void AppendEscaped(std::string& out, std::string_view text) {
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      case '\n':
      case '\t': out += c; break;
      default:
        // Other control characters are not allowed in HTML text.
        out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? ' ' : c;
    }
  }
}

std::string Esc(std::string_view text) {
  std::string out;
  AppendEscaped(out, text);
  return out;
}

bool IsUtf8Continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// At most max_chars code points; a cut text ends in an ellipsis.
std::string Abbreviate(std::string_view text, size_t max_chars) {
  if (max_chars == 0) return "";
  size_t chars = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (IsUtf8Continuation(text[i])) continue;
    if (chars == max_chars) {
      size_t keep = i;  // cut before the last kept code point to make room for the ellipsis
      do { --keep; } while (keep > 0 && IsUtf8Continuation(text[keep]));
      return std::string(text.substr(0, keep)) + "\u2026";
    }
    ++chars;
  }
  return std::string(text);
}

std::string Int(uint64_t v) { return std::to_string(v); }

// Axis numbers stay short enough for the gutter: from 10^10 on, "1.8e19".
std::string TickLabel(uint64_t v) {
  if (v < 10'000'000'000ULL) return Int(v);
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, static_cast<double>(v), std::chars_format::scientific, 1);
  std::string s(buf, ec == std::errc() ? end : buf);
  if (auto plus = s.find('+'); plus != std::string::npos) s.erase(plus, 1);
  return s;
}

// Coordinates: one decimal at most, locale independent, "-0" never printed.
std::string Num(double v) {
  double rounded = std::round(v * 10) / 10;
  if (rounded == 0) rounded = 0;
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, rounded, std::chars_format::fixed, 1);
  std::string s(buf, ec == std::errc() ? end : buf);
  if (s.ends_with(".0")) s.resize(s.size() - 2);
  return s;
}

// ---------------------------------------------------------------------------------------------------------------
// Styles of the five heads and the mark kinds

struct HeadStyle {
  const char* name;
  const char* short_name;
  const char* color;
  double offset;  // px; equal heads are drawn side by side, unsafe on top, finalized at the bottom
};

constexpr std::array<HeadStyle, 5> kHeads = {{
    {"unsafe", "u", "#e69f00", -4},
    {"cross-unsafe", "xu", "#cc79a7", -2},
    {"local-safe", "ls", "#56b4e9", 0},
    {"cross-safe", "xs", "#0072b2", 2},
    {"finalized", "fin", "#009e73", 4},
}};

uint64_t HeadValue(const ChainHeads& h, size_t head) {
  switch (head) {
    case 0: return h.unsafe;
    case 1: return h.cross_unsafe;
    case 2: return h.local_safe;
    case 3: return h.cross_safe;
    default: return h.finalized;
  }
}

struct KindStyle {
  const char* name;
  const char* glyph;
  const char* color;
  int severity;  // when marks share a cell, the most severe one gives the icon and the colour
};

KindStyle StyleOf(MarkKind kind) {
  switch (kind) {
    case MarkKind::kL1Reorg: return {"L1 reorg", "L", "#c45a00", 5};
    case MarkKind::kUnsafeReorg: return {"unsafe reorg", "U", "#7b3294", 4};
    case MarkKind::kReplacement: return {"deposit-only replacement", "D", "#00827f", 3};
    case MarkKind::kRestart: return {"restart", "R", "#2f5fd0", 2};
    case MarkKind::kCrash: return {"crash", "C", "#222222", 6};
    case MarkKind::kFailure: return {"failure", "!", "#d40000", 7};
    case MarkKind::kNote: break;
  }
  return {"note", "i", "#8a8a8a", 1};
}

constexpr std::array<MarkKind, 7> kAllKinds = {MarkKind::kL1Reorg, MarkKind::kUnsafeReorg, MarkKind::kReplacement,
                                               MarkKind::kRestart,  MarkKind::kCrash,       MarkKind::kFailure,
                                               MarkKind::kNote};

// Pastel backgrounds for L1 fork labels, by order of first appearance.
constexpr std::array<const char*, 8> kForkColors = {"#e8eef8", "#fde6cc", "#e0f2dc", "#f2e0f2",
                                                    "#fff3bf", "#d9f1f1", "#f6dcdc", "#e9e9e9"};

// ---------------------------------------------------------------------------------------------------------------
// Marks: each one belongs to a lane, the events strip (kEvents) or a chain panel.

constexpr int kEvents = -1;

int LaneOf(const Mark& mark, const std::vector<std::string>& chains) {
  if (mark.chain.empty()) return kEvents;
  auto it = std::find(chains.begin(), chains.end(), mark.chain);
  return it == chains.end() ? kEvents : static_cast<int>(it - chains.begin());
}

std::vector<const Mark*> MarksIn(const TimelineStep& step, int lane, const std::vector<std::string>& chains) {
  std::vector<const Mark*> marks;
  for (const Mark& m : step.marks) {
    if (LaneOf(m, chains) == lane) marks.push_back(&m);
  }
  return marks;
}

const Mark* MostSevere(const std::vector<const Mark*>& marks) {
  const Mark* top = nullptr;
  for (const Mark* m : marks) {
    if (top == nullptr || StyleOf(m->kind).severity > StyleOf(top->kind).severity) top = m;
  }
  return top;
}

std::string MarkLine(const Mark& mark) {
  std::string line = StyleOf(mark.kind).name;
  if (!mark.chain.empty()) line += " (" + mark.chain + ")";
  if (!mark.text.empty()) line += ": " + mark.text;
  return line;
}

// ---------------------------------------------------------------------------------------------------------------
// Geometry

constexpr double kGutter = 104;        // left: lane names and y ticks
constexpr double kRightMargin = 24;
constexpr double kTargetPlotWidth = 1120;
constexpr double kLaneHeight = 50;
constexpr double kStripHeight = 18;    // icon strip (events, and above each chain plot)
constexpr double kPanelGap = 12;
constexpr double kPlotPad = 8;         // inside the plot, so offset lines stay inside the frame
constexpr double kIconSize = 13;
constexpr size_t kLabelChars = 24;     // rotated step labels are cut here; the full text is in the tooltip
constexpr double kLabelAngle = 55;     // degrees

struct Geometry {
  size_t columns = 0;
  double col = 0;          // column width
  double plot_h = 0;       // height of one chain plot
  double lane_top = 0;     // L1 lane
  double events_top = 0;   // events strip
  double panels_top = 0;   // first chain panel (its strip)
  double axis_y = 0;       // x axis, under the last panel
  double width = 0;
  double height = 0;
  bool wide = false;       // columns wide enough for text in cells and rotated labels

  double X(size_t column) const { return kGutter + static_cast<double>(column) * col; }
  double Mid(size_t column) const { return X(column) + col / 2; }
  double PlotWidth() const { return columns == 0 ? 400 : col * static_cast<double>(columns); }
  double PanelTop(size_t chain) const { return panels_top + static_cast<double>(chain) * PanelHeight(); }
  double PanelHeight() const { return kStripHeight + plot_h + kPanelGap; }
  double PlotTop(size_t chain) const { return PanelTop(chain) + kStripHeight; }
};

Geometry Layout(const Timeline& t) {
  Geometry g;
  g.columns = t.steps.size();
  g.col = std::clamp(kTargetPlotWidth / static_cast<double>(std::max<size_t>(g.columns, 1)), 3.0, 56.0);
  g.wide = g.col >= 16;
  size_t chains = t.chains.size();
  g.plot_h = chains <= 2 ? 160 : chains <= 4 ? 130 : 104;
  g.lane_top = 8;
  g.events_top = g.lane_top + kLaneHeight + 4;
  g.panels_top = g.events_top + kStripHeight + 8;
  g.axis_y = g.PanelTop(chains) - kPanelGap + 4;
  double label_room = g.wide ? 22 + kLabelChars * 6.2 * std::sin(kLabelAngle * 3.14159265358979 / 180) : 24;
  g.width = kGutter + g.PlotWidth() + kRightMargin;
  g.height = g.axis_y + label_room;
  return g;
}

// Tick spacing: 1, 2 or 5 x 10^k, giving at most about four intervals over the range (no overflow: the largest
// candidate, 5 x 10^18, fits and ends the search).
uint64_t TickStep(uint64_t range) {
  for (uint64_t decade = 1;; decade *= 10) {
    for (uint64_t m : {1, 2, 5}) {
      if (range / m / decade <= 4) return m * decade;
    }
  }
}

std::vector<uint64_t> Ticks(uint64_t lo, uint64_t hi) {
  uint64_t step = TickStep(hi - lo);
  std::vector<uint64_t> ticks;
  uint64_t below = lo % step == 0 ? 0 : step - lo % step;  // distance from lo up to the first tick
  if (below > hi - lo) return ticks;
  for (uint64_t v = lo + below;; v += step) {
    ticks.push_back(v);
    if (hi - v < step) break;
  }
  return ticks;
}

// A scale needs lo < hi; a flat range is widened by one.
void WidenFlat(uint64_t& lo, uint64_t& hi) {
  if (lo < hi) return;
  if (hi < std::numeric_limits<uint64_t>::max()) {
    ++hi;
  } else {
    --lo;
  }
}

// A y scale over one chain's block numbers.
struct YScale {
  uint64_t lo = 0;
  uint64_t hi = 1;
  double top = 0;
  double height = 0;

  double Y(uint64_t v) const {
    double span = static_cast<double>(hi - lo);
    return top + kPlotPad + static_cast<double>(hi - v) / span * (height - 2 * kPlotPad);
  }
};

YScale ScaleFor(const Timeline& t, size_t chain, const Geometry& g) {
  uint64_t lo = std::numeric_limits<uint64_t>::max();
  uint64_t hi = 0;
  for (const TimelineStep& step : t.steps) {
    if (chain >= step.heads.size()) continue;
    for (size_t h = 0; h < kHeads.size(); ++h) {
      lo = std::min(lo, HeadValue(step.heads[chain], h));
      hi = std::max(hi, HeadValue(step.heads[chain], h));
    }
  }
  if (lo > hi) lo = hi = 0;                       // no heads at all
  WidenFlat(lo, hi);
  // Headroom up to the next tick, so the top line does not run along the frame and the top carries a number.
  uint64_t step = TickStep(hi - lo);
  if (hi % step != 0 && hi <= std::numeric_limits<uint64_t>::max() - step) hi += step - hi % step;
  return {lo, hi, g.PlotTop(chain), g.plot_h};
}

// A step-line: one horizontal segment per column, vertical joins, breaks where a value is missing. A join moves
// by join_shift (px) to the left when the line rises and to the right when it falls, so that parallel lines drawn
// with vertical offsets turn corners together without crossing.
std::string StepPath(const std::vector<std::optional<double>>& ys, const Geometry& g, double join_shift = 0) {
  std::string d;
  bool open = false;
  double prev = 0;
  for (size_t i = 0; i < ys.size(); ++i) {
    if (!ys[i]) {
      if (open) d += "H" + Num(g.X(i));
      open = false;
      continue;
    }
    if (!open) {
      d += "M" + Num(g.X(i)) + " " + Num(*ys[i]);
    } else if (*ys[i] != prev) {
      double shift = *ys[i] < prev ? join_shift : -join_shift;
      d += "H" + Num(g.X(i) + shift) + "V" + Num(*ys[i]);
    }
    open = true;
    prev = *ys[i];
  }
  if (open) d += "H" + Num(g.X(ys.size()));
  return d;
}

// ---------------------------------------------------------------------------------------------------------------
// SVG pieces

std::string Rect(double x, double y, double w, double h, std::string_view attrs) {
  return "<rect x=\"" + Num(x) + "\" y=\"" + Num(y) + "\" width=\"" + Num(w) + "\" height=\"" + Num(h) + "\" " +
         std::string(attrs) + "/>";
}

std::string Text(double x, double y, std::string_view attrs, std::string_view text) {
  return "<text x=\"" + Num(x) + "\" y=\"" + Num(y) + "\" " + std::string(attrs) + ">" + Esc(text) + "</text>";
}

std::string Title(std::string_view text) { return "<title>" + Esc(text) + "</title>"; }

std::string Icon(MarkKind kind, double cx, double cy, std::string_view title) {
  KindStyle s = StyleOf(kind);
  double r = kIconSize / 2;
  std::string shape = kind == MarkKind::kFailure
      ? "<path d=\"M" + Num(cx) + " " + Num(cy - r - 1) + "L" + Num(cx + r + 1) + " " + Num(cy + r) + "H" +
            Num(cx - r - 1) + "Z\" fill=\"" + s.color + "\"/>"
      : "<circle cx=\"" + Num(cx) + "\" cy=\"" + Num(cy) + "\" r=\"" + Num(r) + "\" fill=\"" + s.color + "\"/>";
  double glyph_y = cy + (kind == MarkKind::kFailure ? 4.5 : 3.5);
  return "<g class=\"mark\">" + Title(title) + shape + Text(cx, glyph_y, "class=\"glyph\"", s.glyph) + "</g>";
}

std::string StepHeading(const TimelineStep& step) { return "step " + Int(step.index) + ": " + step.label; }

std::string IconTitle(const TimelineStep& step, const std::vector<const Mark*>& marks) {
  std::string title = StepHeading(step);
  for (const Mark* m : marks) title += "\n" + MarkLine(*m);
  return title;
}

// Light column bands under the marks; a failure bands the whole picture.
std::string MarkBands(const Timeline& t, const Geometry& g) {
  std::string out;
  double full_top = g.events_top;  // the L1 lane keeps its fork colours
  double full_h = g.axis_y - g.events_top;
  for (size_t i = 0; i < t.steps.size(); ++i) {
    for (int lane = kEvents; lane < static_cast<int>(t.chains.size()); ++lane) {
      const Mark* top = MostSevere(MarksIn(t.steps[i], lane, t.chains));
      if (top == nullptr) continue;
      KindStyle s = StyleOf(top->kind);
      bool full = lane == kEvents || top->kind == MarkKind::kFailure;
      double y = full ? full_top : g.PanelTop(static_cast<size_t>(lane));
      double h = full ? full_h : kStripHeight + g.plot_h;
      std::string opacity = top->kind == MarkKind::kFailure ? "0.16" : "0.1";
      out += Rect(g.X(i), y, g.col, h, "fill=\"" + std::string(s.color) + "\" fill-opacity=\"" + opacity + "\"");
    }
  }
  return out;
}

std::string MarkIcons(const Timeline& t, const Geometry& g) {
  std::string out;
  for (size_t i = 0; i < t.steps.size(); ++i) {
    for (int lane = kEvents; lane < static_cast<int>(t.chains.size()); ++lane) {
      std::vector<const Mark*> marks = MarksIn(t.steps[i], lane, t.chains);
      if (marks.empty()) continue;
      double strip_top = lane == kEvents ? g.events_top : g.PanelTop(static_cast<size_t>(lane));
      out += Icon(MostSevere(marks)->kind, g.Mid(i), strip_top + kStripHeight / 2, IconTitle(t.steps[i], marks));
    }
  }
  return out;
}

std::vector<std::string> ForkColors(const Timeline& t) {
  std::vector<std::string> seen;
  std::vector<std::string> colors;
  for (const TimelineStep& step : t.steps) {
    auto it = std::find(seen.begin(), seen.end(), step.l1_fork);
    if (it == seen.end()) it = seen.insert(seen.end(), step.l1_fork);
    colors.push_back(kForkColors[static_cast<size_t>(it - seen.begin()) % kForkColors.size()]);
  }
  return colors;
}

bool ForkChanged(const Timeline& t, size_t i) { return i > 0 && t.steps[i].l1_fork != t.steps[i - 1].l1_fork; }

// Wide columns: head number, fork label and finalized number as text. Thin ones: head and finalized as lines.
std::string L1Lane(const Timeline& t, const Geometry& g) {
  std::string out = Text(kGutter - 8, g.lane_top + 20, "class=\"lane\"", "L1");
  out += Text(kGutter - 8, g.lane_top + 34, "class=\"tick\"", "head / fork / fin");
  std::vector<std::string> colors = ForkColors(t);
  for (size_t run = 0, i = 1; i <= t.steps.size(); ++i) {  // one rectangle per run of the same fork
    if (i < t.steps.size() && t.steps[i].l1_fork == t.steps[run].l1_fork) continue;
    out += Rect(g.X(run), g.lane_top, g.X(i) - g.X(run), kLaneHeight, "fill=\"" + colors[run] + "\"");
    run = i;
  }
  if (g.col >= 30) {
    size_t fork_chars = static_cast<size_t>((g.col - 4) / 6.5);
    for (size_t i = 0; i < t.steps.size(); ++i) {
      const TimelineStep& s = t.steps[i];
      std::string cls = ForkChanged(t, i) ? "l1 changed" : "l1";
      out += Text(g.Mid(i), g.lane_top + 16, "class=\"" + cls + "\"", Int(s.l1_head));
      out += Text(g.Mid(i), g.lane_top + 30, "class=\"" + cls + " fork\"", Abbreviate(s.l1_fork, fork_chars));
      std::string fin = (g.col >= 40 ? "fin " : "f") + Int(s.l1_finalized);
      out += Text(g.Mid(i), g.lane_top + 44, "class=\"l1fin\"", fin);
    }
  } else if (!t.steps.empty()) {
    uint64_t lo = std::numeric_limits<uint64_t>::max();
    uint64_t hi = 0;
    for (const TimelineStep& s : t.steps) {
      lo = std::min({lo, s.l1_head, s.l1_finalized});
      hi = std::max({hi, s.l1_head, s.l1_finalized});
    }
    WidenFlat(lo, hi);
    YScale scale{lo, hi, g.lane_top, kLaneHeight};
    std::vector<std::optional<double>> head_ys, fin_ys;
    for (const TimelineStep& s : t.steps) {
      head_ys.push_back(scale.Y(s.l1_head) - 1);
      fin_ys.push_back(scale.Y(s.l1_finalized) + 1);
    }
    out += "<path class=\"l1line\" d=\"" + StepPath(head_ys, g) + "\"/>";
    out += "<path class=\"l1line fin\" d=\"" + StepPath(fin_ys, g) + "\"/>";
  }
  for (size_t i = 0; i < t.steps.size(); ++i) {
    if (!ForkChanged(t, i)) continue;
    out += Rect(g.X(i) - 1.5, g.lane_top, 3, kLaneHeight, "class=\"forkedge\"");
  }
  out += Rect(kGutter, g.lane_top, g.PlotWidth(), kLaneHeight, "class=\"frame\"");
  return out;
}

std::string EventsStrip(const Geometry& g) {
  return Text(kGutter - 8, g.events_top + 13, "class=\"tick\"", "events") +
         Rect(kGutter, g.events_top, g.PlotWidth(), kStripHeight, "class=\"strip\"");
}

// The panel's name, icon strip, plot frame and y grid, drawn under the mark bands.
std::string ChainFrame(const Timeline& t, size_t chain, const Geometry& g) {
  YScale scale = ScaleFor(t, chain, g);
  std::string out = Text(kGutter - 8, g.PanelTop(chain) + 13, "class=\"lane\"", Abbreviate(t.chains[chain], 12));
  out += Rect(kGutter, g.PanelTop(chain), g.PlotWidth(), kStripHeight, "class=\"strip\"");
  out += Rect(kGutter, g.PlotTop(chain), g.PlotWidth(), g.plot_h, "class=\"plot\"");
  for (uint64_t tick : Ticks(scale.lo, scale.hi)) {
    double y = scale.Y(tick);
    out += "<path class=\"grid\" d=\"M" + Num(kGutter) + " " + Num(y) + "h" + Num(g.PlotWidth()) + "\"/>";
    out += Text(kGutter - 6, y + 3.5, "class=\"tick\"", TickLabel(tick));
  }
  return out;
}

// The five step-lines of one chain, drawn over the mark bands.
std::string ChainLines(const Timeline& t, size_t chain, const Geometry& g) {
  YScale scale = ScaleFor(t, chain, g);
  std::string out;
  for (size_t h = 0; h < kHeads.size(); ++h) {
    std::vector<std::optional<double>> ys;
    for (const TimelineStep& step : t.steps) {
      if (chain < step.heads.size()) {
        ys.push_back(scale.Y(HeadValue(step.heads[chain], h)) + kHeads[h].offset);
      } else {
        ys.emplace_back();
      }
    }
    std::string d = StepPath(ys, g, g.wide ? kHeads[h].offset : 0);
    out += "<path class=\"head\" stroke=\"" + std::string(kHeads[h].color) + "\" d=\"" + d + "\">" +
           Title(t.chains[chain] + " " + kHeads[h].name) + "</path>";
  }
  return out;
}

// Wide columns: step number plus the rotated, abbreviated label. Thin ones: every k-th step number.
std::string XAxis(const Timeline& t, const Geometry& g) {
  std::string out = "<path class=\"axis\" d=\"M" + Num(kGutter) + " " + Num(g.axis_y) + "h" +
                    Num(g.PlotWidth()) + "\"/>";
  size_t every = 1;
  for (size_t k : {1, 2, 5, 10, 20, 25, 50, 100, 200, 500, 1000}) {
    every = k;
    if (static_cast<double>(k) * g.col >= 26) break;
  }
  for (size_t i = 0; i < t.steps.size(); ++i) {
    const TimelineStep& s = t.steps[i];
    if (g.wide) {
      out += Text(g.Mid(i), g.axis_y + 12, "class=\"stepno\"", Int(s.index));
      std::string rotate = "transform=\"rotate(-" + Num(kLabelAngle) + " " + Num(g.Mid(i)) + " " +
                           Num(g.axis_y + 20) + ")\"";
      out += "<text x=\"" + Num(g.Mid(i)) + "\" y=\"" + Num(g.axis_y + 20) + "\" class=\"steplabel\" " + rotate +
             ">" + Title(s.label) + Esc(Abbreviate(s.label, kLabelChars)) + "</text>";
    } else if (s.index % every == 0 || i == 0) {
      out += Text(g.Mid(i), g.axis_y + 12, "class=\"stepno\"", Int(s.index));
    }
  }
  return out;
}

std::string ColumnTitle(const Timeline& t, const TimelineStep& step) {
  std::string title = StepHeading(step) + "\nL1 head " + Int(step.l1_head) + " (fork " + step.l1_fork +
                      "), finalized " + Int(step.l1_finalized);
  for (size_t c = 0; c < t.chains.size() && c < step.heads.size(); ++c) {
    title += "\n" + t.chains[c] + ":";
    for (size_t h = 0; h < kHeads.size(); ++h) {
      title += std::string(h == 0 ? " " : ", ") + kHeads[h].name + " " + Int(HeadValue(step.heads[c], h));
    }
  }
  for (const Mark& m : step.marks) title += "\n" + MarkLine(m);
  return title;
}

// Transparent columns over the picture: hover highlights the step and shows all its numbers.
std::string HoverColumns(const Timeline& t, const Geometry& g) {
  std::string out;
  for (size_t i = 0; i < t.steps.size(); ++i) {
    out += "<rect class=\"col\" x=\"" + Num(g.X(i)) + "\" y=\"" + Num(g.lane_top) + "\" width=\"" + Num(g.col) +
           "\" height=\"" + Num(g.axis_y - g.lane_top) + "\">" + Title(ColumnTitle(t, t.steps[i])) + "</rect>";
  }
  return out;
}

std::string Picture(const Timeline& t) {
  Geometry g = Layout(t);
  std::string out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + Num(g.width) + "\" height=\"" +
                    Num(g.height) + "\" viewBox=\"0 0 " + Num(g.width) + " " + Num(g.height) + "\" role=\"img\">";
  out += L1Lane(t, g);
  out += EventsStrip(g);
  for (size_t c = 0; c < t.chains.size(); ++c) out += ChainFrame(t, c, g);
  out += MarkBands(t, g);
  for (size_t c = 0; c < t.chains.size(); ++c) out += ChainLines(t, c, g);
  if (t.steps.empty()) {
    out += Text(kGutter + g.PlotWidth() / 2, g.events_top + kStripHeight + 30, "class=\"empty\"", "no steps");
  }
  out += XAxis(t, g);
  out += HoverColumns(t, g);
  out += MarkIcons(t, g);
  return out + "</svg>";
}

// ---------------------------------------------------------------------------------------------------------------
// HTML around the picture

constexpr std::string_view kCss = R"(
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d1d1f;margin:20px;background:#fff}
h1{font-size:20px;margin:0 0 4px}
h2{font-size:15px;margin:24px 0 8px}
.badge{display:inline-block;font-size:12px;font-weight:700;padding:2px 8px;border-radius:10px;color:#fff;
  vertical-align:3px;margin-left:8px}
.badge.pass{background:#1a7f37}.badge.fail{background:#d40000}
.desc{margin:4px 0;max-width:1100px;white-space:pre-wrap}
.meta{color:#555;margin:4px 0}
.failure{border:1px solid #d40000;background:#fff0f0;padding:8px 12px;margin:10px 0;max-width:1100px}
.failure pre{margin:4px 0 0;white-space:pre-wrap;font:13px/1.4 ui-monospace,Menlo,Consolas,monospace}
.legend{display:flex;flex-wrap:wrap;gap:6px 18px;margin:12px 0 8px;font-size:13px;color:#333;align-items:center}
.legend span{display:inline-flex;align-items:center;gap:5px}
.legend .hint{color:#777}
.scroll{overflow-x:auto}
svg text{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;font-size:11px;fill:#333}
svg .lane{font-size:13px;font-weight:700;text-anchor:end;fill:#1d1d1f}
svg .tick{text-anchor:end;fill:#666;font-size:10px}
svg .l1{text-anchor:middle;font-size:12px}
svg .l1.fork{font-size:10px;fill:#555}
svg .l1.changed{font-weight:700;fill:#000}
svg .l1fin{text-anchor:middle;font-size:9px;fill:#009e73}
svg .l1line{fill:none;stroke:#555;stroke-width:1.5}
svg .l1line.fin{stroke:#009e73}
svg .forkedge{fill:#222}
svg .frame,svg .plot,svg .strip{fill:none;stroke:#c8c8c8}
svg .plot{fill:#fff}
svg .grid{stroke:#ececec}
svg .head{fill:none;stroke-width:2}
svg .axis{stroke:#888}
svg .stepno{text-anchor:middle;font-size:10px;fill:#666}
svg .steplabel{text-anchor:end;font-size:10.5px;fill:#333}
svg .glyph{text-anchor:middle;font-size:9.5px;font-weight:700;fill:#fff}
svg .empty{text-anchor:middle;fill:#999;font-size:13px}
svg .col{fill:#000;fill-opacity:0}
svg .col:hover{fill-opacity:0.07}
table{border-collapse:collapse;font:12px/1.3 ui-monospace,Menlo,Consolas,monospace}
th,td{border:1px solid #ddd;padding:2px 6px;text-align:right;white-space:nowrap}
th{background:#f4f4f4;font-family:system-ui,sans-serif;text-align:center}
td.text{text-align:left;max-width:360px;overflow:hidden;text-overflow:ellipsis}
td.marks{text-align:left;white-space:normal;min-width:240px}
td.chg{font-weight:700}
tr.failed td{background:#fff0f0}
th.chain{border-left:2px solid #999}td.first{border-left:2px solid #999}
)";

std::string LegendIcon(MarkKind kind) {
  return "<svg width=\"16\" height=\"16\" viewBox=\"0 0 16 16\">" + Icon(kind, 8, 8.5, StyleOf(kind).name) +
         "</svg>";
}

std::string Legend() {
  std::string out = "<div class=\"legend\">";
  for (const HeadStyle& h : kHeads) {
    out += "<span><svg width=\"22\" height=\"8\"><path d=\"M0 4h22\" stroke=\"" + std::string(h.color) +
           "\" stroke-width=\"3\"/></svg>" + h.name + "</span>";
  }
  for (MarkKind kind : kAllKinds) out += "<span>" + LegendIcon(kind) + StyleOf(kind).name + "</span>";
  out += "<span><svg width=\"10\" height=\"14\"><rect x=\"3\" width=\"3\" height=\"14\" fill=\"#222\"/></svg>"
         "L1 fork switched (cell colour = fork)</span>"
         "<span class=\"hint\">equal heads run side by side, unsafe on top, finalized at the bottom; "
         "hover a column for its numbers</span>";
  return out + "</div>";
}

std::string Header(const Timeline& t) {
  std::string out = "<header><h1>" + Esc(t.scenario.empty() ? "(unnamed scenario)" : t.scenario);
  out += t.passed ? "<span class=\"badge pass\">PASS</span>" : "<span class=\"badge fail\">FAIL</span>";
  out += "</h1>";
  if (!t.description.empty()) out += "<p class=\"desc\">" + Esc(t.description) + "</p>";
  std::string chains;
  for (const std::string& c : t.chains) chains += (chains.empty() ? "" : ", ") + c;
  out += "<p class=\"meta\">seed " + Int(t.seed) + " \u00b7 " + Int(t.chains.size()) + " chain" +
         (t.chains.size() == 1 ? "" : "s") + (chains.empty() ? "" : " (" + Esc(chains) + ")") + " \u00b7 " +
         Int(t.steps.size()) + " step" + (t.steps.size() == 1 ? "" : "s") + "</p>";
  if (!t.passed || !t.failure.empty()) {
    out += "<div class=\"failure\"><b>Failed</b><pre>" +
           Esc(t.failure.empty() ? "(no failure text recorded)" : t.failure) + "</pre></div>";
  }
  return out + "</header>";
}

bool Changed(const Timeline& t, size_t i, size_t chain, size_t head) {
  if (i == 0 || chain >= t.steps[i - 1].heads.size()) return false;
  return HeadValue(t.steps[i].heads[chain], head) != HeadValue(t.steps[i - 1].heads[chain], head);
}

std::string TableHead(const Timeline& t) {
  std::string out = "<thead><tr><th rowspan=\"2\">step</th><th rowspan=\"2\">what</th>"
                    "<th colspan=\"3\">L1</th>";
  for (const std::string& c : t.chains) out += "<th colspan=\"5\" class=\"chain\">" + Esc(c) + "</th>";
  out += "<th rowspan=\"2\">marks</th></tr><tr><th>head</th><th>fork</th><th>fin</th>";
  for (size_t c = 0; c < t.chains.size(); ++c) {
    for (size_t h = 0; h < kHeads.size(); ++h) {
      out += std::string("<th") + (h == 0 ? " class=\"chain\"" : "") + " title=\"" + kHeads[h].name + "\">" +
             kHeads[h].short_name + "</th>";
    }
  }
  return out + "</tr></thead>";
}

std::string TableRow(const Timeline& t, size_t i) {
  const TimelineStep& s = t.steps[i];
  bool failed = std::any_of(s.marks.begin(), s.marks.end(),
                            [](const Mark& m) { return m.kind == MarkKind::kFailure; });
  std::string out = failed ? "<tr class=\"failed\">" : "<tr>";
  out += "<td>" + Int(s.index) + "</td><td class=\"text\" title=\"" + Esc(s.label) + "\">" + Esc(s.label) + "</td>";
  out += "<td>" + Int(s.l1_head) + "</td><td>" + Esc(s.l1_fork) + "</td><td>" + Int(s.l1_finalized) + "</td>";
  for (size_t c = 0; c < t.chains.size(); ++c) {
    for (size_t h = 0; h < kHeads.size(); ++h) {
      bool known = c < s.heads.size();
      std::string cls = std::string(h == 0 ? "first" : "") + (known && Changed(t, i, c, h) ? " chg" : "");
      out += cls.empty() ? "<td>" : "<td class=\"" + cls + "\">";
      out += (known ? Int(HeadValue(s.heads[c], h)) : "") + "</td>";
    }
  }
  std::string marks;
  for (const Mark& m : s.marks) marks += (marks.empty() ? "" : "; ") + MarkLine(m);
  return out + "<td class=\"marks\">" + Esc(marks) + "</td></tr>";
}

std::string Table(const Timeline& t) {
  std::string out = "<h2>Numbers per step</h2><div class=\"scroll\"><table>" + TableHead(t) + "<tbody>";
  for (size_t i = 0; i < t.steps.size(); ++i) out += TableRow(t, i) + "\n";
  return out + "</tbody></table></div>";
}

}  // namespace

std::string RenderTimelineHtml(const Timeline& timeline) {
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">";
  out += "<title>" + Esc("timeline: " + timeline.scenario) + "</title>";
  out += "<style>" + std::string(kCss) + "</style></head>\n";
  out += "<body>" + Header(timeline) + Legend() + "\n<div class=\"scroll\">" + Picture(timeline) + "</div>\n";
  out += Table(timeline);
  return out + "\n</body></html>\n";
}

}  // namespace supersafe::sim
