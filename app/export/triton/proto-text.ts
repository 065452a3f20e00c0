/**
 * A writer of protocol buffers' text format (what Triton reads as config.pbtxt) for plain values:
 * strings are quoted, numbers written as they are, `ProtoEnum` values bare, arrays as `[ ... ]` lists
 * and objects as `{ ... }` messages. Field names must be the message's own (see model_config.proto).
 */

/** An enum value, written bare (TYPE_FP32), not quoted. */
export class ProtoEnum {
  constructor(readonly name: string) {}
}

export type ProtoValue = string | number | boolean | ProtoEnum | ProtoMessage | ProtoValue[];
export interface ProtoMessage {
  [field: string]: ProtoValue | undefined;
}

export function toProtoText(message: ProtoMessage, indent = ''): string {
  return Object.entries(message)
    .filter((entry): entry is [string, ProtoValue] => entry[1] !== undefined)
    .map(([field, value]) => `${indent}${field}${isMessage(value) || isMessageList(value) ? ' ' : ': '}${formatValue(value, indent)}`)
    .join('\n');
}

function formatValue(value: ProtoValue, indent: string): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value instanceof ProtoEnum) return value.name;
  if (Array.isArray(value)) {
    if (!isMessageList(value)) return `[ ${value.map((item) => formatValue(item, indent)).join(', ')} ]`;
    const inner = `${indent}  `;
    return `[\n${value.map((item) => `${inner}{\n${toProtoText(item as ProtoMessage, `${inner}  `)}\n${inner}}`).join(',\n')}\n${indent}]`;
  }
  const body = toProtoText(value, `${indent}  `);
  return body ? `{\n${body}\n${indent}}` : '{ }';
}

function isMessage(value: ProtoValue): value is ProtoMessage {
  return typeof value === 'object' && !(value instanceof ProtoEnum) && !Array.isArray(value);
}

function isMessageList(value: ProtoValue): boolean {
  return Array.isArray(value) && value.length > 0 && value.every(isMessage);
}
