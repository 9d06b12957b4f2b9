// Gradient of a 3-D max-pool (NCDHW, float32; TF-SAME or VALID) for MindSpore's ops.Custom (func_type "aot") on CPU.
// 2-D pools use it with a depth of 1.
//
// MindSpore 2.10's CPU MaxPool3DGrad is slow (a third of an I3D training step); this kernel recomputes each
// window's argmax from the input and adds the output gradient there. Ties go to the first element in (d, h, w)
// order, as MindSpore's kernel does, so the result is identical. Per (n, c) plane the input is copied into a
// -inf padded buffer and the max is taken axis by axis (w, then h, then d) over contiguous rows, keeping the
// position of the first maximum at each stage; first-wins per axis in that order is first-wins in (d, h, w).
//
// params: x (N,C,D,H,W), dy (N,C,OD,OH,OW), config (int64[7]: kd kh kw sd sh sw valid) | dx (N,C,D,H,W)
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <thread>
#include <vector>

namespace {

constexpr int64_t kElementsPerThread = 1 << 16;

struct Axis {
  int64_t size, kernel, stride, out, pad, padded;  // padded: extent of the padded input that the windows cover
};

// TF "SAME" (-inf padding, the odd one at the end) or, with `valid`, no padding and only whole windows.
Axis pool_axis(int64_t size, int64_t kernel, int64_t stride, bool valid) {
  if (valid) {
    const int64_t out = (size - kernel) / stride + 1;
    return {size, kernel, stride, out, 0, size};
  }
  int64_t out = (size + stride - 1) / stride;
  int64_t total = std::max<int64_t>((out - 1) * stride + kernel - size, 0);
  return {size, kernel, stride, out, total / 2, std::max((out - 1) * stride + kernel, size + total / 2)};
}

// Max over one axis: out[o * inner + i] = max_k in[(o * stride + k) * inner + i] for o < count, i < inner, with the
// index of the first maximum taken from in_idx (or the position itself when in_idx is null) into out_idx.
__attribute__((target_clones("avx2", "default")))
void max_along(const float *in, const int32_t *in_idx, int64_t count, int64_t kernel, int64_t stride, int64_t inner,
               float *out, int32_t *out_idx, int64_t position_scale) {
  for (int64_t o = 0; o < count; ++o) {
    float *best = out + o * inner;
    int32_t *where = out_idx + o * inner;
    const int64_t first = o * stride;
    const float *row = in + first * inner;
    if (in_idx) {
      const int32_t *irow = in_idx + first * inner;
      for (int64_t i = 0; i < inner; ++i) { best[i] = row[i]; where[i] = irow[i] + int32_t(first * position_scale); }
    } else {
      for (int64_t i = 0; i < inner; ++i) { best[i] = row[i]; where[i] = int32_t(first * position_scale); }
    }
    for (int64_t k = 1; k < kernel; ++k) {
      const float *next = in + (first + k) * inner;
      const int32_t base = int32_t((first + k) * position_scale);
      if (in_idx) {
        const int32_t *inext = in_idx + (first + k) * inner;
        for (int64_t i = 0; i < inner; ++i) {
          bool more = next[i] > best[i];
          best[i] = more ? next[i] : best[i];
          where[i] = more ? inext[i] + base : where[i];
        }
      } else {
        for (int64_t i = 0; i < inner; ++i) {
          bool more = next[i] > best[i];
          best[i] = more ? next[i] : best[i];
          where[i] = more ? base : where[i];
        }
      }
    }
  }
}

// Max along the innermost (w) axis of `rows` rows of length `width`: out has `count` values per row.
__attribute__((target_clones("avx2", "default")))
void max_along_w(const float *in, int64_t rows, int64_t width, int64_t count, int64_t kernel, int64_t stride,
                 float *out, int32_t *out_idx) {
  for (int64_t r = 0; r < rows; ++r) {
    const float *row = in + r * width;
    float *best = out + r * count;
    int32_t *where = out_idx + r * count;
    for (int64_t o = 0; o < count; ++o) { best[o] = row[o * stride]; where[o] = int32_t(o * stride); }
    for (int64_t k = 1; k < kernel; ++k)
      for (int64_t o = 0; o < count; ++o) {
        float v = row[o * stride + k];
        bool more = v > best[o];
        best[o] = more ? v : best[o];
        where[o] = more ? int32_t(o * stride + k) : where[o];
      }
  }
}

void plane_grad(const float *x, const float *dy, float *dx, const Axis &d, const Axis &h, const Axis &w,
                std::vector<float> &buf, std::vector<int32_t> &idx) {
  const int64_t padded = d.padded * h.padded * w.padded;
  const int64_t stage_w = d.padded * h.padded * w.out, stage_h = d.padded * h.out * w.out;
  buf.resize(padded + stage_w + stage_h + d.out * h.out * w.out);
  idx.resize(std::max(padded, stage_w + stage_h + d.out * h.out * w.out));
  float *p = buf.data(), *a = p + padded, *b = a + stage_w, *c = b + stage_h;
  int32_t *ia = idx.data(), *ib = ia + stage_w, *ic = ib + stage_h;
  std::fill(p, p + padded, -std::numeric_limits<float>::infinity());
  for (int64_t i = 0; i < d.size; ++i)
    for (int64_t j = 0; j < h.size; ++j)
      std::memcpy(p + ((i + d.pad) * h.padded + j + h.pad) * w.padded + w.pad, x + (i * h.size + j) * w.size,
                  sizeof(float) * w.size);
  max_along_w(p, d.padded * h.padded, w.padded, w.out, w.kernel, w.stride, a, ia);
  for (int64_t i = 0; i < d.padded; ++i)
    max_along(a + i * h.padded * w.out, ia + i * h.padded * w.out, h.out, h.kernel, h.stride, w.out,
              b + i * h.out * w.out, ib + i * h.out * w.out, w.padded);
  max_along(b, ib, d.out, d.kernel, d.stride, h.out * w.out, c, ic, h.padded * w.padded);
  // Scatter into the padded gradient (reusing the padded buffer), then copy its interior out.
  std::fill(p, p + padded, 0.0f);
  const int64_t outputs = d.out * h.out * w.out;
  for (int64_t o = 0; o < outputs; ++o) p[ic[o]] += dy[o];
  for (int64_t i = 0; i < d.size; ++i)
    for (int64_t j = 0; j < h.size; ++j)
      std::memcpy(dx + (i * h.size + j) * w.size, p + ((i + d.pad) * h.padded + j + h.pad) * w.padded + w.pad,
                  sizeof(float) * w.size);
}

}  // namespace

