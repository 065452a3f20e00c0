import { eventChannels, requestChannels } from '../app/contract/channels.js';

/**
 * The sandboxed preload cannot import the contract (it may only require 'electron'), so main hands
 * it the channel names on the renderer's command line. They come from `requestChannels` and
 * `eventChannels`, so the preload's API always matches the contract. main/preload.cts reads them
 * back with the same flags.
 */
export const REQUEST_CHANNELS_FLAG = '--unet-request-channels=';
export const EVENT_CHANNELS_FLAG = '--unet-event-channels=';
/** Per-request cancellation (the ContractClient's `cancel` message). */
export const CANCEL_CHANNEL = 'unet:cancel';
/** The shape every channel name has; the preload drops anything else. */
export const CHANNEL_NAME_PATTERN = /^[a-z]+(\.[A-Za-z]+)+$/;

export function preloadArguments(): string[] {
  return [`${REQUEST_CHANNELS_FLAG}${Object.keys(requestChannels).join(',')}`, `${EVENT_CHANNELS_FLAG}${Object.keys(eventChannels).join(',')}`];
}
