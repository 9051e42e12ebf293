#pragma once
// Token sequences for `tinyloop infer`: parsed from --tokens text or read from a file.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "evaluation.hpp"

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
TokenList parse_tokens(std::string_view text, const std::string& source, int exit_code);

// Throws CliError{exit_code} naming the first token outside [0, vocab_in), as it was written
// and with its position.
void check_vocabulary(const TokenList& tokens, int vocab_in, int exit_code);

// The most a tokens file (or stdin) may hold: kMaxSequenceLength tokens of up to 16 bytes each
// (a 7-digit id, the largest a vocabulary can have, and 9 bytes of blanks and commas), 16 MiB.
// A larger regular file is refused before it is read; stdin is read up to one byte past it.
constexpr std::size_t kMaxTokensFileBytes = std::size_t(kMaxSequenceLength) * 16;

// Reads `path` (whole file, "-" for stdin) and parses it like --tokens. Runtime errors (exit 1)
// name the file: unreadable, not a regular file (a FIFO or a device), not text (a NUL byte),
// larger than kMaxTokensFileBytes, empty.
TokenList read_tokens_file(const std::string& path);

}  // namespace tinyloop::cli
