// A worker process that breaks its protocol on purpose (test/worker-protocol.test.ts): one progress
// message of the wrong shape, one of the right shape, then a result that is not what it promised.
import { z } from 'zod';
import { serveWorkerJob } from '../../app/jobs/worker-entry.js';

serveWorkerJob({ answer: z.enum(['off-contract', 'on-contract']) }, async ({ answer }, { post }) => {
  post({ type: 'progress', done: 'half', total: 2, message: 'wrong' });
  post({ type: 'progress', done: 1, total: 2, message: 'right' });
  return answer === 'on-contract' ? { out: '/tmp/x', images: 2, skipped: [], ignoreToBackground: 0, absentClasses: [] } : { out: '/tmp/x', images: 'two' };
});
