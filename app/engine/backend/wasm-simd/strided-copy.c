// Copies between layouts that interleave runs of floats. Pointers are byte offsets into the
// host's heap (see winograd-f43.c).

// `count` runs of `run` floats, run i from from + i * from_stride to to + i * to_stride (strides
// in floats): a part of a concatenation into its place in the whole, or back out.
__attribute__((export_name("copy_runs")))
void copy_runs(const float *from, int from_stride, float *to, int to_stride, int run, int count) {
  for (int i = 0; i < count; i++) __builtin_memcpy(to + i * to_stride, from + i * from_stride, run * sizeof(float));
}

// x [rows, columns] -> padded [rows, padded_columns], zeros in the extra columns: an image's
// channels padded to the SIMD width, or a filter's input channels (rows = taps, columns =
// in x out channels).
__attribute__((export_name("pad_columns")))
void pad_columns(const float *x, int rows, int columns, int padded_columns, float *padded) {
  for (int r = 0; r < rows; r++) {
    const float *from = x + r * columns;
    float *to = padded + r * padded_columns;
    for (int c = 0; c < columns; c++) to[c] = from[c];
    for (int c = columns; c < padded_columns; c++) to[c] = 0.0f;
  }
}
