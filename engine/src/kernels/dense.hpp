#pragma once
// y = x W + b for one token, with W stored in x out (row-major), and its backward.
// The widths are compile-time so the compiler fully unrolls and vectorises.
namespace tinyloop::kernels {

template <int IN, int OUT, class T>
inline void dense_forward(const T* x, const T* W, const T* b, T* y) {
  T acc[OUT];
  for (int o = 0; o < OUT; ++o) acc[o] = b ? b[o] : T(0);
  for (int i = 0; i < IN; ++i) {
    const T xi = x[i];
    const T* w = W + i * OUT;
    for (int o = 0; o < OUT; ++o) acc[o] += xi * w[o];
  }
  for (int o = 0; o < OUT; ++o) y[o] = acc[o];
}

// Runtime output width (the read-out, OUT = vocab_out).
template <int IN, class T>
inline void dense_forward_n(const T* x, const T* W, const T* b, T* y, int out) {
  for (int o = 0; o < out; ++o) y[o] = b ? b[o] : T(0);
  for (int i = 0; i < IN; ++i) {
    const T xi = x[i];
    const T* w = W + i * out;
    for (int o = 0; o < out; ++o) y[o] += xi * w[o];
  }
}

template <int IN, class T>
inline void dense_backward_n(const T* x, const T* W, const T* dy, T* dW, T* db, T* dx, int out) {
  if (db)
    for (int o = 0; o < out; ++o) db[o] += dy[o];
  for (int i = 0; i < IN; ++i) {
    const T xi = x[i];
    const T* w = W + i * out;
    T* dw = dW + i * out;
    T s = 0;
    for (int o = 0; o < out; ++o) {
      dw[o] += xi * dy[o];
      s += w[o] * dy[o];
    }
    if (dx) dx[i] += s;
  }
}

}  // namespace tinyloop::kernels
