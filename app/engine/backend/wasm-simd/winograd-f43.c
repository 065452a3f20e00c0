// Winograd F(4x4, 3x3) transforms for stride-1 3x3 convolutions on NHWC float32 tensors
// (Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks", 2016).
//
// A convolution becomes: transform the filter (U = G g G^T) and every 6x6 input tile
// (V = B^T d B), multiply them as 36 independent [tiles, Ci] x [Ci, Co] matrix products, then
// transform each 6x6 product tile back to a 4x4 output tile (Y = A^T M A). That needs 36
// multiplies per 16 outputs and input channel where the direct convolution needs 144. The filter
// gradient runs it backwards: dU = sum over tiles of (A dY A^T) . V, then dW = G^T dU G.
//
// Built for wasm32 with SIMD128, linked against the host's imported memory: every pointer is a
// byte offset into the tfjs-backend-wasm heap. Nothing here uses a stack or static data, so the
// module never writes outside the buffers it is given (build.sh checks the binary for both); the
// 2-D transforms pass their rows through a caller's `scratch` of 36 vectors instead, which keeps
// few vectors live at once (the output transform ran 1.5x faster than with all 36 in locals).
// Channels are processed four at a time; callers pass channel counts that are multiples of 4.
// Each call transforms one chunk of a tensor's tiles: `batch` images from the pointer it is given,
// tile rows [tile_row_begin, tile_row_end) of each, numbered from 0 in the matrices, so that the
// caller can bound the memory the 36 matrices take and give threads chunks of their own.

#include <wasm_simd128.h>

typedef v128_t f4;

#define ADD wasm_f32x4_add
#define SUB wasm_f32x4_sub
#define MUL wasm_f32x4_mul
#define SPLAT wasm_f32x4_splat
// Every 6x6 loop is unrolled so that its arrays become wasm locals instead of stack memory.
#define UNROLL _Pragma("clang loop unroll(full)")

// B^T d for one column of six values: the input transform's 1-D step.
#define INPUT_1D(d0, d1, d2, d3, d4, d5, r0, r1, r2, r3, r4, r5)  \
  do {                                                             \
    f4 a_ = SUB(d4, MUL(four, d2));                                \
    f4 b_ = SUB(d3, MUL(four, d1));                                \
    f4 c_ = SUB(d4, d2);                                           \
    f4 e_ = MUL(two, SUB(d3, d1));                                 \
    r0 = ADD(SUB(MUL(four, d0), MUL(five, d2)), d4);               \
    r1 = ADD(a_, b_);                                              \
    r2 = SUB(a_, b_);                                              \
    r3 = ADD(c_, e_);                                              \
    r4 = SUB(c_, e_);                                              \
    r5 = ADD(SUB(MUL(four, d1), MUL(five, d3)), d5);               \
  } while (0)

// How many of a 4x4 output tile's rows (columns) starting at `start` lie inside `size`.
static inline int tile_extent(int size, int start) { return size - start < 4 ? size - start : 4; }

// A^T m for one column of six values: the output transform's 1-D step.
#define OUTPUT_1D(m0, m1, m2, m3, m4, m5, y0, y1, y2, y3) \
  do {                                                    \
    f4 s_ = ADD(m1, m2);                                  \
    f4 d_ = SUB(m1, m2);                                  \
    f4 s2_ = ADD(m3, m4);                                 \
    f4 d2_ = SUB(m3, m4);                                 \
    y0 = ADD(ADD(m0, s_), s2_);                           \
    y1 = ADD(d_, MUL(two, d2_));                          \
    y2 = ADD(s_, MUL(four, s2_));                         \
    y3 = ADD(ADD(d_, MUL(eight, d2_)), m5);               \
  } while (0)

// G g for one column of three values: the filter transform's 1-D step.
#define FILTER_1D(g0, g1, g2, u0, u1, u2, u3, u4, u5)                     \
  do {                                                                   \
    f4 s_ = ADD(g0, g2);                                                 \
    f4 q_ = ADD(MUL(SPLAT(1.0f / 24.0f), g0), MUL(SPLAT(1.0f / 6.0f), g2)); \
    f4 h_ = MUL(SPLAT(1.0f / 12.0f), g1);                                \
    u0 = MUL(SPLAT(0.25f), g0);                                          \
    u1 = MUL(SPLAT(-1.0f / 6.0f), ADD(s_, g1));                          \
    u2 = MUL(SPLAT(-1.0f / 6.0f), SUB(s_, g1));                          \
    u3 = ADD(q_, h_);                                                    \
    u4 = SUB(q_, h_);                                                    \
    u5 = g2;                                                             \
  } while (0)

