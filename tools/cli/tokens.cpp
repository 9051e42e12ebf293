#include "tokens.hpp"

#include <cstdio>
#include <cstring>

#include "args.hpp"
#include "evaluation.hpp"
#include "tinyloop/platform/posix.hpp"

namespace tinyloop::cli {

namespace {

std::string shown(const std::string& item) {
  std::string out;
  for (char c : item) {
    if (out.size() >= 24) return out + "...";
    const unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

[[noreturn]] void fail(int exit_code, const std::string& message) { throw CliError{exit_code, message}; }

// Longest text a sequence of kMaxSequenceLength tokens could reasonably take (a token, padded
// with blanks, per 32 bytes): a larger file is refused before it is read in full.
constexpr std::size_t kMaxTokensFileBytes = std::size_t(kMaxSequenceLength) * 32;

}  // namespace

TokenList parse_tokens(const std::string& text, const std::string& source, int exit_code) {
  TokenList list;
  list.source = source;
  std::vector<std::int32_t>& out = list.ids;
  std::size_t i = 0;
  const std::size_t n = text.size();
  auto is_sep = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ','; };
  while (i < n) {
    while (i < n && is_sep(text[i])) ++i;
    if (i >= n) break;
    std::size_t start = i;
    while (i < n && !is_sep(text[i])) ++i;
    const std::string item = text.substr(start, i - start);
    std::int64_t v = 0;
    bool overflow = false;
    if (!parse_int64(item, &v, &overflow) && !overflow)
      fail(exit_code, source + ": '" + shown(item) + "' at position " + std::to_string(out.size()) +
                          " is not an integer");
    if (overflow || v < INT32_MIN || v > INT32_MAX) v = INT32_MAX;  // beyond every vocabulary
    if (out.size() >= static_cast<std::size_t>(kMaxSequenceLength))
      fail(exit_code, source + " holds more than " + std::to_string(kMaxSequenceLength) +
                          " tokens, the longest sequence this tool runs");
    out.push_back(static_cast<std::int32_t>(v));
    list.text.push_back(shown(item));
  }
  if (out.empty()) fail(exit_code, source + " is empty; give token ids such as \"0 1 2 3\"");
  return list;
}

TokenList read_tokens_file(const std::string& path) {
  const std::string source = path == "-" ? std::string("stdin") : "tokens file '" + path + "'";
  std::vector<std::uint8_t> bytes;
  if (path == "-") {
    std::uint8_t buf[65536];
    std::size_t got = 0;
    while ((got = std::fread(buf, 1, sizeof buf, stdin)) > 0) {
      bytes.insert(bytes.end(), buf, buf + got);
      if (bytes.size() > kMaxTokensFileBytes) break;
    }
    if (std::ferror(stdin)) runtime_error("cannot read tokens from stdin");
  } else {
    Status s = platform::read_file(path.c_str(), &bytes);
    if (!s) runtime_error("cannot read " + source + ": " + s.message());
  }
  if (bytes.size() > kMaxTokensFileBytes)
    runtime_error(source + " is larger than " + std::to_string(kMaxTokensFileBytes >> 20) +
                  " MiB; no sequence of at most " + std::to_string(kMaxSequenceLength) + " tokens is that long");
  if (!bytes.empty() && std::memchr(bytes.data(), 0, bytes.size()) != nullptr)
    runtime_error(source + " is not text (it holds a NUL byte); expect token ids such as \"0 1 2 3\"");
  return parse_tokens(std::string(bytes.begin(), bytes.end()), source, kExitRuntime);
}

}  // namespace tinyloop::cli
