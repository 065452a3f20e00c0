import { z } from 'zod';

/** A message that arrived but was not acted on: it did not match its schema, or came out of order. */
export interface ProtocolProblem {
  /** The channel, event or worker the message was for (e.g. `job.finished`, `trainer worker`). */
  channel: string;
  /** What was wrong, in words (the zod issues, prettified). */
  problem: string;
}

export type ProblemReporter = (problem: ProtocolProblem) => void;

/** Where nobody asked for anything else: the console (the browser's devtools, the host's stderr). */
export const logProblem: ProblemReporter = ({ channel, problem }) => console.warn(`U-Net Studio dropped a message on ${channel}: ${problem}`);

/** The problem a failed zod parse describes. */
export function schemaProblem(channel: string, error: z.ZodError): ProtocolProblem {
  return { channel, problem: `it does not match the contract:\n${z.prettifyError(error)}` };
}
