// 3-D convolution (NCDHW, float32, no dilation or groups) as im2col + OpenBLAS sgemm, for MindSpore's ops.Custom
// (func_type "aot") on CPU: the forward pass and both gradients.
//
// Why: MindSpore 2.10's CPU convolutions run oneDNN's gemm:jit under the AVX2 cap that src/runtime.py sets (with
// AVX-512 allowed, oneDNN falls back to reference kernels for NCDHW data). On AVX-512 CPUs OpenBLAS's SkylakeX sgemm
// is about twice as fast, and convolutions are 90% of a training step. 2-D convolutions use the same kernels with a
// depth of 1.
//
// config (int64[12]): kd kh kw sd sh sw, then the padding before and after each axis (d0 d1 h0 h1 w0 w1); d0 = -1
// means TF "SAME" on every axis (computed here from the input size, the odd pixel at the end).
//   Conv3dForward(x (N,C,D,H,W), w (O,C,kd,kh,kw), config) -> y (N,O,OD,OH,OW)
//   Conv3dGradInput(dy, w, x, config) -> dx (x is read for its shape only)
//   Conv3dGradFilter(x, dy, w, config) -> dw (w is read for its shape only)
// The library that holds cblas_sgemm (scipy-openblas32) is opened on first use from the path given at build time
// (MSV_OPENBLAS). OpenBLAS picks its kernels from the CPU, or from OPENBLAS_CORETYPE where that is set.
#include <dlfcn.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#ifndef MSV_OPENBLAS
#error "build with -DMSV_OPENBLAS=\"path of libscipy_openblas.so\""
#endif

namespace {

enum { kRowMajor = 101, kNoTrans = 111, kTrans = 112 };
using Sgemm = void (*)(int, int, int, int, int, int, float, const float *, int, const float *, int, float, float *,
                       int);
constexpr int64_t kColumnBytes = 8 << 20;  // the im2col buffer of one chunk of output rows
constexpr int64_t kMinPositions = 64;      // a chunk narrower than this makes the matrix product inefficient
constexpr int64_t kPartialThreads = 4;     // at most this many copies of an input gradient
constexpr int64_t kSmallPlane = 256;       // weight gradients of output planes up to this size split by channel
constexpr int64_t kSmallPlaneColumnBytes = 4 * kColumnBytes;  // ... with chunks up to this long

Sgemm sgemm = nullptr;

// OpenBLAS runs single-threaded and the kernels split their chunks over the cores themselves: its idle threads
// spin after each call and would starve the im2col work between calls.
bool load_blas() {
  static std::once_flag once;
  std::call_once(once, [] {
    void *handle = dlopen(MSV_OPENBLAS, RTLD_NOW | RTLD_LOCAL);
    if (!handle) return;
    auto set_threads = reinterpret_cast<void (*)(int)>(dlsym(handle, "scipy_openblas_set_num_threads"));
    if (set_threads) set_threads(1);
    sgemm = reinterpret_cast<Sgemm>(dlsym(handle, "scipy_cblas_sgemm"));
  });
  return sgemm != nullptr;
}

struct Geometry {
  int64_t n, c, d, h, w, o, kd, kh, kw, sd, sh, sw, pd, ph, pw, od, oh, ow;
  int64_t in_sample() const { return c * d * h * w; }
  int64_t out_plane() const { return od * oh * ow; }
  int64_t out_sample() const { return o * out_plane(); }
  int64_t taps() const { return c * kd * kh * kw; }  // K of the matrix product
  bool pointwise() const {  // a plain matrix product: the output plane is the input plane
    return kd == 1 && kh == 1 && kw == 1 && sd == 1 && sh == 1 && sw == 1 && pd == 0 && ph == 0 && pw == 0 &&
           od == d && oh == h && ow == w;
  }
  bool empty() const { return n == 0 || c == 0 || o == 0 || out_plane() == 0; }
};

int64_t same_before(int64_t size, int64_t kernel, int64_t stride) {
  const int64_t out = (size + stride - 1) / stride;
  return std::max<int64_t>((out - 1) * stride + kernel - size, 0) / 2;
}

Geometry geometry(const int64_t *x, const int64_t *weight, const int64_t *y, const int64_t *cfg) {
  Geometry g{x[0], x[1], x[2], x[3], x[4], weight[0], cfg[0], cfg[1], cfg[2], cfg[3], cfg[4], cfg[5],
             0, 0, 0, y[2], y[3], y[4]};
  if (cfg[6] < 0) {
    g.pd = same_before(g.d, g.kd, g.sd);
    g.ph = same_before(g.h, g.kh, g.sh);
    g.pw = same_before(g.w, g.kw, g.sw);
  } else {
    g.pd = cfg[6];
    g.ph = cfg[8];
    g.pw = cfg[10];
  }
  return g;
}

// The work is cut into chunks of whole output rows of one sample: chunk i covers rows [first, last) of sample n,
// a row being one (output frame, output line) pair. Pointwise convolutions cut positions instead of rows (no im2col).
struct Chunk {
  int64_t n, first, last;
};

std::vector<Chunk> chunks(const Geometry &g, int64_t threads, int64_t column_bytes = kColumnBytes) {
  const int64_t unit = g.pointwise() ? 1 : g.ow, units = g.out_plane() / unit;
  const int64_t row_bytes = sizeof(float) * (g.pointwise() ? 0 : g.taps() * g.ow);
  int64_t per_chunk = row_bytes ? std::max<int64_t>(1, column_bytes / row_bytes) : units;
  // Enough chunks for every thread when the sample allows it, none narrower than kMinPositions.
  const int64_t balanced = (g.n * units + threads - 1) / threads;
  per_chunk = std::min(per_chunk, std::max(balanced, (kMinPositions + unit - 1) / unit));
  std::vector<Chunk> out;
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t first = 0; first < units; first += per_chunk)
      out.push_back({n, first * unit, std::min(units, first + per_chunk) * unit});
  return out;
}

