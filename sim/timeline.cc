// The timeline's SVG picture (the page around it is sim/timeline_page.cc; docs/timeline.md explains how to read it).
//
// Picture layout, top to bottom: the L1 lane (head number, fork label and finalized number per step), the events
// strip (marks that concern no single chain), one panel per chain (five step-lines over y = L2 block number, the
// chain's marks in a strip above the plot), then the x axis with the step labels; executing messages are edges
// between the panels' blocks. Column i is step i. Every column carries a hover tooltip (<title>) with all its
// numbers; below the picture a table repeats them for copying.
#include "sim/timeline.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <optional>
#include <string_view>

#include "sim/timeline_parts.h"

namespace supersafe::sim::timeline_detail {
namespace {

// Axis numbers stay short enough for the gutter: from 10^10 on, "1.8e19".
std::string TickLabel(uint64_t v) {
  if (v < 10'000'000'000ULL) return Int(v);
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, static_cast<double>(v), std::chars_format::scientific, 1);
  std::string s(buf, ec == std::errc() ? end : buf);
  if (auto plus = s.find('+'); plus != std::string::npos) s.erase(plus, 1);
  return s;
}

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

// ---------------------------------------------------------------------------------------------------------------
// Geometry

constexpr double kGutter = 104;        // left: lane names and y ticks
constexpr double kRightMargin = 24;
constexpr double kTargetPlotWidth = 1120;
constexpr double kLaneHeight = 50;       // with L1 numbers written across
constexpr double kLaneHeightUpright = 88; // with L1 numbers written upright (thin columns)
constexpr double kMinColumn = 12;         // an upright L1 number fits
constexpr double kTextColumn = 30;        // L1 numbers written across
constexpr double kStripHeight = 18;    // icon strip (events, and above each chain plot)
constexpr double kPanelGap = 12;
constexpr double kPlotPad = 8;         // inside the plot, so offset lines stay inside the frame
constexpr size_t kLabelChars = 24;     // rotated step labels are cut here; the full text is in the tooltip
constexpr double kLabelAngle = 55;     // degrees

struct Geometry {
  size_t columns = 0;
  double col = 0;          // column width
  double plot_h = 0;       // height of one chain plot
  double lane_top = 0;     // L1 lane
  double lane_h = 0;
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
  // Columns never get thinner than an upright L1 number: with many steps the picture grows wider
  // than the window and scrolls.
  g.col = std::clamp(kTargetPlotWidth / static_cast<double>(std::max<size_t>(g.columns, 1)), kMinColumn, 56.0);
  g.wide = g.col >= 16;
  g.lane_h = g.col >= kTextColumn ? kLaneHeight : kLaneHeightUpright;
  size_t chains = t.chains.size();
  g.plot_h = chains <= 2 ? 160 : chains <= 4 ? 130 : 104;
  g.lane_top = 8;
  g.events_top = g.lane_top + g.lane_h + 4;
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

// Wide columns: head number, fork label and finalized number across each cell. Thin ones: the fork
// label once per run of the same fork (where it fits), then head and finalized number upright in
// every cell, so that every L1 number stays readable however many steps there are.
std::string L1Lane(const Timeline& t, const Geometry& g) {
  const bool across = g.col >= kTextColumn;
  std::string out = Text(kGutter - 8, g.lane_top + 20, "class=\"lane\"", "L1");
  out += Text(kGutter - 8, g.lane_top + 34, "class=\"tick\"", across ? "head / fork / fin" : "fork / head / fin");
  std::vector<std::string> colors = ForkColors(t);
  for (size_t run = 0, i = 1; i <= t.steps.size(); ++i) {  // one rectangle per run of the same fork
    if (i < t.steps.size() && t.steps[i].l1_fork == t.steps[run].l1_fork) continue;
    out += Rect(g.X(run), g.lane_top, g.X(i) - g.X(run), g.lane_h, "fill=\"" + colors[run] + "\"");
    const double room = g.X(i) - g.X(run) - 6;
    if (!across && room >= 6.5 * 2) {
      out += Text(g.X(run) + 3, g.lane_top + 11, "class=\"l1 fork run\"",
                  Abbreviate(t.steps[run].l1_fork, static_cast<size_t>(room / 6.5)));
    }
    run = i;
  }
  for (size_t i = 0; i < t.steps.size(); ++i) {
    const TimelineStep& s = t.steps[i];
    std::string cls = ForkChanged(t, i) ? "l1 changed" : "l1";
    if (across) {
      size_t fork_chars = static_cast<size_t>((g.col - 4) / 6.5);
      out += Text(g.Mid(i), g.lane_top + 16, "class=\"" + cls + "\"", Int(s.l1_head));
      out += Text(g.Mid(i), g.lane_top + 30, "class=\"" + cls + " fork\"", Abbreviate(s.l1_fork, fork_chars));
      std::string fin = (g.col >= 40 ? "fin " : "f") + Int(s.l1_finalized);
      out += Text(g.Mid(i), g.lane_top + 44, "class=\"l1fin\"", fin);
      continue;
    }
    // Upright: read bottom to top, the baseline a little right of the column's middle.
    auto upright = [&](double bottom, const std::string& c, const std::string& text) {
      const double x = g.Mid(i) + 3.5;
      return "<text x=\"" + Num(x) + "\" y=\"" + Num(bottom) + "\" class=\"" + c + " up\" transform=\"rotate(-90 " +
             Num(x) + " " + Num(bottom) + ")\">" + Esc(text) + "</text>";
    };
    out += upright(g.lane_top + 52, cls, Int(s.l1_head));
    out += upright(g.lane_top + g.lane_h - 3, "l1fin", Int(s.l1_finalized));
  }
  for (size_t i = 0; i < t.steps.size(); ++i) {
    if (!ForkChanged(t, i)) continue;
    out += Rect(g.X(i) - 1.5, g.lane_top, 3, g.lane_h, "class=\"forkedge\"");
  }
  out += Rect(kGutter, g.lane_top, g.PlotWidth(), g.lane_h, "class=\"frame\"");
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



// Executing messages: one edge per message from the block holding the log it names to the block that
// executes it, in the column of the step that built the executing block, bowed to the right, with an
// arrowhead at the executing block. A block outside its panel's scale is drawn at the panel's edge
// with a hollow end; a chain outside the dependency set gets a short stub ending in a cross.
std::string EdgeMarkers() {
  std::string out = "<defs>";
  for (EdgeFate fate : kAllFates) {
    out += "<marker id=\"arrow" + Int(static_cast<size_t>(fate)) +
           "\" viewBox=\"0 0 8 8\" refX=\"7\" refY=\"4\" markerWidth=\"6\" markerHeight=\"6\" orient=\"auto\">"
           "<path d=\"M0 0L8 4L0 8z\" fill=\"" + std::string(StyleOf(fate).color) + "\"/></marker>";
  }
  return out + "</defs>";
}

std::string MessageEdges(const Timeline& t, const Geometry& g) {
  if (t.edges.empty()) return "";
  std::vector<YScale> scales;
  for (size_t c = 0; c < t.chains.size(); ++c) scales.push_back(ScaleFor(t, c, g));
  // The y of block `n` in its chain's plot, clamped to it; `inside` says whether it had to be.
  auto y_of = [&](size_t chain, uint64_t n, bool& inside) {
    const YScale& s = scales[chain];
    inside = n >= s.lo && n <= s.hi;
    return inside ? s.Y(n) : n < s.lo ? s.Y(s.lo) : s.Y(s.hi);
  };
  std::string out = EdgeMarkers();
  const double bow = std::clamp(g.col * 0.9, 8.0, 36.0);
  for (const MessageEdge& e : t.edges) {
    if (e.column >= t.steps.size() || e.exec_chain >= t.chains.size()) continue;
    const FateStyle st = StyleOf(e.fate);
    const std::string color = st.color;
    const std::string dash = *st.dash ? " stroke-dasharray=\"" + std::string(st.dash) + "\"" : "";
    const std::string arrow = " marker-end=\"url(#arrow" + Int(static_cast<size_t>(e.fate)) + ")\"";
    const double x = g.Mid(e.column);
    bool exec_inside = true;
    const double y2 = y_of(e.exec_chain, e.exec_block, exec_inside);
    out += "<g class=\"edge\">" + Title(e.text + "\n" + st.name);
    if (!e.source_chain || *e.source_chain >= t.chains.size()) {
      const double y1 = y2 - 16;
      out += "<path d=\"M" + Num(x) + " " + Num(y1) + "V" + Num(y2) + "\" stroke=\"" + color + "\"" + dash + arrow + "/>";
      out += "<path d=\"M" + Num(x - 3) + " " + Num(y1 - 3) + "l6 6m0 -6l-6 6\" stroke=\"" + color + "\"/>";
    } else {
      bool source_inside = true;
      const double y1 = y_of(*e.source_chain, e.source_block, source_inside);
      const double lift = std::abs(y1 - y2) < 6 ? 14 : 0;  // a message within one block's height loops up
      out += "<path d=\"M" + Num(x) + " " + Num(y1) + "C" + Num(x + bow) + " " + Num(y1 - lift) + " " + Num(x + bow) +
             " " + Num(y2 - lift) + " " + Num(x) + " " + Num(y2) + "\" stroke=\"" + color + "\"" + dash + arrow + "/>";
      out += "<circle cx=\"" + Num(x) + "\" cy=\"" + Num(y1) + "\" r=\"2.5\" stroke=\"" + color + "\" fill=\"" +
             (source_inside ? color : std::string("#fff")) + "\"/>";
    }
    out += "</g>";
  }
  return out;
}

}  // namespace

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
  out += MessageEdges(t, g);
  out += MarkIcons(t, g);
  return out + "</svg>";
}

}  // namespace supersafe::sim::timeline_detail
