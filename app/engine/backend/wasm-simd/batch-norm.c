// Batch normalisation in training mode over the channels of an NHWC float32 tensor, in two
// passes each way (statistics, then the elementwise step) where composite tensor ops need about
// seven. Squares and sums are float64, so the variance from E[x^2] - E[x]^2 keeps its precision
// even for a channel whose mean is thousands of times its spread, and the elementwise passes work
// on x - mean rather than x, so that no large terms cancel in float32. Pointers are byte offsets
// into the host's heap (see winograd-f43.c); `channels` is a multiple of 4.
//
// Each pass over pixels works on a band of them (`pixels` from the pointers given), so that
// threads can share it: every band's sums go to a set of their own (2 * channels doubles), and
// the step between the passes adds up `sets` such sets, which lie back to back.

#include <wasm_simd128.h>

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

// Element c of the first half of every set (first = 1: of the second half), added up.
static double total(const double *sums, int sets, int channels, int second, int c) {
  double value = 0;
  for (int s = 0; s < sets; s++) value += sums[(2 * s + second) * channels + c];
  return value;
}

// Forward, first pass: sums[c] = sum of x, sums[channels + c] = sum of x^2, over the band.
__attribute__((export_name("batch_norm_sums")))
void batch_norm_sums(const float *x, int pixels, int channels, double *sums) {
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
}

// Forward, between the passes: mean and biased variance per channel over all `pixels`,
// inverse_std = 1 / sqrt(variance + epsilon), scale = inverse_std * gamma.
__attribute__((export_name("batch_norm_statistics")))
void batch_norm_statistics(const double *sums, int sets, int pixels, int channels, const float *gamma, float epsilon,
                           float *mean, float *variance, float *inverse_std, float *scale) {
  for (int c = 0; c < channels; c++) {
    const double m = total(sums, sets, channels, 0, c) / pixels;
    double var = total(sums, sets, channels, 1, c) / pixels - m * m;
    if (var < 0) var = 0;
    const float inverse = 1.0f / __builtin_sqrtf((float)var + epsilon);
    mean[c] = (float)m;
    variance[c] = (float)var;
    inverse_std[c] = inverse;
    scale[c] = inverse * gamma[c];
  }
}

// Forward, second pass over the band: y = (x - mean) * scale + beta.
__attribute__((export_name("batch_norm_apply")))
void batch_norm_apply(const float *x, float *y, int pixels, int channels, const float *mean, const float *scale,
                      const float *beta) {
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

// Backward, first pass: sums[c] = sum of dy, sums[channels + c] = sum of dy * (x - mean), over the band.
__attribute__((export_name("batch_norm_gradient_sums")))
void batch_norm_gradient_sums(const float *dy, const float *x, int pixels, int channels, const float *mean,
                              double *sums) {
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
}

// Backward, between the passes: with x^ = (x - mean) * inverse_std and s = gamma * inverse_std,
//   dgamma = sum(dy * x^), dbeta = sum(dy),
//   dx = s * (dy - dbeta / pixels - x^ * dgamma / pixels),
// written as dx = dy * s + (x - mean) * a + b per channel; `coefficients` receives s, a and b
// (3 * channels floats).
__attribute__((export_name("batch_norm_gradient_coefficients")))
void batch_norm_gradient_coefficients(const double *sums, int sets, int pixels, int channels, const float *inverse_std,
                                      const float *gamma, float *dgamma, float *dbeta, float *coefficients) {
  float *s = coefficients, *a = coefficients + channels, *b = coefficients + 2 * channels;
  for (int c = 0; c < channels; c++) {
    const double dy_sum = total(sums, sets, channels, 0, c);
    const double inverse = inverse_std[c];
    const double scale = gamma[c] * inverse;
    const double centred_sum = total(sums, sets, channels, 1, c) * inverse;  // sum(dy * x^)
    dgamma[c] = (float)centred_sum;
    dbeta[c] = (float)dy_sum;
    s[c] = (float)scale;
    a[c] = (float)(-scale * inverse * centred_sum / pixels);
    b[c] = (float)(-scale * dy_sum / pixels);
  }
}

// Backward, second pass over the band: dx = dy * s + (x - mean) * a + b.
__attribute__((export_name("batch_norm_gradient_apply")))
void batch_norm_gradient_apply(const float *dy, const float *x, int pixels, int channels, const float *mean,
                               const float *coefficients, float *dx) {
  const float *s = coefficients, *a = coefficients + channels, *b = coefficients + 2 * channels;
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