// MS_VIDEO_OPS_THREADS, else the machine's cores.
int64_t thread_count() {
  const char *chosen = std::getenv("MS_VIDEO_OPS_THREADS");
  const int64_t threads = chosen ? std::atoll(chosen) : int64_t(std::thread::hardware_concurrency());
  return std::max<int64_t>(1, threads);
}

// work(part) for every part of [0, parts) on its own thread.
template <typename Work>
void for_parts(int64_t parts, Work work) {
  std::vector<std::thread> pool;
  for (int64_t p = 1; p < parts; ++p) pool.emplace_back(work, p);
  work(0);
  for (auto &thread : pool) thread.join();
}

// work(thread, chunk) for every chunk on `threads` threads: chunks dealt round-robin, or with `by_sample` every
// chunk of a sample to one thread (contiguous runs of samples), so that threads never share a sample.
template <typename Work>
void for_chunks(const std::vector<Chunk> &all, int64_t threads, Work work, int64_t by_sample = 0) {
  auto run = [&](int64_t t) {
    for (size_t i = 0; i < all.size(); ++i) {
      const int64_t owner = by_sample ? all[i].n * threads / by_sample : int64_t(i % threads);
      if (owner == t) work(t, all[i]);
    }
  };
  for_parts(threads, run);
}

