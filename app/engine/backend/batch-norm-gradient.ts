import * as tf from '@tensorflow/tfjs';

/**
 * A leaner gradient for per-channel batch normalisation (FusedBatchNorm), the same mathematics as
 * tfjs's own. tfjs tiles the [C] vectors to the full [N,H,W,C] size and multiplies full-size
 * tensors once per input; on the wasm backend that Tile alone cost as much as all the forward
 * convolutions. Here the vectors broadcast, and the four per-channel gradients share two
 * reductions: sum(dy) and sum(dy * (x - mean)).
 */
export function registerLeanBatchNormGradient(): void {
  const original = tf.getGradient(tf.FusedBatchNorm);
  if (!original || (original as { lean?: boolean }).lean) return;
  const lean: tf.GradConfig & { lean: true } = {
    lean: true,
    kernelName: tf.FusedBatchNorm,
    inputsToSave: ['x', 'mean', 'variance', 'scale'],
    gradFunc: (dy, saved, attrs) => {
      const [x, mean, variance, scale] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor | undefined];
      if (mean!.rank !== 1 || Array.isArray(dy)) return original.gradFunc(dy, saved, attrs);
      const { varianceEpsilon } = attrs as unknown as tf.FusedBatchNormAttrs;
      const axes = tf.backend_util.getReductionAxes(mean!.shape, x!.shape);
      const scaleValue = scale ?? tf.scalar(1);
      const inverseStd = tf.rsqrt(tf.add(variance!, varianceEpsilon));
      const scaledInverseStd = tf.mul(inverseStd, scaleValue);
      // Made here, not in the closures: each closure's tensors are released when it returns.
      const dySum = tf.sum(dy, axes);
      const dyCentredSum = tf.sum(tf.mul(dy, tf.sub(x!, mean!)), axes);
      return {
        x: () => tf.mul(dy, scaledInverseStd),
        mean: () => tf.neg(tf.mul(scaledInverseStd, dySum)),
        // d/dvar of (x - mean) * scale / sqrt(var + eps) = -0.5 * scale * (var + eps)^(-3/2) * (x - mean)
        variance: () => tf.mul(tf.mul(tf.mul(tf.pow(inverseStd, 3), -0.5), scaleValue), dyCentredSum),
        scale: () => tf.mul(inverseStd, dyCentredSum),
        offset: () => tf.clone(dySum),
      };
    },
  };
  tf.registerGradient(lean);
}