// transformed[k] is a [Ci, Co] matrix for k = 6 * row + column of the 6x6 transformed filter. Works
// on elements [block_begin, block_end) of every Ci x Co tap (multiples of 4), so that threads can
// share the work.
__attribute__((export_name("winograd_f43_filter")))
void winograd_f43_filter(const float *filter, int in_channels, int out_channels, int block_begin, int block_end,
                         float *const *transformed) {
  const int tap_stride = in_channels * out_channels;
  for (int block = block_begin; block < block_end; block += 4) {
    f4 g[3][3];
    UNROLL for (int i = 0; i < 3; i++)
      UNROLL for (int j = 0; j < 3; j++) g[i][j] = wasm_v128_load(filter + (i * 3 + j) * tap_stride + block);
    f4 t[6][3];
    UNROLL for (int j = 0; j < 3; j++) FILTER_1D(g[0][j], g[1][j], g[2][j], t[0][j], t[1][j], t[2][j], t[3][j], t[4][j], t[5][j]);
    UNROLL for (int i = 0; i < 6; i++) {
      f4 u[6];
      FILTER_1D(t[i][0], t[i][1], t[i][2], u[0], u[1], u[2], u[3], u[4], u[5]);
      UNROLL for (int j = 0; j < 6; j++) wasm_v128_store(transformed[i * 6 + j] + block, u[j]);
    }
  }
}

// V = B^T d B for every 6x6 tile: tile (n, th, tw) reads the input rows 4*th - pad_top .. +5 and
// columns 4*tw - pad_left .. +5, zero outside the image. transformed_table[k] is a [tiles, C]
// matrix that receives element k of every tile.
__attribute__((export_name("winograd_f43_input")))
void winograd_f43_input(const float *x, int batch, int height, int width, int channels, int pad_top, int pad_left,
                        int tile_row_begin, int tile_row_end, int tiles_wide, float *const *transformed_table,
                        float *scratch) {
  float *transformed[36];
  UNROLL for (int k = 0; k < 36; k++) transformed[k] = transformed_table[k];
  const f4 four = SPLAT(4.0f), five = SPLAT(5.0f), two = SPLAT(2.0f), zero = wasm_f32x4_splat(0.0f);
  int tile = 0;
  for (int n = 0; n < batch; n++) {
    const float *image = x + n * height * width * channels;
    for (int th = tile_row_begin; th < tile_row_end; th++) {
      const int top = th * 4 - pad_top;
      for (int tw = 0; tw < tiles_wide; tw++, tile++) {
        const int left = tw * 4 - pad_left;
        // Bit i of rows_inside (columns_inside) is set when tile row (column) i lies in the image.
        int rows_inside = 0, columns_inside = 0;
        UNROLL for (int i = 0; i < 6; i++) {
          rows_inside |= (top + i >= 0 && top + i < height) << i;
          columns_inside |= (left + i >= 0 && left + i < width) << i;
        }
        const float *origin = image + (top * width + left) * channels;
        const int out = tile * channels;
        for (int c = 0; c < channels; c += 4) {
          // Rows first, through `scratch`, so that few vectors are live at once.
          UNROLL for (int i = 0; i < 6; i++) {
            f4 d[6], r[6];
            UNROLL for (int j = 0; j < 6; j++)
              d[j] = (rows_inside >> i & columns_inside >> j & 1) ? wasm_v128_load(origin + (i * width + j) * channels + c) : zero;
            INPUT_1D(d[0], d[1], d[2], d[3], d[4], d[5], r[0], r[1], r[2], r[3], r[4], r[5]);
            UNROLL for (int j = 0; j < 6; j++) wasm_v128_store(scratch + (i * 6 + j) * 4, r[j]);
          }
          UNROLL for (int j = 0; j < 6; j++) {
            f4 t[6], r[6];
            UNROLL for (int i = 0; i < 6; i++) t[i] = wasm_v128_load(scratch + (i * 6 + j) * 4);
            INPUT_1D(t[0], t[1], t[2], t[3], t[4], t[5], r[0], r[1], r[2], r[3], r[4], r[5]);
            UNROLL for (int i = 0; i < 6; i++) wasm_v128_store(transformed[i * 6 + j] + out + c, r[i]);
          }
        }
      }
    }
  }
}

