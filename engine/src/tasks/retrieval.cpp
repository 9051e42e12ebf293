#include "tinyloop/retrieval.hpp"

namespace tinyloop::retrieval {

namespace {

constexpr int kMaxVocab = 1 << 20;

// Scratch views: a permutation of the variables, the shuffled chain ids, and per chain its
// depth, root value, first variable slot and next statement.
struct Scratch {
  std::int32_t *perm, *order, *depth, *root, *first, *next;
};

Scratch split(const RetrievalTask& t, std::int32_t* s) {
  Scratch v;
  v.perm = s;
  v.order = v.perm + t.variables;
  v.depth = v.order + t.chains * t.max_depth;
  v.root = v.depth + t.chains;
  v.first = v.root + t.chains;
  v.next = v.first + t.chains;
  return v;
}

void shuffle(Rng& rng, std::int32_t* a, int n) {
  for (int i = n - 1; i > 0; --i) {
    const auto j = int(rng.uniform_int(std::uint32_t(i + 1)));
    const std::int32_t x = a[i];
    a[i] = a[j];
    a[j] = x;
  }
}

// Depths, roots and distinct variables of every chain; returns the number of statements.
int draw_chains(const RetrievalTask& t, Rng& rng, const Scratch& s) {
  int total = 0;
  for (int c = 0; c < t.chains; ++c) {
    s.depth[c] = all_depths_max(t) ? t.max_depth : 1 + std::int32_t(rng.uniform_int(std::uint32_t(t.max_depth)));
    s.root[c] = std::int32_t(rng.uniform_int(std::uint32_t(t.values)));
    s.first[c] = total;
    s.next[c] = 0;
    total += s.depth[c];
  }
  // A partial Fisher-Yates shuffle: perm[0..total) are distinct uniformly drawn variables.
  for (int i = 0; i < t.variables; ++i) s.perm[i] = i;
  for (int i = 0; i < total; ++i) {
    const int j = i + int(rng.uniform_int(std::uint32_t(t.variables - i)));
    const std::int32_t x = s.perm[i];
    s.perm[i] = s.perm[j];
    s.perm[j] = x;
  }
  int k = 0;
  for (int c = 0; c < t.chains; ++c)
    for (int h = 0; h < s.depth[c]; ++h) s.order[k++] = c;
  shuffle(rng, s.order, total);
  return total;
}

void set(const RetrievalBuffers& b, int i, std::int32_t token, std::int32_t label, bool counted, std::int32_t depth) {
  b.tokens[i] = token;
  b.labels[i] = counted ? label : -1;
  b.mask[i] = counted ? 1 : 0;
  b.depth[i] = counted ? depth : 0;
}

}  // namespace

Status validate(const RetrievalTask& t) {
  if (t.chains < 1) return Status::fail(Error::bad_config, "need at least 1 chain, got %d", t.chains);
  if (t.max_depth < 1) return Status::fail(Error::bad_config, "chain depth K must be at least 1, got %d", t.max_depth);
  if (t.values < 2) return Status::fail(Error::bad_config, "need at least 2 values, got %d", t.values);
  if (t.variables < 1) return Status::fail(Error::bad_config, "need at least 1 variable, got %d", t.variables);
  if (t.values > kMaxVocab || t.variables > kMaxVocab || t.chains > kMaxVocab || t.max_depth > kMaxVocab)
    return Status::fail(Error::bad_config, "sizes above %d are not supported", kMaxVocab);
  const long need = long(t.chains) * long(t.max_depth);
  if (need > t.variables)
    return Status::fail(Error::bad_config, "%d chains of depth up to %d need %ld distinct variables, only %d exist",
                        t.chains, t.max_depth, need, t.variables);
  return Status::ok();
}

int retrieval_instance(const RetrievalTask& t, Rng& rng, RetrievalBuffers buf) {
  const Scratch s = split(t, buf.scratch);
  const int statements = draw_chains(t, rng, s);
  const bool every = t.curriculum;
  int pos = 0;
  for (int k = 0; k < statements; ++k) {
    const int c = s.order[k];
    const int h = s.next[c]++;  // 0-based: the statement defines u_{h+1}
    const std::int32_t* u = s.perm + s.first[c];
    const std::int32_t right = h == 0 ? s.root[c] : t.values + u[h - 1];
    set(buf, pos++, t.values + u[h], -1, false, 0);
    set(buf, pos++, right, s.root[c], every, h + 1);
  }
  const auto q = int(rng.uniform_int(std::uint32_t(t.chains)));
  set(buf, pos++, query_token(t), -1, false, 0);
  set(buf, pos++, t.values + s.perm[s.first[q] + s.depth[q] - 1], s.root[q], true, s.depth[q]);
  return pos;
}

Status retrieval_batch(const RetrievalTask& t, Rng& rng, int batch, int stride, RetrievalBuffers buf, int* len) {
  TINYLOOP_TRY(validate(t));
  if (batch < 1) return Status::fail(Error::bad_config, "batch must be at least 1, got %d", batch);
  if (stride < max_length(t))
    return Status::fail(Error::buffer_too_small, "rows of %d tokens are too short: %d chains of depth up to %d need %d",
                        stride, t.chains, t.max_depth, max_length(t));
  if (!buf.tokens || !buf.labels || !buf.mask || !buf.depth || !buf.scratch || !len)
    return Status::fail(Error::buffer_too_small, "retrieval_batch needs tokens, labels, mask, depth and scratch buffers");
  int longest = 0;
  for (int b = 0; b < batch; ++b) {
    RetrievalBuffers row = buf;
    const std::size_t at = std::size_t(b) * std::size_t(stride);
    row.tokens += at;
    row.labels += at;
    row.mask += at;
    row.depth += at;
    const int n = retrieval_instance(t, rng, row);
    if (n > longest) longest = n;
  }
  // Pack the rows to stride `longest` (forward copies: a row only moves towards the front) and pad.
  // A row's length is found again from its one `?`, the second-last token.
  for (int b = 0; b < batch; ++b) {
    const std::size_t from = std::size_t(b) * std::size_t(stride), to = std::size_t(b) * std::size_t(longest);
    int n = 2;
    while (buf.tokens[from + std::size_t(n) - 2] != query_token(t)) n += 2;
    if (buf.lengths) buf.lengths[b] = n;
    for (int i = 0; i < longest; ++i) {
      const bool real = i < n;
      buf.tokens[to + i] = real ? buf.tokens[from + i] : query_token(t);
      buf.labels[to + i] = real ? buf.labels[from + i] : -1;
      buf.mask[to + i] = real ? buf.mask[from + i] : 0;
      buf.depth[to + i] = real ? buf.depth[from + i] : 0;
    }
  }
  *len = longest;
  return Status::ok();
}

}  // namespace tinyloop::retrieval