// The column matrix of output rows [r0, r1) of one sample (the positions of those rows, one column each; a row of
// the matrix per (c, kd, kh, kw)), for input channels [c0, c1). Scatter mode adds the columns back into the input
// gradient instead (col2im).
template <bool kScatter>
void columns(const Geometry &g, float *in, float *col, int64_t r0, int64_t r1, int64_t c0, int64_t c1) {
  const int64_t positions = (r1 - r0) * g.ow;
  for (int64_t c = c0; c < c1; ++c)
    for (int64_t a = 0; a < g.kd; ++a)
      for (int64_t b = 0; b < g.kh; ++b)
        for (int64_t e = 0; e < g.kw; ++e) {
          float *row = col + (((c * g.kd + a) * g.kh + b) * g.kw + e) * positions;
          // Output columns whose input w lies inside the frame: [ow0, ow1).
          const int64_t ow0 = std::min(g.ow, std::max<int64_t>(0, (g.pw - e + g.sw - 1) / g.sw));
          const int64_t ow1 = std::max(ow0, std::min(g.ow, (g.w + g.pw - e + g.sw - 1) / g.sw));
          for (int64_t r = r0; r < r1; ++r, row += g.ow) {
            const int64_t id = (r / g.oh) * g.sd - g.pd + a, ih = (r % g.oh) * g.sh - g.ph + b;
            if (id < 0 || id >= g.d || ih < 0 || ih >= g.h) {
              if (!kScatter) std::fill(row, row + g.ow, 0.0f);
              continue;
            }
            float *src = in + ((c * g.d + id) * g.h + ih) * g.w - g.pw + e;  // src[x * sw] is column x
            if (kScatter) {
              for (int64_t x = ow0; x < ow1; ++x) src[x * g.sw] += row[x];
              continue;
            }
            std::fill(row, row + ow0, 0.0f);
            if (g.sw == 1) {
              std::memcpy(row + ow0, src + ow0, sizeof(float) * (ow1 - ow0));
            } else {
              for (int64_t x = ow0; x < ow1; ++x) row[x] = src[x * g.sw];
            }
            std::fill(row + ow1, row + g.ow, 0.0f);
          }
        }
}

// Fewer chunks than threads (small output planes, such as ECO-lite's 7x7 3-D layers): the chunks are taken one after
// another and each chunk's matrix product is split over the threads instead, by output channel (forward pass, weight
// gradient) or input channel (input gradient), so that no two threads write the same element.
bool split_within_chunks(const std::vector<Chunk> &all, int64_t threads) { return int64_t(all.size()) < threads; }

// Part p of [0, total) cut into `parts` nearly equal ranges.
int64_t cut(int64_t total, int64_t parts, int64_t p) { return total * p / parts; }

// The column matrix of one chunk (the input itself for pointwise layers) and its leading dimension.
const float *chunk_columns(const Geometry &g, const float *in, const Chunk &k, std::vector<float> &col, int &ld) {
  const int positions = int(k.last - k.first);
  if (g.pointwise()) {
    ld = int(g.out_plane());
    return in + k.first;
  }
  col.resize(size_t(g.taps()) * positions);
  columns<false>(g, const_cast<float *>(in), col.data(), k.first / g.ow, k.last / g.ow, 0, g.c);
  ld = positions;
  return col.data();
}

void forward(const Geometry &g, const float *x, const float *weight, float *y) {
  const int O = int(g.o), K = int(g.taps()), plane = int(g.out_plane());
  const int64_t threads = thread_count();
  const std::vector<Chunk> all = chunks(g, threads);
  if (split_within_chunks(all, threads)) {
    std::vector<float> col;
    for (const Chunk &k : all) {
      int ld = 0;
      const float *b = chunk_columns(g, x + k.n * g.in_sample(), k, col, ld);
      float *out = y + k.n * g.out_sample() + k.first;
      for_parts(threads, [&](int64_t p) {
        const int64_t o0 = cut(O, threads, p), o1 = cut(O, threads, p + 1);
        if (o1 > o0)
          sgemm(kRowMajor, kNoTrans, kNoTrans, int(o1 - o0), int(k.last - k.first), K, 1.0f, weight + o0 * K, K, b,
                ld, 0.0f, out + o0 * plane, plane);
      });
    }
    return;
  }
  std::vector<std::vector<float>> col(threads);
  for_chunks(all, std::min<int64_t>(threads, all.size()), [&](int64_t t, const Chunk &k) {
    int ld = 0;
    const float *b = chunk_columns(g, x + k.n * g.in_sample(), k, col[t], ld);
    sgemm(kRowMajor, kNoTrans, kNoTrans, O, int(k.last - k.first), K, 1.0f, weight, K, b, ld, 0.0f,
          y + k.n * g.out_sample() + k.first, plane);
  });
}

