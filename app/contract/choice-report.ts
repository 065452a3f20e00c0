import { z } from 'zod';

/**
 * Which of several compute options (training backend, onnxruntime execution provider) was chosen,
 * why, and why each option tried before it was not used.
 */
export function choiceReport<Name extends z.ZodType>(name: Name) {
  return z.object({
    name,
    reason: z.string(),
    /** Every option tried before this one, with why it was not used. */
    skipped: z.array(z.object({ name, reason: z.string() })),
  });
}
