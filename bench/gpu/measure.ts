// Entry of bench/gpu/run-on-device.sh: only the GPU bench, so that the machine it runs on needs
// none of the other benches' packages (bench/run.ts loads them all).
import { saveBenchResult } from '../bench-result.js';
import { benchGpuTrainSpeed } from '../gpu-train-speed.js';

await saveBenchResult(await benchGpuTrainSpeed());
