// The HTML page around the timeline picture: header, legend, and the tables of numbers.
#include <algorithm>

#include "sim/timeline_parts.h"

namespace supersafe::sim {
namespace {

using namespace timeline_detail;

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
svg .up{text-anchor:start;font-size:10px}
svg .l1.fork.run{text-anchor:start}
svg .edge path{fill:none;stroke-width:1.4}
svg .edge:hover path{stroke-width:2.6}
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

std::string Legend(const Timeline& t) {
  std::string out = "<div class=\"legend\">";
  for (const HeadStyle& h : kHeads) {
    out += "<span><svg width=\"22\" height=\"8\"><path d=\"M0 4h22\" stroke=\"" + std::string(h.color) +
           "\" stroke-width=\"3\"/></svg>" + h.name + "</span>";
  }
  for (MarkKind kind : kAllKinds) out += "<span>" + LegendIcon(kind) + StyleOf(kind).name + "</span>";
  if (!t.edges.empty()) {
    for (EdgeFate fate : kAllFates) {
      const FateStyle st = StyleOf(fate);
      out += "<span><svg width=\"24\" height=\"8\"><path d=\"M1 4h22\" stroke=\"" + std::string(st.color) +
             "\" stroke-width=\"1.6\"" + (*st.dash ? " stroke-dasharray=\"" + std::string(st.dash) + "\"" : "") +
             "/></svg>message, " + st.name + "</span>";
    }
  }
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

// The executing messages, one row each: the step that built the executing block, the message, its fate.
std::string EdgeTable(const Timeline& t) {
  if (t.edges.empty()) return "";
  std::string out = "<h2>Executing messages</h2><div class=\"scroll\"><table><thead><tr><th>step</th>"
                    "<th>message</th><th>at the end</th></tr></thead><tbody>";
  for (const MessageEdge& e : t.edges) {
    const size_t step = e.column < t.steps.size() ? t.steps[e.column].index : 0;
    out += "<tr><td>" + Int(step) + "</td><td class=\"text\">" + Esc(e.text) + "</td><td class=\"text\">" +
           Esc(StyleOf(e.fate).name) + "</td></tr>\n";
  }
  out += "</tbody></table></div>";
  if (t.edges_left_out > 0)
    out += "<p class=\"meta\">" + Int(t.edges_left_out) + " more executing messages are neither drawn nor listed.</p>";
  return out;
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
  out += "<body>" + Header(timeline) + Legend(timeline) + "\n<div class=\"scroll\">" + Picture(timeline) + "</div>\n";
  out += Table(timeline);
  out += EdgeTable(timeline);
  return out + "\n</body></html>\n";
}


}  // namespace supersafe::sim
