// The retrieval generator (SPEC §4.2): chain invariants over many seeds, uniform depths and
// interleavings, the curriculum-off layout, a pinned instance, padding, refused settings and
// zero allocations after planning.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "alloc_counter.hpp"
#include "tinyloop/retrieval.hpp"

using namespace tinyloop;
using namespace tinyloop::retrieval;

namespace {

struct Instance {
  std::vector<std::int32_t> tokens, labels, depth;
  std::vector<std::uint8_t> mask;
};

struct Buffers {
  std::vector<std::int32_t> tokens, labels, depth, scratch;
  std::vector<std::uint8_t> mask;
  Buffers(const RetrievalTask& t, int rows)
      : tokens(std::size_t(rows) * max_length(t)),
        labels(tokens.size()),
        depth(tokens.size()),
        scratch(scratch_size(t)),
        mask(tokens.size()) {}
  RetrievalBuffers view() { return {tokens.data(), labels.data(), mask.data(), depth.data(), scratch.data()}; }
};

Instance draw(const RetrievalTask& t, Rng& rng) {
  Buffers b(t, 1);
  const int n = retrieval_instance(t, rng, b.view());
  return {{b.tokens.begin(), b.tokens.begin() + n},
          {b.labels.begin(), b.labels.begin() + n},
          {b.depth.begin(), b.depth.begin() + n},
          {b.mask.begin(), b.mask.begin() + n}};
}

bool is_value(const RetrievalTask& t, int x) { return x >= 0 && x < t.values; }
bool is_variable(const RetrievalTask& t, int x) { return x >= t.values && x < t.values + t.variables; }

// Checks every rule of SPEC §4.2 on one instance; returns the depth of every chain (the depth of
// each variable that no statement uses).
std::vector<int> check_instance(const RetrievalTask& t, const Instance& in) {
  const int n = int(in.tokens.size());
  REQUIRE(n % 2 == 0);
  REQUIRE(n >= 4);
  CHECK(in.tokens[n - 2] == query_token(t));
  std::map<int, int> value_of, depth_of, used;  // per defined variable
  for (int i = 0; i + 2 < n; i += 2) {
    const int left = in.tokens[i], right = in.tokens[i + 1];
    REQUIRE(is_variable(t, left));
    CHECK(value_of.count(left) == 0);  // each variable is defined once: distinct across chains
    CHECK(in.mask[i] == 0);
    CHECK(in.labels[i] == -1);
    CHECK(in.depth[i] == 0);
    int value = 0, depth = 1;
    if (is_value(t, right)) {
      value = right;
    } else {
      REQUIRE(is_variable(t, right));
      REQUIRE(value_of.count(right) == 1);  // defined before it is used
      CHECK(used[right]++ == 0);            // a chain, not a tree
      value = value_of[right];              // resolvable from what came before
      depth = depth_of[right] + 1;
    }
    value_of[left] = value;
    depth_of[left] = depth;
    CHECK((depth == 1) == is_value(t, right));  // values appear on the right only at depth 1
    if (t.curriculum) {
      CHECK(in.mask[i + 1] == 1);
      CHECK(in.labels[i + 1] == value);
      CHECK(in.depth[i + 1] == depth);
    } else {
      CHECK(in.mask[i + 1] == 0);
      CHECK(in.depth[i + 1] == 0);
    }
  }
  const int q = in.tokens[n - 1];
  REQUIRE(value_of.count(q) == 1);
  CHECK(used.count(q) == 0);  // the last variable of its chain
  CHECK(in.mask[n - 1] == 1);
  CHECK(in.labels[n - 1] == value_of[q]);
  CHECK(in.depth[n - 1] == depth_of[q]);
  CHECK(in.mask[n - 2] == 0);
  std::vector<int> chains;
  int statements = 0;
  for (const auto& kv : depth_of)
    if (used.count(kv.first) == 0) {
      chains.push_back(kv.second);
      statements += kv.second;
    }
  CHECK(int(chains.size()) == t.chains);
  CHECK(n == 2 * statements + 2);
  return chains;
}

}  // namespace

