import protobuf from 'protobufjs';

/**
 * A strict reader of protocol buffers' text format, driven by the message's schema: every field name
 * must exist in the message type, enum values must be the enum's names, scalars must have the field's
 * type, and a field that is not `repeated` may appear once. It returns a plain object (field names as
 * in the .proto, repeated fields as arrays) for `Type.verify`/`fromObject`. Comments (#) are skipped.
 * Covers what Triton's config.pbtxt uses: scalars, enums, lists in [ ], messages in { } or [ { } ].
 */
export function readProtoText(text: string, type: protobuf.Type): Record<string, unknown> {
  const tokens = tokenize(text);
  let at = 0;
  const peek = () => tokens[at];
  const next = (): string => {
    const token = tokens[at++];
    if (token === undefined) throw new Error('unexpected end of text');
    return token;
  };
  const expect = (token: string) => {
    const found = next();
    if (found !== token) throw new Error(`expected "${token}", found "${found}"`);
  };

  const scalar = (field: protobuf.Field): unknown => {
    const token = next();
    if (field.resolvedType instanceof protobuf.Enum) {
      if (!(token in field.resolvedType.values)) throw new Error(`${field.name}: "${token}" is not a value of ${field.resolvedType.name}`);
      return token;
    }
    if (field.type === 'string' || field.type === 'bytes') {
      if (!token.startsWith('"')) throw new Error(`${field.name}: expected a quoted string, found ${token}`);
      return JSON.parse(token) as string;
    }
    if (field.type === 'bool') {
      if (token !== 'true' && token !== 'false') throw new Error(`${field.name}: expected true or false, found ${token}`);
      return token === 'true';
    }
    if (!/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(token)) throw new Error(`${field.name}: expected a number, found ${token}`);
    const value = Number(token);
    if (/int|fixed/.test(field.type) && !Number.isInteger(value)) throw new Error(`${field.name}: expected an integer, found ${token}`);
    if (/^u/.test(field.type) && value < 0) throw new Error(`${field.name}: expected an unsigned integer, found ${token}`);
    return value;
  };

  /** Fields up to `closing` ('}'), or to the end of the text at the top level. */
  const message = (messageType: protobuf.Type, closing?: string): Record<string, unknown> => {
    const object: Record<string, unknown> = {};
    while (peek() !== closing) {
      if (peek() === undefined) throw new Error(`unexpected end of text in ${messageType.name}`);
      const name = next();
      const field = messageType.fields[name];
      if (!field) throw new Error(`${messageType.name} has no field "${name}"`);
      field.resolve();
      const isMessage = field.resolvedType instanceof protobuf.Type;
      if (peek() === ':') next();
      else if (!isMessage) throw new Error(`expected ":" after ${name}`);
      const values: unknown[] = [];
      const one = () => {
        if (!isMessage) return scalar(field);
        expect('{');
        const value = message(field.resolvedType as protobuf.Type, '}');
        expect('}');
        return value;
      };
      if (peek() === '[') {
        next();
        while (peek() !== ']') {
          values.push(one());
          if (peek() === ',') next();
        }
        next();
      } else {
        values.push(one());
      }
      if (field.repeated) {
        object[name] = [...((object[name] as unknown[] | undefined) ?? []), ...values];
      } else {
        if (name in object || values.length !== 1) throw new Error(`${messageType.name}.${name} is not repeated but has ${values.length === 1 ? 'two values' : `${values.length} values`}`);
        object[name] = values[0];
      }
      if (peek() === ',' || peek() === ';') next();
    }
    return object;
  };
  return message(type);
}

function tokenize(text: string): string[] {
  const tokens: string[] = [];
  const pattern = /\s+|#[^\n]*|("(?:[^"\\]|\\.)*")|([{}[\]:,;])|([A-Za-z_][\w.]*)|(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)|(.)/gy;
  for (let match = pattern.exec(text); match && match.index < text.length; match = pattern.exec(text)) {
    const [, string, punctuation, identifier, number, other] = match;
    if (other !== undefined) throw new Error(`unexpected character "${other}" at offset ${match.index}`);
    const token = string ?? punctuation ?? identifier ?? number;
    if (token !== undefined) tokens.push(token);
  }
  return tokens;
}
