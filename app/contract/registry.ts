import { z } from 'zod';
import {
  type ChannelOutput,
  type HandlerInput,
  type RequestChannelName,
  isRequestChannel,
  requestChannels,
} from './channels.js';
import { type Envelope, fail, ok } from './envelope.js';
import { toContractError } from './errors.js';

export interface HandlerContext {
  /** Fires when the caller cancels the request or its connection closes. */
  signal: AbortSignal;
  /**
   * Fires when the caller's page is gone (tab closed, connection lost, window closed or reloaded):
   * for work that outlives its request but not the page that asked for it. Absent for in-process callers.
   */
  connection?: AbortSignal;
}

export type Handler<C extends RequestChannelName> = (
  input: HandlerInput<C>,
  context: HandlerContext,
) => Promise<ChannelOutput<C>>;

/**
 * Maps channel names to services. Every payload is validated against the channel's schema before
 * the service runs, so a service only ever sees well-formed input; every outcome is an envelope.
 * Electron's ipcMain binding and the WebSocket host both dispatch through one registry.
 */
export class HandlerRegistry {
  private readonly handlers = new Map<RequestChannelName, Handler<RequestChannelName>>();

  /** `describeError` rewrites what a handler throws before it becomes an error envelope (e.g. raw file-system errors into plain words). */
  constructor(private readonly describeError: (err: unknown) => unknown = (err) => err) {}

  register<C extends RequestChannelName>(channel: C, handler: Handler<C>): this {
    this.handlers.set(channel, handler as unknown as Handler<RequestChannelName>);
    return this;
  }

  async dispatch(channel: string, payload: unknown, context: HandlerContext): Promise<Envelope<unknown>> {
    if (!isRequestChannel(channel)) {
      return fail({ code: 'unknown_channel', message: `Unknown channel "${channel}".` });
    }
    const handler = this.handlers.get(channel);
    if (!handler) {
      return fail({ code: 'unknown_channel', message: `No service handles "${channel}" in this host.` });
    }
    const parsed = requestChannels[channel].input.safeParse(payload);
    if (!parsed.success) {
      return fail({
        code: 'invalid_input',
        message: `Invalid input for "${channel}": ${z.prettifyError(parsed.error)}`,
        details: parsed.error.issues,
      });
    }
    try {
      return ok(await handler(parsed.data as HandlerInput<RequestChannelName>, context));
    } catch (err) {
      return fail(toContractError(this.describeError(err)));
    }
  }
}
