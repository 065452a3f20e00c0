// The gradient of max pooling with windows that neither overlap nor need padding (a U-Net's 2x2
// pooling with stride 2), on NHWC float32 tensors: each window's gradient goes to its first
// maximum in row-major order, as in tfjs's cpu backend, and every other pixel gets zero, as do
// the rows and columns no window covers. A window whose values are all NaN or -infinity passes
// nothing on. Works on images [image_begin, image_end) of the tensors, so that threads can share
// the work. Pointers are byte offsets into the host's heap (see winograd-f43.c).

#include <wasm_simd128.h>

__attribute__((export_name("window_maximum_gradient")))
void window_maximum_gradient(const float *x, const float *dy, float *dx, int height, int width, int channels,
                             int out_height, int out_width, int window_height, int window_width, int image_begin,
                             int image_end) {
  const v128_t lowest = wasm_f32x4_splat(-__builtin_inff());
  const int covered_rows = out_height * window_height, covered_columns = out_width * window_width;
  const int row_length = width * channels;
  for (int n = image_begin; n < image_end; n++) {
    const float *image = x + n * height * row_length;
    float *gradient = dx + n * height * row_length;
    const float *window_gradients = dy + n * out_height * out_width * channels;
    for (int y = 0; y < covered_rows; y++) {
      __builtin_memset(gradient + y * row_length + covered_columns * channels, 0,
                       (width - covered_columns) * channels * sizeof(float));
    }
    __builtin_memset(gradient + covered_rows * row_length, 0, (height - covered_rows) * row_length * sizeof(float));
    for (int oh = 0; oh < out_height; oh++) {
      for (int ow = 0; ow < out_width; ow++) {
        const int corner = (oh * window_height * width + ow * window_width) * channels;
        const float *g = window_gradients + (oh * out_width + ow) * channels;
        int c = 0;
        for (; c + 4 <= channels; c += 4) {
          // pmax keeps the running maximum when the value is NaN, as `value > best` does.
          v128_t best = lowest;
          for (int fh = 0; fh < window_height; fh++)
            for (int fw = 0; fw < window_width; fw++)
              best = wasm_f32x4_pmax(best, wasm_v128_load(image + corner + (fh * width + fw) * channels + c));
          v128_t taken = wasm_f32x4_eq(best, lowest);
          const v128_t value = wasm_v128_load(g + c);
          for (int fh = 0; fh < window_height; fh++) {
            for (int fw = 0; fw < window_width; fw++) {
              const int at = corner + (fh * width + fw) * channels + c;
              const v128_t first = wasm_v128_andnot(wasm_f32x4_eq(wasm_v128_load(image + at), best), taken);
              wasm_v128_store(gradient + at, wasm_v128_and(value, first));
              taken = wasm_v128_or(taken, first);
            }
          }
        }
        for (; c < channels; c++) {
          float best = -__builtin_inff();
          for (int fh = 0; fh < window_height; fh++)
            for (int fw = 0; fw < window_width; fw++) {
              const float v = image[corner + (fh * width + fw) * channels + c];
              if (v > best) best = v;
            }
          int taken = best == -__builtin_inff();
          for (int fh = 0; fh < window_height; fh++)
            for (int fw = 0; fw < window_width; fw++) {
              const int at = corner + (fh * width + fw) * channels + c;
              const int first = !taken && image[at] == best;
              gradient[at] = first ? g[c] : 0.0f;
              taken |= first;
            }
        }
      }
    }
  }
}
