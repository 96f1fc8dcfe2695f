#include "model/fused_ops.h"

#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include <cmath>

namespace longrope {
namespace {

bool UseCpuKernel(const at::Tensor& x, const at::Tensor& w) {
  return x.device().is_cpu() && x.scalar_type() == at::kFloat && w.scalar_type() == at::kFloat;
}

// Rows of `hidden` floats: y = w * x * r with r = 1/sqrt(mean(x^2) + eps); r saved for backward.
void RmsNormForwardCpu(const float* x, const float* w, float* y, float* r, int64_t rows, int64_t hidden, double eps) {
  at::parallel_for(0, rows, 16, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const float* xi = x + i * hidden;
      float* yi = y + i * hidden;
      float ss = 0;
      for (int64_t j = 0; j < hidden; ++j) ss += xi[j] * xi[j];
      const float ri = 1.0f / std::sqrt(ss / static_cast<float>(hidden) + static_cast<float>(eps));
      r[i] = ri;
      for (int64_t j = 0; j < hidden; ++j) yi[j] = w[j] * (xi[j] * ri);
    }
  });
}

// dx = r * (g*w) - x * r^3 * mean(g*w*x);  dw = sum_rows g * x * r (per-thread partials, then summed).
void RmsNormBackwardCpu(const float* g, const float* x, const float* w, const float* r, float* dx, float* dw,
                        int64_t rows, int64_t hidden) {
  const int threads = at::get_num_threads();
  std::vector<float> partial(static_cast<size_t>(threads) * hidden, 0.0f);
  const int64_t per = (rows + threads - 1) / threads;
  at::parallel_for(0, threads, 1, [&](int64_t tb, int64_t te) {
    for (int64_t t = tb; t < te; ++t) {
      float* pw = partial.data() + t * hidden;
      for (int64_t i = t * per; i < std::min(rows, (t + 1) * per); ++i) {
        const float* gi = g + i * hidden;
        const float* xi = x + i * hidden;
        float* dxi = dx + i * hidden;
        const float ri = r[i];
        float dot = 0;
        for (int64_t j = 0; j < hidden; ++j) dot += gi[j] * w[j] * xi[j];
        const float c = ri * ri * ri * dot / static_cast<float>(hidden);
        for (int64_t j = 0; j < hidden; ++j) {
          dxi[j] = ri * gi[j] * w[j] - xi[j] * c;
          pw[j] += gi[j] * xi[j] * ri;
        }
      }
    }
  });
  for (int64_t j = 0; j < hidden; ++j) {
    float s = 0;
    for (int t = 0; t < threads; ++t) s += partial[static_cast<size_t>(t) * hidden + j];
    dw[j] = s;
  }
}

class RmsNormFunction : public torch::autograd::Function<RmsNormFunction> {
 public:
  static torch::autograd::variable_list forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x_in,
                                                const at::Tensor& w, double eps) {
    const at::Tensor x = x_in.contiguous();
    const int64_t hidden = x.size(-1), rows = x.numel() / hidden;
    at::Tensor y = at::empty_like(x), r = at::empty({rows}, x.options());
    RmsNormForwardCpu(x.data_ptr<float>(), w.contiguous().data_ptr<float>(), y.data_ptr<float>(), r.data_ptr<float>(),
                      rows, hidden, eps);
    ctx->save_for_backward({x, w, r});
    return {y};
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    auto saved = ctx->get_saved_variables();
    const at::Tensor& x = saved[0];
    const at::Tensor w = saved[1].contiguous();
    const at::Tensor g = grads[0].contiguous();
    const int64_t hidden = x.size(-1), rows = x.numel() / hidden;
    at::Tensor dx = at::empty_like(x), dw = at::empty_like(w);
    RmsNormBackwardCpu(g.data_ptr<float>(), x.data_ptr<float>(), w.data_ptr<float>(), saved[2].data_ptr<float>(),
                       dx.data_ptr<float>(), dw.data_ptr<float>(), rows, hidden);
    return {dx, dw, at::Tensor()};
  }
};

class SwiGluFunction : public torch::autograd::Function<SwiGluFunction> {
 public:
  static torch::autograd::variable_list forward(torch::autograd::AutogradContext* ctx, const at::Tensor& gate,
                                                const at::Tensor& up) {
    ctx->save_for_backward({gate, up});
    return {at::silu(gate).mul_(up)};
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    auto saved = ctx->get_saved_variables();
    const at::Tensor& gate = saved[0];
    const at::Tensor& up = saved[1];
    // ATen's own fused silu_backward, fed with the gradient at silu's output (grad * up).
    at::Tensor d_gate = at::silu_backward(grads[0] * up, gate);
    at::Tensor d_up = grads[0] * at::silu(gate);
    return {d_gate, d_up};
  }
};

}  // namespace

at::Tensor RmsNormReference(const at::Tensor& x, const at::Tensor& weight, double eps) {
  at::Tensor xf = x.to(at::kFloat);
  at::Tensor normed = xf * at::rsqrt(xf.pow(2).mean(-1, /*keepdim=*/true) + eps);
  return weight * normed.to(x.scalar_type());
}

at::Tensor FusedRmsNorm(const at::Tensor& x, const at::Tensor& weight, double eps) {
  if (!UseCpuKernel(x, weight)) return RmsNormReference(x, weight, eps);
  return RmsNormFunction::apply(x, weight, eps)[0];
}

at::Tensor FusedSwiGlu(const at::Tensor& gate, const at::Tensor& up) {
  if (!at::GradMode::is_enabled() || (!gate.requires_grad() && !up.requires_grad())) return at::silu(gate).mul_(up);
  return SwiGluFunction::apply(gate, up)[0];
}

}  // namespace longrope
