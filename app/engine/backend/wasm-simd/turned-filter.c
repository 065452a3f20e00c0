// The filter of a convolution's input gradient (see wasm-kernels/conv2d-backprop-input.ts): the
// filter turned 180 degrees with its channels swapped, turned[tap][co][ci] = filter[taps - 1 - tap][ci][co]
// for taps [tap_begin, tap_end) of the KH * KW (threads take different taps). Blocks of 4 x 4
// channels are transposed in registers; other channel counts take the scalar loop for the rest.
// Pointers are byte offsets into the host's heap (see winograd-f43.c).

#include <wasm_simd128.h>

__attribute__((export_name("turned_filter")))
void turned_filter(const float *filter, int taps, int in_channels, int out_channels, int tap_begin, int tap_end,
                   float *turned) {
  const int tap_size = in_channels * out_channels;
  const int ci_blocks = in_channels & ~3, co_blocks = out_channels & ~3;
  for (int tap = tap_begin; tap < tap_end; tap++) {
    const float *from = filter + (taps - 1 - tap) * tap_size;
    float *to = turned + tap * tap_size;
    for (int ci = 0; ci < ci_blocks; ci += 4) {
      for (int co = 0; co < co_blocks; co += 4) {
        const v128_t r0 = wasm_v128_load(from + (ci + 0) * out_channels + co);
        const v128_t r1 = wasm_v128_load(from + (ci + 1) * out_channels + co);
        const v128_t r2 = wasm_v128_load(from + (ci + 2) * out_channels + co);
        const v128_t r3 = wasm_v128_load(from + (ci + 3) * out_channels + co);
        const v128_t t0 = wasm_i32x4_shuffle(r0, r1, 0, 4, 1, 5), t1 = wasm_i32x4_shuffle(r2, r3, 0, 4, 1, 5);
        const v128_t t2 = wasm_i32x4_shuffle(r0, r1, 2, 6, 3, 7), t3 = wasm_i32x4_shuffle(r2, r3, 2, 6, 3, 7);
        wasm_v128_store(to + (co + 0) * in_channels + ci, wasm_i32x4_shuffle(t0, t1, 0, 1, 4, 5));
        wasm_v128_store(to + (co + 1) * in_channels + ci, wasm_i32x4_shuffle(t0, t1, 2, 3, 6, 7));
        wasm_v128_store(to + (co + 2) * in_channels + ci, wasm_i32x4_shuffle(t2, t3, 0, 1, 4, 5));
        wasm_v128_store(to + (co + 3) * in_channels + ci, wasm_i32x4_shuffle(t2, t3, 2, 3, 6, 7));
      }
      for (int co = co_blocks; co < out_channels; co++)
        for (int i = 0; i < 4; i++) to[co * in_channels + ci + i] = from[(ci + i) * out_channels + co];
    }
    for (int ci = ci_blocks; ci < in_channels; ci++)
      for (int co = 0; co < out_channels; co++) to[co * in_channels + ci] = from[ci * out_channels + co];
  }
}
