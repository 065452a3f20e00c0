"""ISBI 2012 accuracy of the reference PyTorch U-Net under the same budget as bench/accuracy.ts.

Images 00-19 train, 20-29 validate; both resized by --scale (bilinear images, nearest masks);
Adam, 1 warm-up epoch then poly decay (power 0.9), BCE-with-logits + Dice, flips and 90-degree
turns; metrics on the validation images at their full size, as U-Net Studio's validation scores
them (probabilities resized bilinearly to the mask's size, then thresholded at 0.5). Prints one
JSON line.
"""
import argparse
import json
import os

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from unet import UNet, dice_loss, to_input


def load(folder: str, names: list[str], scale: float, resample) -> np.ndarray:
    arrays = []
    for name in names:
        image = Image.open(os.path.join(folder, name)).convert('L')
        size = (round(image.width * scale), round(image.height * scale))
        arrays.append(np.asarray(image.resize(size, resample)))
    return np.stack(arrays)


def metrics(predicted: np.ndarray, truth: np.ndarray) -> dict:
    result = {'pixelError': float((predicted != truth).mean())}
    for class_id in (0, 1):
        p, t = predicted == class_id, truth == class_id
        overlap = float((p & t).sum())
        total = float(p.sum() + t.sum())
        union = float((p | t).sum())
        result[f'dice{class_id}'] = 1.0 if total == 0 else 2 * overlap / total
        result[f'iou{class_id}'] = 1.0 if union == 0 else overlap / union
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument('--data', required=True)
    parser.add_argument('--epochs', type=int, default=20)
    parser.add_argument('--batch', type=int, default=4)
    parser.add_argument('--base', type=int, default=16)
    parser.add_argument('--scale', type=float, default=0.5)
    parser.add_argument('--lr', type=float, default=1e-3)
    parser.add_argument('--threads', type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    rng = np.random.default_rng(1)

    names = sorted(os.listdir(os.path.join(args.data, 'images')))
    train_names, val_names = names[:20], names[20:30]
    images = {split: load(os.path.join(args.data, 'images'), split_names, args.scale, Image.BILINEAR)
              for split, split_names in (('train', train_names), ('val', val_names))}
    masks = {split: (load(os.path.join(args.data, 'masks'), split_names, args.scale, Image.NEAREST) > 127).astype(np.int64)
             for split, split_names in (('train', train_names), ('val', val_names))}
    val_truth = (load(os.path.join(args.data, 'masks'), val_names, 1.0, Image.NEAREST) > 127).astype(np.int64)

    model = UNet(n_channels=1, n_classes=1, base=args.base)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    steps_per_epoch = -(-len(train_names) // args.batch)
    warmup = steps_per_epoch

    def rate(step: int) -> float:
        if step < warmup:
            return args.lr * max(0.01, step / warmup)
        span = max(1, (args.epochs - 1) * steps_per_epoch)
        return args.lr * max(0.0, 1 - (step - warmup) / span) ** 0.9

    step = 0
    history = []
    for epoch in range(args.epochs):
        model.train()
        order = rng.permutation(len(train_names))
        for start in range(0, len(order), args.batch):
            index = order[start:start + args.batch]
            x = images['train'][index].copy()
            y = masks['train'][index].copy()
            for i in range(len(index)):
                if rng.random() < 0.5:
                    x[i], y[i] = x[i][:, ::-1], y[i][:, ::-1]
                if rng.random() < 0.5:
                    x[i], y[i] = x[i][::-1], y[i][::-1]
                turns = int(rng.integers(4))
                x[i], y[i] = np.rot90(x[i], turns), np.rot90(y[i], turns)
            for group in optimizer.param_groups:
                group['lr'] = rate(step)
            inputs, targets = to_input(np.ascontiguousarray(x)), torch.from_numpy(np.ascontiguousarray(y))
            logits = model(inputs)
            loss = F.binary_cross_entropy_with_logits(logits[:, 0], targets.float()) + dice_loss(logits, targets, 1)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            step += 1
        model.eval()
        with torch.no_grad():
            probabilities = torch.sigmoid(model(to_input(images['val'])))
            full = F.interpolate(probabilities, size=val_truth.shape[1:], mode='bilinear', align_corners=False)
            predicted = (full[:, 0] > 0.5).numpy().astype(np.int64)
        history.append({'epoch': epoch + 1, **metrics(predicted, val_truth)})
    best = max(history, key=lambda record: record['dice1'])
    print(json.dumps({'final': history[-1], 'best': best, 'torch': torch.__version__}))


if __name__ == '__main__':
    main()
