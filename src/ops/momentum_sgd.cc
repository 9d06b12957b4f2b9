// One SGD-with-momentum step of one parameter, in place, for MindSpore's ops.Custom (func_type "aot") on CPU.
//
// torch.optim.SGD's step (dampening 0) on a clipped gradient: g' = factor * g + decay * p; a = m * a + g';
// p -= lr * a, or with Nesterov p -= lr * (g' + m * a). One pass over p, a and g instead of MindSpore's ApplyMomentum
// plus ApplyGradientDescent calls, whose CPU kernel writes a full-size output besides updating its variable.
// The parameter and its buffer are written through their input pointers: the op is marked as writing memory and
// waits for every gradient (src/ops/momentum_sgd.py, src/engine/optimizers.py), so it runs after each read.
//
// params: parameter, accum (same shape), gradient (same shape), learning_rate (1 element), factor (1 element),
//         config (float32[3]: momentum, decay, nesterov 0/1) | done (float32[1], set to 1)
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

namespace {

constexpr int64_t kElementsPerThread = 1 << 18;

bool float32(const char *dtype) { return std::strcmp(dtype, "float32") == 0; }

int64_t elements(int ndim, const int64_t *shape) {
  int64_t n = 1;
  for (int i = 0; i < ndim; ++i) n *= shape[i];
  return n;
}

struct Step {
  float lr, factor, momentum, decay;
  bool nesterov;
};

__attribute__((target_clones("avx2", "default")))
void update(const Step &s, float *p, float *a, const float *g, int64_t lo, int64_t hi) {
  if (s.nesterov) {
    for (int64_t i = lo; i < hi; ++i) {
      const float step = s.factor * g[i] + s.decay * p[i];
      const float buffer = s.momentum * a[i] + step;
      a[i] = buffer;
      p[i] -= s.lr * (step + s.momentum * buffer);
    }
  } else {
    for (int64_t i = lo; i < hi; ++i) {
      const float buffer = s.momentum * a[i] + (s.factor * g[i] + s.decay * p[i]);
      a[i] = buffer;
      p[i] -= s.lr * buffer;
    }
  }
}

}  // namespace

extern "C" int MomentumSgdUpdate(int nparam, void **params, int *ndims, int64_t **shapes, const char **dtypes,
                                 void *stream, void *extra) {
  if (nparam != 7) return 1;
  for (int i = 0; i < 7; ++i)
    if (!float32(dtypes[i])) return 2;
  const int64_t n = elements(ndims[0], shapes[0]);
  if (elements(ndims[1], shapes[1]) != n || elements(ndims[2], shapes[2]) != n || elements(ndims[5], shapes[5]) != 3)
    return 3;
  const float *config = static_cast<const float *>(params[5]);
  const Step s{static_cast<const float *>(params[3])[0], static_cast<const float *>(params[4])[0], config[0],
               config[1], config[2] != 0.0f};
  float *p = static_cast<float *>(params[0]);
  float *a = static_cast<float *>(params[1]);
  const float *g = static_cast<const float *>(params[2]);
  // The pass is memory-bound: a second thread helps on large tensors only (~50 us to start one).
  const int64_t threads = std::min<int64_t>(std::max(1u, std::thread::hardware_concurrency()),
                                            std::max<int64_t>(1, n / kElementsPerThread));
  const int64_t chunk = (n + threads - 1) / threads;
  std::vector<std::thread> pool;
  for (int64_t t = 1; t < threads; ++t)
    pool.emplace_back(update, std::cref(s), p, a, g, t * chunk, std::min(n, (t + 1) * chunk));
  update(s, p, a, g, 0, std::min(n, chunk));
  for (auto &thread : pool) thread.join();
  static_cast<float *>(params[6])[0] = 1.0f;
  return 0;
}