// product_table[k] is a [tiles, C] matrix; writes the 4x4 output tiles into y ([N, H, W, C]),
// dropping the rows and columns past the output's edge, adding `bias` (when not null) and
// applying ReLU when `relu` is set.
__attribute__((export_name("winograd_f43_output")))
void winograd_f43_output(float *const *product_table, float *y, int batch, int height, int width, int channels,
                         int tile_row_begin, int tile_row_end, int tiles_wide, const float *bias, int relu, float *scratch) {
  const float *products[36];
  UNROLL for (int k = 0; k < 36; k++) products[k] = product_table[k];
  const f4 four = SPLAT(4.0f), two = SPLAT(2.0f), eight = SPLAT(8.0f), zero = wasm_f32x4_splat(0.0f);
  int tile = 0;
  for (int n = 0; n < batch; n++) {
    float *image = y + n * height * width * channels;
    for (int th = tile_row_begin; th < tile_row_end; th++) {
      const int rows = tile_extent(height, th * 4);
      for (int tw = 0; tw < tiles_wide; tw++, tile++) {
        const int columns = tile_extent(width, tw * 4);
        float *origin = image + (th * width + tw) * 4 * channels;
        const int in = tile * channels;
        for (int c = 0; c < channels; c += 4) {
          UNROLL for (int j = 0; j < 6; j++) {
            f4 m[6], t[4];
            UNROLL for (int i = 0; i < 6; i++) m[i] = wasm_v128_load(products[i * 6 + j] + in + c);
            OUTPUT_1D(m[0], m[1], m[2], m[3], m[4], m[5], t[0], t[1], t[2], t[3]);
            UNROLL for (int i = 0; i < 4; i++) wasm_v128_store(scratch + (i * 6 + j) * 4, t[i]);
          }
          const f4 b = bias ? wasm_v128_load(bias + c) : zero;
          UNROLL for (int i = 0; i < 4; i++) {
            f4 t[6], r[4];
            UNROLL for (int j = 0; j < 6; j++) t[j] = wasm_v128_load(scratch + (i * 6 + j) * 4);
            OUTPUT_1D(t[0], t[1], t[2], t[3], t[4], t[5], r[0], r[1], r[2], r[3]);
            UNROLL for (int j = 0; j < 4; j++) {
              f4 value = ADD(r[j], b);
              if (relu) value = wasm_f32x4_max(value, zero);
              if (i < rows && j < columns) wasm_v128_store(origin + (i * width + j) * channels + c, value);
            }
          }
        }
      }
    }
  }
}

// A g for one column of four values: the output gradient's 1-D step (A is A^T above, transposed).
#define OUTPUT_GRADIENT_1D(g0, g1, g2, g3, u0, u1, u2, u3, u4, u5) \
  do {                                                             \
    f4 e_ = ADD(g0, g2);                                           \
    f4 o_ = ADD(g1, g3);                                           \
    f4 e2_ = ADD(g0, MUL(four, g2));                               \
    f4 o2_ = ADD(MUL(two, g1), MUL(eight, g3));                    \
    u0 = g0;                                                       \
    u1 = ADD(e_, o_);                                              \
    u2 = SUB(e_, o_);                                              \
    u3 = ADD(e2_, o2_);                                            \
    u4 = SUB(e2_, o2_);                                            \
    u5 = g3;                                                       \
  } while (0)

// The filter gradient's transform of dy: with Y = A^T M A per tile, dM = A dY A^T. Tile (n, th, tw)
// covers output rows 4*th .. +3 and columns 4*tw .. +3, zero past the output's edge;
// transformed_table[k] is a [tiles, C] matrix.
__attribute__((export_name("winograd_f43_output_gradient")))
void winograd_f43_output_gradient(const float *dy, int batch, int height, int width, int channels, int tile_row_begin,
                                  int tile_row_end, int tiles_wide, float *const *transformed_table, float *scratch) {
  float *transformed[36];
  UNROLL for (int k = 0; k < 36; k++) transformed[k] = transformed_table[k];
  const f4 four = SPLAT(4.0f), two = SPLAT(2.0f), eight = SPLAT(8.0f), zero = wasm_f32x4_splat(0.0f);
  int tile = 0;
  for (int n = 0; n < batch; n++) {
    const float *image = dy + n * height * width * channels;
    for (int th = tile_row_begin; th < tile_row_end; th++) {
      const int rows = tile_extent(height, th * 4);
      for (int tw = 0; tw < tiles_wide; tw++, tile++) {
        const int columns = tile_extent(width, tw * 4);
        const float *origin = image + (th * width + tw) * 4 * channels;
        for (int c = 0; c < channels; c += 4) {
          UNROLL for (int i = 0; i < 4; i++) {
            f4 g[4], u[6];
            UNROLL for (int j = 0; j < 4; j++)
              g[j] = (i < rows && j < columns) ? wasm_v128_load(origin + (i * width + j) * channels + c) : zero;
            OUTPUT_GRADIENT_1D(g[0], g[1], g[2], g[3], u[0], u[1], u[2], u[3], u[4], u[5]);
            UNROLL for (int j = 0; j < 6; j++) wasm_v128_store(scratch + (i * 6 + j) * 4, u[j]);
          }
          UNROLL for (int j = 0; j < 6; j++) {
            f4 g[4], u[6];
            UNROLL for (int i = 0; i < 4; i++) g[i] = wasm_v128_load(scratch + (i * 6 + j) * 4);
            OUTPUT_GRADIENT_1D(g[0], g[1], g[2], g[3], u[0], u[1], u[2], u[3], u[4], u[5]);
            UNROLL for (int i = 0; i < 6; i++) wasm_v128_store(transformed[i * 6 + j] + tile * channels + c, u[i]);
          }
        }
      }
    }
  }
}