TEST_CASE("every instance keeps the chain rules, over many seeds and settings") {
  RetrievalTask small;
  small.values = 3;
  small.variables = 6;
  small.chains = 3;
  small.max_depth = 2;
  RetrievalTask tight = small;  // every variable used
  tight.fixed_depth = true;
  RetrievalTask one;
  one.chains = 1;
  one.max_depth = 1;
  for (const RetrievalTask& t : {RetrievalTask{}, small, tight, one}) {
    REQUIRE(validate(t).is_ok());
    Rng rng(11);
    for (int k = 0; k < 500; ++k) {
      const Instance in = draw(t, rng);
      for (int d : check_instance(t, in)) {
        CHECK(d >= 1);
        CHECK(d <= t.max_depth);
        if (t.fixed_depth) CHECK(d == t.max_depth);
      }
    }
  }
}

TEST_CASE("chain depths are uniform over 1..K (chi-square) and so is the query's chain") {
  const RetrievalTask t;  // K = 8, 4 chains
  Rng rng(3);
  std::vector<double> chains(t.max_depth + 1, 0.0), queries(t.max_depth + 1, 0.0);
  const int draws = 4000;
  for (int k = 0; k < draws; ++k) {
    const Instance in = draw(t, rng);
    for (int d : check_instance(t, in)) chains[d] += 1;
    queries[in.depth.back()] += 1;
  }
  auto chi2 = [&](const std::vector<double>& counts, double total) {
    double s = 0, e = total / t.max_depth;
    for (int d = 1; d <= t.max_depth; ++d) s += (counts[d] - e) * (counts[d] - e) / e;
    return s;
  };
  // 7 degrees of freedom: P(chi2 > 24.3) = 0.001.
  CHECK(chi2(chains, double(draws) * t.chains) < 24.3);
  CHECK(chi2(queries, double(draws)) < 24.3);
}

TEST_CASE("the interleaving is uniform and keeps each chain's order") {
  // Two chains of depth 2: the 6 orders of {A, A, B, B} are equally likely; named by first
  // appearance they give AABB, ABAB and ABBA a third each.
  RetrievalTask t;
  t.chains = 2;
  t.max_depth = 2;
  t.fixed_depth = true;
  Rng rng(5);
  std::map<std::string, int> seen;
  const int draws = 6000;
  for (int k = 0; k < draws; ++k) {
    const Instance in = draw(t, rng);
    check_instance(t, in);
    // A statement starts chain A when its right side is a value and it is the first root.
    std::string pattern;
    int first_root = -1;
    std::map<int, char> chain_of;
    for (int i = 0; i < 8; i += 2) {
      const int right = in.tokens[i + 1];
      char c;
      if (is_value(t, right)) {
        c = first_root < 0 ? 'A' : 'B';
        if (first_root < 0) first_root = i;
      } else {
        c = chain_of[right];
      }
      chain_of[in.tokens[i]] = c;
      pattern += c;
    }
    seen[pattern]++;
  }
  REQUIRE(seen.size() == 3);
  for (const char* p : {"AABB", "ABAB", "ABBA"}) {
    CAPTURE(p);
    CHECK(seen[p] > draws / 3 - 150);  // sd is about 37
    CHECK(seen[p] < draws / 3 + 150);
  }
}

TEST_CASE("curriculum off: every chain has depth K and only the query is counted") {
  RetrievalTask t;
  t.curriculum = false;
  Rng rng(9);
  for (int k = 0; k < 200; ++k) {
    const Instance in = draw(t, rng);
    const int n = int(in.tokens.size());
    CHECK(n == max_length(t));
    for (int d : check_instance(t, in)) CHECK(d == t.max_depth);
    for (int i = 0; i < n; ++i) {
      CHECK(int(in.mask[i]) == (i == n - 1 ? 1 : 0));
      CHECK(in.depth[i] == (i == n - 1 ? t.max_depth : 0));
      CHECK((in.labels[i] >= 0) == (i == n - 1));
    }
  }
}

