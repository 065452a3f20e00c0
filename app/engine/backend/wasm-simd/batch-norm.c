// Batch normalisation in training mode over the channels of an NHWC float32 tensor, in two
// passes each way (statistics, then the elementwise step) where composite tensor ops need about
// seven. Squares and sums are float64, so the variance from E[x^2] - E[x]^2 keeps its precision
// even for a channel whose mean is thousands of times its spread, and the elementwise passes work
// on x - mean rather than x, so that no large terms cancel in float32. Pointers are byte offsets
// into the host's heap (see winograd-f43.c); `channels` is a multiple of 4 and `sums` has room for
// 2 * channels doubles.

#include <wasm_simd128.h>

#define UNROLL _Pragma("clang loop unroll(full)")

// The four float32 lanes of `v` as two float64 pairs.
static inline void promote(v128_t v, v128_t *low, v128_t *high) {
  *low = wasm_f64x2_promote_low_f32x4(v);
  *high = wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(v, v, 2, 3, 0, 1));
}

// Adds two float64 pairs to sums[0..3].
static inline void accumulate(double *sums, v128_t low, v128_t high) {
  wasm_v128_store(sums, wasm_f64x2_add(wasm_v128_load(sums), low));
  wasm_v128_store(sums + 2, wasm_f64x2_add(wasm_v128_load(sums + 2), high));
}

static void clear(double *sums, int count) {
  for (int i = 0; i < count; i += 2) wasm_v128_store(sums + i, wasm_f64x2_splat(0.0));
}

// Forward: mean and biased variance per channel, inverse_std = 1 / sqrt(variance + epsilon),
// y = (x - mean) * inverse_std * gamma + beta. `scale` has room for `channels` floats.
__attribute__((export_name("batch_norm_forward")))
void batch_norm_forward(const float *x, float *y, int pixels, int channels, const float *gamma, const float *beta,
                        float epsilon, float *mean, float *variance, float *inverse_std, double *sums,
                        float *scale) {
  double *sum = sums, *square_sum = sums + channels;
  clear(sums, 2 * channels);
  for (int p = 0; p < pixels; p++) {
    const float *row = x + p * channels;
    for (int c = 0; c < channels; c += 4) {
      v128_t low, high;
      promote(wasm_v128_load(row + c), &low, &high);
      accumulate(sum + c, low, high);
      accumulate(square_sum + c, wasm_f64x2_mul(low, low), wasm_f64x2_mul(high, high));
    }
  }
  for (int c = 0; c < channels; c++) {
    const double m = sum[c] / pixels;
    double var = square_sum[c] / pixels - m * m;
    if (var < 0) var = 0;
    const float inverse = 1.0f / __builtin_sqrtf((float)var + epsilon);
    mean[c] = (float)m;
    variance[c] = (float)var;
    inverse_std[c] = inverse;
    scale[c] = inverse * gamma[c];
  }
  for (int p = 0; p < pixels; p++) {
    const float *in = x + p * channels;
    float *out = y + p * channels;
    for (int c = 0; c < channels; c += 4) {
      const v128_t centred = wasm_f32x4_sub(wasm_v128_load(in + c), wasm_v128_load(mean + c));
      const v128_t v = wasm_f32x4_add(wasm_f32x4_mul(centred, wasm_v128_load(scale + c)), wasm_v128_load(beta + c));
      wasm_v128_store(out + c, v);
    }
  }
}

// Backward: with x^ = (x - mean) * inverse_std and s = gamma * inverse_std,
//   dgamma = sum(dy * x^), dbeta = sum(dy),
//   dx = s * (dy - dbeta / pixels - x^ * dgamma / pixels),
// written as dx = dy * s + (x - mean) * a + b per channel. `coefficients` has room for 3 * channels floats.
__attribute__((export_name("batch_norm_backward")))
void batch_norm_backward(const float *dy, const float *x, int pixels, int channels, const float *mean,
                         const float *inverse_std, const float *gamma, float *dx, float *dgamma, float *dbeta,
                         double *sums, float *coefficients) {
  double *dy_sum = sums, *dy_x_sum = sums + channels;
  clear(sums, 2 * channels);
  for (int p = 0; p < pixels; p++) {
    const float *g = dy + p * channels;
    const float *in = x + p * channels;
    for (int c = 0; c < channels; c += 4) {
      v128_t d_low, d_high, x_low, x_high;
      promote(wasm_v128_load(g + c), &d_low, &d_high);
      promote(wasm_f32x4_sub(wasm_v128_load(in + c), wasm_v128_load(mean + c)), &x_low, &x_high);
      accumulate(dy_sum + c, d_low, d_high);
      accumulate(dy_x_sum + c, wasm_f64x2_mul(d_low, x_low), wasm_f64x2_mul(d_high, x_high));
    }
  }
  float *s = coefficients, *a = coefficients + channels, *b = coefficients + 2 * channels;
  for (int c = 0; c < channels; c++) {
    const double inverse = inverse_std[c];
    const double scale = gamma[c] * inverse;
    const double centred_sum = dy_x_sum[c] * inverse;  // sum(dy * x^)
    const double x_weight = -scale * inverse * centred_sum / pixels;
    dgamma[c] = (float)centred_sum;
    dbeta[c] = (float)dy_sum[c];
    s[c] = (float)scale;
    a[c] = (float)x_weight;
    b[c] = (float)(-scale * dy_sum[c] / pixels);
  }
  for (int p = 0; p < pixels; p++) {
    const float *g = dy + p * channels;
    const float *in = x + p * channels;
    float *out = dx + p * channels;
    for (int c = 0; c < channels; c += 4) {
      const v128_t v = wasm_f32x4_add(
          wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(g + c), wasm_v128_load(s + c)),
                         wasm_f32x4_mul(wasm_f32x4_sub(wasm_v128_load(in + c), wasm_v128_load(mean + c)), wasm_v128_load(a + c))),
          wasm_v128_load(b + c));
      wasm_v128_store(out + c, v);
    }
  }
}
