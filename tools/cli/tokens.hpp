#pragma once
// Token sequences for `tinyloop infer`: parsed from --tokens text or read from a file.
#include <cstdint>
#include <string>
#include <vector>

namespace tinyloop::cli {

struct TokenList {
  std::vector<std::int32_t> ids;  // INT32_MAX stands for a value beyond every vocabulary
  std::vector<std::string> text;  // as written (at most 24 characters + "..."), for error messages
  std::string source;             // "--tokens", "tokens file 'x.txt'" or "stdin", for error messages
};

// Splits `text` on blanks and commas into integers. `source` names where the text came from in
// error messages ("--tokens" or "tokens file 'x.txt'"); `exit_code` is the CliError's code
// (2 for a flag, 1 for a file). Rejects a non-integer (naming it and its position), empty input
// and more than kMaxSequenceLength tokens. Vocabulary checks are the caller's.
TokenList parse_tokens(const std::string& text, const std::string& source, int exit_code);

// Reads `path` (whole file, "-" for stdin) and parses it like --tokens. Runtime errors (exit 1)
// name the file: unreadable, not text (a NUL byte), larger than any sequence could be, empty.
TokenList read_tokens_file(const std::string& path);

}  // namespace tinyloop::cli
