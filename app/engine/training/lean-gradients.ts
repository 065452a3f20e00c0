import * as tf from '@tensorflow/tfjs';

/** What tfjs-core 4.22 records per op on its gradient tape (internal; not in its typings). */
interface TapeNode {
  saved?: tf.Tensor[];
  gradient?: (dys: Array<tf.Tensor | null>) => Record<string, () => tf.Tensor>;
}

interface EngineWithTape {
  state: { activeTape: TapeNode[] | null };
}

/**
 * `tf.variableGrads` that lets go of each op's saved activations and output gradients as soon as
 * the backward pass has gone past that op.
 *
 * tfjs keeps both until the whole backward pass ends (its tape disposes the saved tensors at the
 * end, and every gradient lives in the backward tidy), so a step's peak is about twice the
 * forward activations: 1.05 GB per 512x512 image for a base-16 U-Net, which took batch 4 past
 * the 4 GiB a wasm32 heap can address (a "memory access out of bounds" trap or an abort inside
 * malloc). Released on the way, the peak is the forward activations plus the few gradients in
 * flight. The results are the same tensors computed by the same kernels.
 *
 * The walk is tfjs-core's: it visits tape nodes in reverse and calls all the input-gradient
 * functions of one node before the next node's `gradient`, so when the next node's gradient is
 * asked for, the previous node's saved tensors and output gradients are no longer needed. A
 * gradient tensor handed out more than once (a function returning its own dy, or one tensor for
 * two inputs) is kept until its last holder has consumed it.
 */
export function leanVariableGrads(f: () => tf.Scalar, variables: tf.Variable[]): { value: tf.Scalar; grads: tf.NamedTensorMap } {
  return tf.variableGrads(() => {
    const loss = f();
    const tape = (tf.engine() as unknown as EngineWithTape).state.activeTape;
    // Without a tape (a tfjs that changed its internals) gradients are still right, only not lean.
    if (tape) releaseAsTheBackwardPassGoes(tape);
    return loss;
  }, variables);
}

function releaseAsTheBackwardPassGoes(tape: TapeNode[]): void {
  /** Gradient tensors returned by input-gradient functions, with how many map entries hold each. */
  const holders = new Map<tf.Tensor, number>();
  let finished: { dys: tf.Tensor[]; saved: tf.Tensor[] } | null = null;

  const releaseFinished = () => {
    if (finished === null) return;
    for (const dy of finished.dys) {
      const count = holders.get(dy) ?? 0;
      if (count > 1) {
        holders.set(dy, count - 1);
      } else {
        holders.delete(dy);
        dy.dispose();
      }
    }
    for (const tensor of finished.saved) if (!holders.has(tensor)) tensor.dispose();
    finished = null;
  };

  for (const node of tape) {
    const gradient = node.gradient;
    if (gradient === undefined) continue;
    node.gradient = (dys) => {
      releaseFinished();
      const inputGradients = gradient(dys);
      finished = { dys: dys.filter((dy): dy is tf.Tensor => dy !== null), saved: node.saved ?? [] };
      return Object.fromEntries(
        Object.entries(inputGradients).map(([input, compute]) => [
          input,
          () => {
            const dx = compute();
            holders.set(dx, (holders.get(dx) ?? 0) + 1);
            return dx;
          },
        ]),
      );
    };
  }
}
