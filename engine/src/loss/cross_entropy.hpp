#pragma once
// Softmax cross-entropy of one position: returns the loss, writes (softmax - onehot) * scale
// into dlogits when asked.
#include <cmath>

namespace tinyloop::loss {

template <class T>
inline T cross_entropy(const T* logits, int classes, int target, T scale, T* dlogits) {
  T m = logits[0];
  for (int c = 1; c < classes; ++c) m = logits[c] > m ? logits[c] : m;
  T sum = 0;
  for (int c = 0; c < classes; ++c) {
    const T e = std::exp(logits[c] - m);
    if (dlogits) dlogits[c] = e;  // one exponential per class: the softmax is e / sum
    sum += e;
  }
  const T lse = m + std::log(sum);
  if (dlogits) {
    const T factor = scale / sum;
    for (int c = 0; c < classes; ++c) dlogits[c] *= factor;
    dlogits[target] -= scale;
  }
  return lse - logits[target];
}

template <class T>
inline int argmax(const T* v, int count) {
  int best = 0;
  for (int c = 1; c < count; ++c)
    if (v[c] > v[best]) best = c;
  return best;
}

}  // namespace tinyloop::loss
