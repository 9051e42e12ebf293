#pragma once
// The retrieval problem (SPEC §4.2, after arXiv 2411.12118; tinyloop's reconstruction, not the
// paper's exact layout). Vocabulary: values 0..N_val-1, variables N_val..N_val+N_var-1, then the
// query token `?`; V_in = V_out = N_val + N_var + 1.
//
// An instance: m chains with distinct variables; chain c has a uniform root value v_c and depth
// k_c uniform in 1..K (or K for every chain); its statements (u_1, v_c), (u_2, u_1), ..,
// (u_k, u_{k-1}) are two tokens each, left side first. The statements of all chains are
// interleaved uniformly at random keeping each chain's order (a Fisher-Yates shuffle of the
// multiset of chain ids), then `?` and q, the last variable of a uniformly chosen chain.
// Targets (curriculum on): at the right-side token of every statement the value of its left-side
// variable, and at q's token the value of q; mask 1 exactly there, label -1 elsewhere. Curriculum
// off: every chain has depth K and only the query has a target. depth: h at the right-side token
// of (u_h, .), k_c at the query, 0 where there is no target.
//
// Instances differ in length (2 sum k_c + 2). A batch is right-padded to its longest instance
// with `?`, label -1, mask 0, depth 0. Padding is harmless: attention is causal, so no real
// position sees a padded one, and padded positions are never counted.
//
// All draws come from the engine's Rng (PCG32): the same instances on every platform. Buffers
// are the caller's; drawing allocates nothing.
#include <cstddef>
#include <cstdint>

#include "tinyloop/rng.hpp"
#include "tinyloop/status.hpp"

namespace tinyloop::retrieval {

struct RetrievalTask {
  int values = 8;      // N_val
  int variables = 32;  // N_var
  int chains = 4;      // m
  int max_depth = 8;   // K
  bool fixed_depth = false;  // every chain has depth K
  bool curriculum = true;    // off: every chain has depth K, the query is the only target
};

Status validate(const RetrievalTask& t);

inline int vocab(const RetrievalTask& t) { return t.values + t.variables + 1; }
inline int query_token(const RetrievalTask& t) { return t.values + t.variables; }
inline bool all_depths_max(const RetrievalTask& t) { return t.fixed_depth || !t.curriculum; }
// Longest instance: 2 m K + 2 tokens.
inline int max_length(const RetrievalTask& t) { return 2 * t.chains * t.max_depth + 2; }
// int32 entries of scratch that drawing needs.
inline std::size_t scratch_size(const RetrievalTask& t) {
  return std::size_t(t.variables) + std::size_t(t.chains) * std::size_t(t.max_depth) + 4 * std::size_t(t.chains);
}

// Per-position outputs; each array holds rows of `stride` entries (stride >= max_length).
struct RetrievalBuffers {
  std::int32_t* tokens = nullptr;
  std::int32_t* labels = nullptr;  // value ids, -1 where there is no target
  std::uint8_t* mask = nullptr;
  std::int32_t* depth = nullptr;
  std::int32_t* scratch = nullptr;  // scratch_size(task) entries
  std::int32_t* lengths = nullptr;  // optional (retrieval_batch): each row's length, batch entries
};

// One instance into row 0 of the buffers; returns its length. The task must be valid.
int retrieval_instance(const RetrievalTask& t, Rng& rng, RetrievalBuffers buf);

// `batch` instances, padded to the longest with the query token (not counted), stored batch x
// *len contiguously (row b at b * *len), and each row's own length in `lengths` when given
// (ModelBatch::lengths, so that the padding is not computed). Buffers hold batch * stride entries
// (scratch: scratch_size). Refuses a bad task, a stride below max_length and missing buffers.
Status retrieval_batch(const RetrievalTask& t, Rng& rng, int batch, int stride, RetrievalBuffers buf, int* len);

}  // namespace tinyloop::retrieval
