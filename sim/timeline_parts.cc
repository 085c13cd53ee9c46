#include "sim/timeline_parts.h"

#include <charconv>
#include <cmath>

namespace supersafe::sim::timeline_detail {

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

uint64_t HeadValue(const ChainHeads& h, size_t head) {
  switch (head) {
    case 0: return h.unsafe;
    case 1: return h.cross_unsafe;
    case 2: return h.local_safe;
    case 3: return h.cross_safe;
    default: return h.finalized;
  }
}

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

// Pastel backgrounds for L1 fork labels, by order of first appearance.

std::string MarkLine(const Mark& mark) {
  std::string line = StyleOf(mark.kind).name;
  if (!mark.chain.empty()) line += " (" + mark.chain + ")";
  if (!mark.text.empty()) line += ": " + mark.text;
  return line;
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


FateStyle StyleOf(EdgeFate fate) {
  switch (fate) {
    case EdgeFate::kCrossSafe: return {"cross-safe", "#3a3a3a", ""};
    case EdgeFate::kPending: return {"not cross-safe at the end", "#8a8a8a", "4 3"};
    case EdgeFate::kInvalid: return {"invalid: its block was replaced", "#d40000", ""};
    case EdgeFate::kDropped: break;
  }
  return {"dropped: its block left the chain", "#b8b8b8", "1.5 2.5"};
}

}  // namespace supersafe::sim::timeline_detail