// G^T u for one column of six values: back from the transformed filter's gradient.
#define FILTER_GRADIENT_1D(u0, u1, u2, u3, u4, u5, w0, w1, w2)                           \
  do {                                                                                 \
    f4 s12_ = ADD(u1, u2);                                                             \
    f4 s34_ = ADD(u3, u4);                                                             \
    w0 = ADD(ADD(MUL(SPLAT(0.25f), u0), MUL(SPLAT(-1.0f / 6.0f), s12_)), MUL(SPLAT(1.0f / 24.0f), s34_)); \
    w1 = ADD(MUL(SPLAT(1.0f / 6.0f), SUB(u2, u1)), MUL(SPLAT(1.0f / 12.0f), SUB(u3, u4)));  \
    w2 = ADD(MUL(SPLAT(1.0f / 6.0f), SUB(s34_, s12_)), u5);                             \
  } while (0)

// dW = G^T dU G: gradient_table[k] is the [Ci, Co] matrix dU_k; writes elements [block_begin,
// block_end) of every tap of dW [3, 3, Ci, Co].
__attribute__((export_name("winograd_f43_filter_gradient")))
void winograd_f43_filter_gradient(float *const *gradient_table, int in_channels, int out_channels, int block_begin,
                                  int block_end, float *filter_gradient) {
  const int tap_stride = in_channels * out_channels;
  for (int block = block_begin; block < block_end; block += 4) {
    f4 w[3][6];
    UNROLL for (int j = 0; j < 6; j++) {
      f4 u[6];
      UNROLL for (int i = 0; i < 6; i++) u[i] = wasm_v128_load(gradient_table[i * 6 + j] + block);
      FILTER_GRADIENT_1D(u[0], u[1], u[2], u[3], u[4], u[5], w[0][j], w[1][j], w[2][j]);
    }
    UNROLL for (int i = 0; i < 3; i++) {
      f4 r[3];
      FILTER_GRADIENT_1D(w[i][0], w[i][1], w[i][2], w[i][3], w[i][4], w[i][5], r[0], r[1], r[2]);
      UNROLL for (int j = 0; j < 3; j++) wasm_v128_store(filter_gradient + (i * 3 + j) * tap_stride + block, r[j]);
    }
  }
}