TEST_CASE("the first instance of a fixed seed is pinned") {
  // Checked by hand against SPEC §4.2: values 0..7, variables 8..39, ? = 40. Chain A: 18 = 6,
  // 22 = 18, 37 = 22 (depth 3, value 6); chain B: 29 = 5 (depth 1); interleaved A A B A; the
  // query asks for 29, the last variable of chain B: value 5 at depth 1.
  RetrievalTask t;
  t.chains = 2;
  t.max_depth = 3;
  Rng rng(2);
  const Instance in = draw(t, rng);
  CHECK(in.tokens == std::vector<std::int32_t>{18, 6, 22, 18, 29, 5, 37, 22, 40, 29});
  CHECK(in.labels == std::vector<std::int32_t>{-1, 6, -1, 6, -1, 5, -1, 6, -1, 5});
  CHECK(in.depth == std::vector<std::int32_t>{0, 1, 0, 2, 0, 1, 0, 3, 0, 1});
  CHECK(in.mask == std::vector<std::uint8_t>{0, 1, 0, 1, 0, 1, 0, 1, 0, 1});
}

TEST_CASE("a batch is the instances in order, right-padded with ? and no target, with their lengths") {
  RetrievalTask t;
  t.chains = 3;
  t.max_depth = 4;
  const int B = 16;
  Buffers buf(t, B);
  std::vector<std::int32_t> lengths(B, -1);
  RetrievalBuffers view = buf.view();
  view.lengths = lengths.data();
  Rng rng(21), again(21);
  int len = 0;
  REQUIRE(retrieval_batch(t, rng, B, max_length(t), view, &len).is_ok());
  int longest = 0, shortest = len;
  for (int b = 0; b < B; ++b) {
    const Instance in = draw(t, again);
    const int n = int(in.tokens.size());
    longest = std::max(longest, n);
    shortest = std::min(shortest, n);
    REQUIRE(n <= len);
    CHECK(lengths[std::size_t(b)] == n);
    for (int i = 0; i < len; ++i) {
      const std::size_t at = std::size_t(b) * len + i;
      CHECK(buf.tokens[at] == (i < n ? in.tokens[i] : query_token(t)));
      CHECK(buf.labels[at] == (i < n ? in.labels[i] : -1));
      CHECK(int(buf.mask[at]) == (i < n ? int(in.mask[i]) : 0));
      CHECK(buf.depth[at] == (i < n ? in.depth[i] : 0));
    }
  }
  CHECK(len == longest);
  CHECK(shortest < longest);  // the batch has padding to skip
}

TEST_CASE("bad settings are refused with a one-line message") {
  auto message = [](const RetrievalTask& t) { return std::string(validate(t).message()); };
  RetrievalTask t;
  t.max_depth = 9;
  CHECK(message(t) == "4 chains of depth up to 9 need 36 distinct variables, only 32 exist");
  t = RetrievalTask{};
  t.chains = 0;
  CHECK(message(t) == "need at least 1 chain, got 0");
  t = RetrievalTask{};
  t.max_depth = 0;
  CHECK(message(t) == "chain depth K must be at least 1, got 0");
  t = RetrievalTask{};
  t.values = 1;
  CHECK(message(t) == "need at least 2 values, got 1");
  t = RetrievalTask{};
  t.variables = 0;
  CHECK(message(t) == "need at least 1 variable, got 0");

  t = RetrievalTask{};
  Buffers buf(t, 2);
  Rng rng(1);
  int len = 0;
  Status s = retrieval_batch(t, rng, 2, max_length(t) - 1, buf.view(), &len);
  CHECK(s.code() == Error::buffer_too_small);
  CHECK(std::string(s.message()) == "rows of 65 tokens are too short: 4 chains of depth up to 8 need 66");
  s = retrieval_batch(t, rng, 0, max_length(t), buf.view(), &len);
  CHECK(std::string(s.message()) == "batch must be at least 1, got 0");
  RetrievalBuffers missing = buf.view();
  missing.scratch = nullptr;
  CHECK(retrieval_batch(t, rng, 2, max_length(t), missing, &len).code() == Error::buffer_too_small);
  t.chains = 5;
  CHECK(retrieval_batch(t, rng, 2, 200, buf.view(), &len).code() == Error::bad_config);
}

TEST_CASE("drawing batches allocates nothing once the buffers exist") {
  RetrievalTask t;
  const int B = 32;
  Buffers buf(t, B);
  Rng rng(4);
  int len = 0;
  const long before = alloc_counter::allocations();
  for (int k = 0; k < 50; ++k) REQUIRE(retrieval_batch(t, rng, B, max_length(t), buf.view(), &len).is_ok());
  CHECK(alloc_counter::allocations() - before == 0);
}
