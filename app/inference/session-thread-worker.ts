// The inference thread of SessionThread: one onnxruntime session, runs answered in order.
import { parentPort } from 'node:worker_threads';
import ort from 'onnxruntime-node';
import { createSession } from './execution-provider.js';
import type { SessionThreadReply, SessionThreadRequest } from './session-thread-messages.js';

let opened: { session: ort.InferenceSession; inputName: string; outputName: string } | null = null;

parentPort!.on('message', async (request: SessionThreadRequest) => {
  try {
    if (request.type === 'open') {
      opened = { session: await createSession(request.file, request.provider, request.intraOpThreads), inputName: request.inputName, outputName: request.outputName };
      parentPort!.postMessage({ sequence: request.sequence, ok: true, data: new Float32Array(0), dims: [] } satisfies SessionThreadReply);
      return;
    }
    if (!opened) throw new Error('the session is not open');
    const results = await opened.session.run({ [opened.inputName]: new ort.Tensor('float32', request.input, request.dims) }, [opened.outputName]);
    const output = results[opened.outputName]!;
    // The output's memory belongs to onnxruntime; a copy of it can move to the main thread.
    const data = (output.data as Float32Array).slice();
    output.dispose();
    parentPort!.postMessage({ sequence: request.sequence, ok: true, data, dims: [...output.dims] } satisfies SessionThreadReply, [data.buffer]);
  } catch (err) {
    parentPort!.postMessage({ sequence: request.sequence, ok: false, error: (err instanceof Error ? err.message : String(err)).split('\n')[0]!.trim() } satisfies SessionThreadReply);
  }
});
