"""Training throughput of the reference PyTorch U-Net: warm-up, then the median of timed steps.

Same model, input size and batch size as bench/train-speed-child.ts, on --threads threads (default:
PyTorch's own default); prints one JSON line.
--device cuda times it on the GPU (bench/gpu-train-speed.ts), waiting for the GPU at the end of each step.
"""
import argparse
import json
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F

from unet import UNet, dice_loss


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument('--base', type=int, default=16)
    parser.add_argument('--size', type=int, default=128)
    parser.add_argument('--batch', type=int, default=4)
    parser.add_argument('--threads', type=int, default=0)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--steps', type=int, default=6)
    parser.add_argument('--device', choices=['cpu', 'cuda'], default='cpu')
    args = parser.parse_args()
    device = torch.device(args.device)

    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = UNet(n_channels=1, n_classes=1, base=args.base).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.random((args.batch, 1, args.size, args.size), dtype=np.float32)).to(device)
    y = torch.from_numpy((rng.random((args.batch, args.size, args.size)) < 0.3).astype(np.int64)).to(device)
    model.train()
    times = []
    for step in range(args.warmup + args.steps):
        started = time.perf_counter()
        logits = model(x)
        loss = F.binary_cross_entropy_with_logits(logits[:, 0], y.float()) + dice_loss(logits, y, 1)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if device.type == 'cuda':
            torch.cuda.synchronize()
        if step >= args.warmup:
            times.append(time.perf_counter() - started)
    step_seconds = statistics.median(times)
    print(json.dumps({'imagesPerSecond': args.batch / step_seconds, 'stepSeconds': step_seconds,
                      'threads': torch.get_num_threads(), 'torch': torch.__version__,
                      'device': torch.cuda.get_device_name(device) if device.type == 'cuda' else 'cpu'}))


if __name__ == '__main__':
    main()
