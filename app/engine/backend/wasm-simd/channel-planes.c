// NHWC -> zero-padded channel planes, for the filter gradient of a stride-1 'same' convolution
// (see wasm-kernels/conv2d-backprop-filter.ts): planes[c][n][pad_top + y][pad_left + x] = x[n][y][x][c],
// each plane padded_height x padded_width per image, planes back to back with `plane_stride`
// floats from one channel to the next, zero around each image. Works on images
// [image_begin, image_end), so that threads can share the work; the caller zeroes whatever lies
// past the last image. Pointers are byte offsets into the host's heap (see winograd-f43.c).

#include <wasm_simd128.h>

__attribute__((export_name("padded_channel_planes")))
void padded_channel_planes(const float *x, int height, int width, int channels, int pad_top, int pad_left,
                           int padded_height, int padded_width, int plane_stride, int image_begin, int image_end,
                           float *planes) {
  const int image_size = padded_height * padded_width;
  for (int c = 0; c < channels; c++) {
    float *first = planes + c * plane_stride + image_begin * image_size;
    __builtin_memset(first, 0, (image_end - image_begin) * image_size * sizeof(float));
  }
  for (int n = image_begin; n < image_end; n++) {
    for (int y = 0; y < height; y++) {
      const float *row = x + ((n * height + y) * width) * channels;
      float *target = planes + (n * padded_height + pad_top + y) * padded_width + pad_left;
      for (int column = 0; column < width; column++) {
        const float *pixel = row + column * channels;
        int c = 0;
        for (; c + 4 <= channels; c += 4) {
          const v128_t v = wasm_v128_load(pixel + c);
          target[(c + 0) * plane_stride + column] = wasm_f32x4_extract_lane(v, 0);
          target[(c + 1) * plane_stride + column] = wasm_f32x4_extract_lane(v, 1);
          target[(c + 2) * plane_stride + column] = wasm_f32x4_extract_lane(v, 2);
          target[(c + 3) * plane_stride + column] = wasm_f32x4_extract_lane(v, 3);
        }
        for (; c < channels; c++) target[c * plane_stride + column] = pixel[c];
      }
    }
  }
}