// Neighbouring chunks of one sample overlap in the input they read, so threads work on whole samples where there
// are at least as many samples as threads; otherwise (up to kPartialThreads) threads after the first add into
// private buffers, summed at the end.
void grad_input(const Geometry &g, const float *dy, const float *weight, float *dx) {
  const int O = int(g.o), K = int(g.taps()), plane = int(g.out_plane());
  const int64_t threads = thread_count(), size = g.n * g.in_sample();
  const std::vector<Chunk> all = chunks(g, threads);
  if (split_within_chunks(all, threads)) {
    if (!g.pointwise()) std::memset(dx, 0, sizeof(float) * size);
    const int64_t per_channel = g.kd * g.kh * g.kw;
    std::vector<float> col;
    for (const Chunk &k : all) {
      const int positions = int(k.last - k.first);
      const float *grad = dy + k.n * g.out_sample() + k.first;
      float *target = dx + k.n * g.in_sample();
      if (!g.pointwise()) col.resize(size_t(K) * positions);
      for_parts(threads, [&](int64_t p) {
        const int64_t c0 = cut(g.c, threads, p), c1 = cut(g.c, threads, p + 1);
        if (c1 == c0) return;
        const int64_t k0 = c0 * per_channel, rows = (c1 - c0) * per_channel;
        if (g.pointwise()) {
          sgemm(kRowMajor, kTrans, kNoTrans, int(rows), positions, O, 1.0f, weight + k0, K, grad, plane, 0.0f,
                target + k0 * plane + k.first, plane);
          return;
        }
        sgemm(kRowMajor, kTrans, kNoTrans, int(rows), positions, O, 1.0f, weight + k0, K, grad, plane, 0.0f,
              col.data() + k0 * positions, positions);
        columns<true>(g, target, col.data(), k.first / g.ow, k.last / g.ow, c0, c1);
      });
    }
    return;
  }
  const bool by_sample = g.n >= std::min<int64_t>(threads, all.size());
  const int64_t used = std::min<int64_t>({threads, int64_t(all.size()), by_sample ? threads : kPartialThreads});
  std::vector<std::vector<float>> col(used), partial(g.pointwise() || by_sample ? 0 : used);
  if (!g.pointwise()) std::memset(dx, 0, sizeof(float) * size);
  for (int64_t t = 1; t < int64_t(partial.size()); ++t) partial[t].assign(size_t(size), 0.0f);
  for_chunks(all, used, [&](int64_t t, const Chunk &k) {
    const int positions = int(k.last - k.first);
    const float *grad = dy + k.n * g.out_sample() + k.first;
    if (g.pointwise()) {
      sgemm(kRowMajor, kTrans, kNoTrans, K, positions, O, 1.0f, weight, K, grad, plane, 0.0f,
            dx + k.n * g.in_sample() + k.first, plane);
      return;
    }
    col[t].resize(size_t(K) * positions);
    sgemm(kRowMajor, kTrans, kNoTrans, K, positions, O, 1.0f, weight, K, grad, plane, 0.0f, col[t].data(),
          positions);
    float *target = (t == 0 || partial.empty() ? dx : partial[t].data()) + k.n * g.in_sample();
    columns<true>(g, target, col[t].data(), k.first / g.ow, k.last / g.ow, 0, g.c);
  }, by_sample && !g.pointwise() ? g.n : 0);
  for (int64_t t = 1; t < int64_t(partial.size()); ++t)
    for (int64_t i = 0; i < size; ++i) dx[i] += partial[t][i];
}