extern "C" int MaxPool3dSameGrad(int nparam, void **params, int *ndims, int64_t **shapes, const char **dtypes,
                                 void *stream, void *extra) {
  if (nparam != 4 || ndims[0] != 5 || ndims[1] != 5) return 1;
  const float *x = static_cast<const float *>(params[0]);
  const float *dy = static_cast<const float *>(params[1]);
  const int64_t *cfg = static_cast<const int64_t *>(params[2]);
  float *dx = static_cast<float *>(params[3]);
  const int64_t *xs = shapes[0];
  const bool valid = cfg[6] != 0;
  const Axis d = pool_axis(xs[2], cfg[0], cfg[3], valid), h = pool_axis(xs[3], cfg[1], cfg[4], valid),
             w = pool_axis(xs[4], cfg[2], cfg[5], valid);
  if (shapes[1][2] != d.out || shapes[1][3] != h.out || shapes[1][4] != w.out) return 2;
  if (d.padded * h.padded * w.padded > std::numeric_limits<int32_t>::max()) return 3;
  const int64_t planes = xs[0] * xs[1], in_plane = xs[2] * xs[3] * xs[4], out_plane = d.out * h.out * w.out;
  // Threads only for work worth their start-up (~50 us each); MindSpore's own pool may still hold the cores.
  const int64_t threads = std::min<int64_t>({std::max(1u, std::thread::hardware_concurrency()), planes,
                                             std::max<int64_t>(1, planes * in_plane / kElementsPerThread)});
  auto work = [&](int64_t lo, int64_t hi) {
    std::vector<float> buf;
    std::vector<int32_t> idx;
    for (int64_t q = lo; q < hi; ++q)
      plane_grad(x + q * in_plane, dy + q * out_plane, dx + q * in_plane, d, h, w, buf, idx);
  };
  if (threads <= 1) {
    work(0, planes);
    return 0;
  }
  std::vector<std::thread> pool;
  const int64_t chunk = (planes + threads - 1) / threads;
  for (int64_t t = 1; t < threads; ++t)
    if (t * chunk < planes) pool.emplace_back(work, t * chunk, std::min(planes, (t + 1) * chunk));
  work(0, std::min(planes, chunk));
  for (auto &thread : pool) thread.join();
  return 0;
}