// dU_k = V_k^T dM_k for tile elements k in [k_begin, k_end) (of 36; threads take different ones):
// v_table[k] is [tiles, Ci], m_table[k] is [tiles, Co], u_table[k] receives [Ci, Co]. Written here rather than run on XNNPACK because
// XNNPACK packs its right-hand operand ([tiles, Co], as large as the data) on every call, which
// took three times as long as the arithmetic; this reads both operands as they lie. Blocks of 4
// input x 8 output channels keep 8 accumulators in registers while the tiles stream past. With
// `accumulate` set, adds to what u_table's matrices hold (the products of earlier chunks).
__attribute__((export_name("winograd_f43_filter_products")))
void winograd_f43_filter_products(float *const *v_table, float *const *m_table, int tiles, int in_channels,
                                  int out_channels, int k_begin, int k_end, int accumulate, float *const *u_table) {
  for (int k = k_begin; k < k_end; k++) {
    const float *v = v_table[k], *m = m_table[k];
    float *u = u_table[k];
    for (int ci = 0; ci < in_channels; ci += 4) {
      for (int co = 0; co < out_channels; co += 8) {
        // The last block is 4 wide when Co is not a multiple of 8: its second half repeats the first.
        const int wide = co + 8 <= out_channels;
        f4 acc[4][2];
        UNROLL for (int r = 0; r < 4; r++) {
          acc[r][0] = accumulate ? wasm_v128_load(u + (ci + r) * out_channels + co) : wasm_f32x4_splat(0.0f);
          acc[r][1] = accumulate && wide ? wasm_v128_load(u + (ci + r) * out_channels + co + 4) : acc[r][0];
        }
        for (int t = 0; t < tiles; t++) {
          const f4 a = wasm_v128_load(v + t * in_channels + ci);
          const f4 b0 = wasm_v128_load(m + t * out_channels + co);
          const f4 b1 = wide ? wasm_v128_load(m + t * out_channels + co + 4) : b0;
          const f4 a0 = wasm_i32x4_shuffle(a, a, 0, 0, 0, 0), a1 = wasm_i32x4_shuffle(a, a, 1, 1, 1, 1);
          const f4 a2 = wasm_i32x4_shuffle(a, a, 2, 2, 2, 2), a3 = wasm_i32x4_shuffle(a, a, 3, 3, 3, 3);
          acc[0][0] = ADD(acc[0][0], MUL(a0, b0)), acc[0][1] = ADD(acc[0][1], MUL(a0, b1));
          acc[1][0] = ADD(acc[1][0], MUL(a1, b0)), acc[1][1] = ADD(acc[1][1], MUL(a1, b1));
          acc[2][0] = ADD(acc[2][0], MUL(a2, b0)), acc[2][1] = ADD(acc[2][1], MUL(a2, b1));
          acc[3][0] = ADD(acc[3][0], MUL(a3, b0)), acc[3][1] = ADD(acc[3][1], MUL(a3, b1));
        }
        UNROLL for (int r = 0; r < 4; r++) {
          wasm_v128_store(u + (ci + r) * out_channels + co, acc[r][0]);
          if (wide) wasm_v128_store(u + (ci + r) * out_channels + co + 4, acc[r][1]);
        }
      }
    }
  }
}

// M_k = V_k U_k for tile elements k in [k_begin, k_end) (of 36; threads take different ones):
// v_table[k] is [tiles, Ci], u_table[k] is [Ci, Co], m_table[k] receives [tiles, Co]. Blocks of 4
// tiles x 8 output channels.
__attribute__((export_name("winograd_f43_products")))
void winograd_f43_products(float *const *v_table, float *const *u_table, int tiles, int in_channels,
                           int out_channels, int k_begin, int k_end, float *const *m_table) {
  for (int k = k_begin; k < k_end; k++) {
    const float *v = v_table[k], *u = u_table[k];
    float *m = m_table[k];
    int t = 0;
    for (; t + 4 <= tiles; t += 4) {
      for (int co = 0; co < out_channels; co += 8) {
        const int wide = co + 8 <= out_channels;
        f4 acc[4][2];
        UNROLL for (int r = 0; r < 4; r++) acc[r][0] = acc[r][1] = wasm_f32x4_splat(0.0f);
        for (int ci = 0; ci < in_channels; ci++) {
          const f4 b0 = wasm_v128_load(u + ci * out_channels + co);
          // The last block is 4 wide when Co is not a multiple of 8: its second half repeats the first.
          const f4 b1 = wide ? wasm_v128_load(u + ci * out_channels + co + 4) : b0;
          UNROLL for (int r = 0; r < 4; r++) {
            const f4 a = wasm_v128_load32_splat(v + (t + r) * in_channels + ci);
            acc[r][0] = ADD(acc[r][0], MUL(a, b0));
            acc[r][1] = ADD(acc[r][1], MUL(a, b1));
          }
        }
        UNROLL for (int r = 0; r < 4; r++) {
          wasm_v128_store(m + (t + r) * out_channels + co, acc[r][0]);
          if (wide) wasm_v128_store(m + (t + r) * out_channels + co + 4, acc[r][1]);
        }
      }
    }
    for (; t < tiles; t++) {
      for (int co = 0; co < out_channels; co += 4) {
        f4 acc = wasm_f32x4_splat(0.0f);
        for (int ci = 0; ci < in_channels; ci++)
          acc = ADD(acc, MUL(wasm_v128_load32_splat(v + t * in_channels + ci), wasm_v128_load(u + ci * out_channels + co)));
        wasm_v128_store(m + t * out_channels + co, acc);
      }
    }
  }
}
