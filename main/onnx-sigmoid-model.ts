/**
 * A one-node ONNX model (y = Sigmoid(x), x and y float tensors of any shape), encoded by hand so
 * the smoke test can prove onnxruntime-node loads and runs without shipping a model file.
 * Field numbers are those of onnx.proto (ModelProto, GraphProto, NodeProto, ValueInfoProto).
 */
export function sigmoidModel(): Uint8Array {
  const tensorType = message(varintField(1, 1 /* FLOAT */), bytesField(2, message(...['n', 'h', 'w', 'c'].map((name) => bytesField(1, message(stringField(2, name)))))));
  const valueInfo = (name: string) => message(stringField(1, name), bytesField(2, message(bytesField(1, tensorType))));
  const node = message(stringField(1, 'x'), stringField(2, 'y'), stringField(3, 'sigmoid'), stringField(4, 'Sigmoid'));
  const graph = message(bytesField(1, node), stringField(2, 'smoke'), bytesField(11, valueInfo('x')), bytesField(12, valueInfo('y')));
  return message(varintField(1, 7 /* IR version */), bytesField(7, graph), bytesField(8, message(stringField(1, ''), varintField(2, 13))));
}

function varint(value: number): number[] {
  const bytes: number[] = [];
  while (value > 0x7f) {
    bytes.push((value & 0x7f) | 0x80);
    value >>>= 7;
  }
  bytes.push(value);
  return bytes;
}

function varintField(field: number, value: number): Uint8Array {
  return Uint8Array.from([...varint(field << 3), ...varint(value)]);
}

function bytesField(field: number, bytes: Uint8Array): Uint8Array {
  return Uint8Array.from([...varint((field << 3) | 2), ...varint(bytes.length), ...bytes]);
}

function stringField(field: number, text: string): Uint8Array {
  return bytesField(field, new TextEncoder().encode(text));
}

function message(...fields: Uint8Array[]): Uint8Array {
  return Uint8Array.from(fields.flatMap((field) => [...field]));
}
