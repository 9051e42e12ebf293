#pragma once
// Number formats and quoting, in one place: every figure, duration, size, JSON string and shell
// word that the CLI, the studies and the bench print goes through these; and the split that
// reads such a list back.
#include <cstddef>
#include <string>
#include <vector>

namespace tinyloop::text {

// "%.<digits>g": format_g(0.5, 6) = "0.5". format_g9 is the form that reads back to the same
// float (CSV and JSON numbers).
std::string format_g(double v, int digits);
std::string format_g9(double v);
// The shortest "%g" text that reads back to the same float: "0.002", not "0.00200000009".
std::string format_float(float v);
// "%.<digits>f": format_fixed(2.0 / 3, 2) = "0.67".
std::string format_fixed(double v, int digits);
// "%.<digits>e": format_exp(0.001, 0) = "1e-03".
std::string format_exp(double v, int digits);
// A fraction as a percentage without the sign: "97.3", two decimals from 99% on (one would round
// 99.96 and 100 alike), "-" when not finite.
std::string format_percent(double fraction);
// "4s", "3m12s", "1h02m"; "?" when negative or not finite.
std::string format_duration(double seconds);
// "512 B", "12.3 KiB", "12.3 MiB", "1.2 GiB".
std::string format_bytes(std::size_t bytes);

// The body of a JSON string (without its quotes): quotes, backslashes and control characters
// escaped.
std::string json_escape(const std::string& s);
// A word for /bin/sh: as it is when only safe characters, else in single quotes.
std::string shell_quote(const std::string& s);
// User text for one line of a message: control characters as \xNN, cut after `max_chars`
// characters with "...".
std::string printable(const std::string& text, std::size_t max_chars);

// The fields of `s` between each `sep`, empty ones included: split("a,,b", ",") = {"a", "", "b"},
// split("", ",") = {""}.
std::vector<std::string> split(const std::string& s, const std::string& sep);

}  // namespace tinyloop::text
