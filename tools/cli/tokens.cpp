#include "tokens.hpp"

#include <cstring>
#include <string_view>

#include "args.hpp"
#include "evaluation.hpp"
#include "text_format.hpp"
#include "tinyloop/platform/posix.hpp"

namespace tinyloop::cli {

namespace {

std::string shown(const std::string& item) { return text::printable(item, 24); }

[[noreturn]] void fail(int exit_code, const std::string& message) { throw CliError{exit_code, message}; }

}  // namespace

TokenList parse_tokens(std::string_view text, const std::string& source, int exit_code) {
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
    const std::string item(text.substr(start, i - start));
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

void check_vocabulary(const TokenList& tokens, int vocab_in, int exit_code) {
  for (std::size_t i = 0; i < tokens.ids.size(); ++i) {
    if (tokens.ids[i] < 0 || tokens.ids[i] >= vocab_in)
      fail(exit_code, tokens.source + ": token " + tokens.text[i] + " at position " + std::to_string(i) +
                          " is outside the vocabulary [0, " + std::to_string(vocab_in) + ")");
  }
}

TokenList read_tokens_file(const std::string& path) {
  const std::string source = path == "-" ? std::string("stdin") : "tokens file '" + path + "'";
  std::vector<std::uint8_t> bytes;
  const Status s = path == "-" ? platform::read_stdin(kMaxTokensFileBytes, &bytes)
                               : platform::read_file(path.c_str(), kMaxTokensFileBytes, &bytes);
  if (s.code() == Error::buffer_too_small)
    runtime_error(source + " is larger than " + std::to_string(kMaxTokensFileBytes >> 20) +
                  " MiB; no sequence of at most " + std::to_string(kMaxSequenceLength) + " tokens is that long");
  if (!s) runtime_error("cannot read " + source + ": " + s.message());
  if (!bytes.empty() && std::memchr(bytes.data(), 0, bytes.size()) != nullptr)
    runtime_error(source + " is not text (it holds a NUL byte); expect token ids such as \"0 1 2 3\"");
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  return parse_tokens(text, source, kExitRuntime);
}

}  // namespace tinyloop::cli