// Each thread sums its chunks' weight gradients; the threads' sums are added at the end.
void grad_filter(const Geometry &g, const float *x, const float *dy, float *dw) {
  const int O = int(g.o), K = int(g.taps()), plane = int(g.out_plane());
  const int64_t threads = thread_count();
  const std::vector<Chunk> all = chunks(g, threads);
  // Small planes (ECO-lite's 7x7 layers): the product's inner dimension (positions) is short, so each thread's own
  // copy of the whole O x K gradient would cost more than the products, and short chunks make it shorter still. Here
  // the chunks are as long as a larger column buffer allows, the threads build each chunk's columns together (by
  // input channel) and split its product by output channel.
  if (split_within_chunks(all, threads) || plane <= kSmallPlane) {
    std::memset(dw, 0, sizeof(float) * O * K);
    std::vector<float> col;
    for (const Chunk &k : chunks(g, 1, kSmallPlaneColumnBytes)) {
      const float *in = x + k.n * g.in_sample(), *b = in + k.first;
      int ld = plane;
      if (!g.pointwise()) {
        col.resize(size_t(K) * (k.last - k.first));
        for_parts(threads, [&](int64_t p) {
          columns<false>(g, const_cast<float *>(in), col.data(), k.first / g.ow, k.last / g.ow, cut(g.c, threads, p),
                         cut(g.c, threads, p + 1));
        });
        b = col.data();
        ld = int(k.last - k.first);
      }
      const float *grad = dy + k.n * g.out_sample() + k.first;
      for_parts(threads, [&](int64_t p) {
        const int64_t o0 = cut(O, threads, p), o1 = cut(O, threads, p + 1);
        if (o1 > o0)
          sgemm(kRowMajor, kNoTrans, kTrans, int(o1 - o0), K, int(k.last - k.first), 1.0f, grad + o0 * plane, plane,
                b, ld, 1.0f, dw + o0 * K, K);
      });
    }
    return;
  }
  const int64_t used = std::min<int64_t>(threads, all.size());
  std::vector<std::vector<float>> col(used), sum(used, std::vector<float>(size_t(O) * K, 0.0f));
  for_chunks(all, used, [&](int64_t t, const Chunk &k) {
    int ld = 0;
    const float *b = chunk_columns(g, x + k.n * g.in_sample(), k, col[t], ld);
    sgemm(kRowMajor, kNoTrans, kTrans, O, K, int(k.last - k.first), 1.0f, dy + k.n * g.out_sample() + k.first, plane,
          b, ld, 1.0f, sum[t].data(), K);
  });
  for (int64_t i = 0; i < int64_t(O) * K; ++i) {
    float total = 0.0f;
    for (int64_t t = 0; t < used; ++t) total += sum[t][i];
    dw[i] = total;
  }
}

bool float32(const char *dtype) { return std::strcmp(dtype, "float32") == 0; }

}  // namespace

extern "C" int Conv3dForward(int nparam, void **params, int *ndims, int64_t **shapes, const char **dtypes,
                             void *stream, void *extra) {
  if (nparam != 4 || ndims[0] != 5 || ndims[1] != 5 || !float32(dtypes[0]) || !float32(dtypes[1])) return 1;
  if (!load_blas()) return 2;
  const Geometry g = geometry(shapes[0], shapes[1], shapes[3], static_cast<const int64_t *>(params[2]));
  if (g.empty()) return 0;
  forward(g, static_cast<const float *>(params[0]), static_cast<const float *>(params[1]),
          static_cast<float *>(params[3]));
  return 0;
}

extern "C" int Conv3dGradInput(int nparam, void **params, int *ndims, int64_t **shapes, const char **dtypes,
                               void *stream, void *extra) {
  if (nparam != 5 || ndims[0] != 5 || ndims[1] != 5 || !float32(dtypes[0]) || !float32(dtypes[1])) return 1;
  if (!load_blas()) return 2;
  const Geometry g = geometry(shapes[2], shapes[1], shapes[0], static_cast<const int64_t *>(params[3]));
  if (g.empty()) {
    std::memset(params[4], 0, sizeof(float) * g.n * g.in_sample());
    return 0;
  }
  grad_input(g, static_cast<const float *>(params[0]), static_cast<const float *>(params[1]),
             static_cast<float *>(params[4]));
  return 0;
}

extern "C" int Conv3dGradFilter(int nparam, void **params, int *ndims, int64_t **shapes, const char **dtypes,
                                void *stream, void *extra) {
  if (nparam != 5 || ndims[0] != 5 || ndims[1] != 5 || !float32(dtypes[0]) || !float32(dtypes[1])) return 1;
  if (!load_blas()) return 2;
  const Geometry g = geometry(shapes[0], shapes[2], shapes[1], static_cast<const int64_t *>(params[3]));
  if (g.empty()) {
    std::memset(params[4], 0, sizeof(float) * g.o * g.taps());
    return 0;
  }
  grad_filter(g, static_cast<const float *>(params[0]), static_cast<const float *>(params[1]),
              static_cast<float *>(params[4]));
  return 0;
}
