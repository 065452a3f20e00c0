"""Batch prediction speed of the reference PyTorch U-Net, like the reference predict.py.

With --masks the seeded model is first trained briefly on 128x128 crops of the first images, so the
masks both tools write look like real output (an untrained model's noise makes PNG encoding the
bottleneck of both loops). Exports the model to ONNX, so U-Net Studio segments with identical
weights; then for every PNG in a folder: open with Pillow, normalise /255, run the model, threshold,
save the mask PNG. Prints one JSON line.
"""
import argparse
import json
import os
import time

import numpy as np
import torch
from PIL import Image

from unet import UNet, predict, train


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument('--input', required=True)
    parser.add_argument('--output', required=True)
    parser.add_argument('--onnx', required=True, help='where to export the same model for U-Net Studio')
    parser.add_argument('--base', type=int, default=16)
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--masks', help='mask PNGs named like the images, for the brief training')
    parser.add_argument('--train-images', type=int, default=8)
    parser.add_argument('--train-epochs', type=int, default=15)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = UNet(n_channels=1, n_classes=1, base=args.base)
    files = sorted(name for name in os.listdir(args.input) if name.endswith('.png'))
    if args.masks:
        crop = lambda folder, name: np.asarray(Image.open(os.path.join(folder, name)).convert('L'))[:128, :128]  # noqa: E731
        names = files[:args.train_images]
        images = np.stack([crop(args.input, name) for name in names])
        masks = (np.stack([crop(args.masks, name) for name in names]) > 0).astype(np.uint8)
        train(model, images, masks, epochs=args.train_epochs, log=lambda _line: None)
    model.eval()
    dynamic = {0: 'batch', 2: 'height', 3: 'width'}
    torch.onnx.export(model, torch.zeros(1, 1, 64, 64), args.onnx, opset_version=13, input_names=['image'],
                      output_names=['logits'], dynamic_axes={'image': dynamic, 'logits': dynamic})

    os.makedirs(args.output, exist_ok=True)
    predict(model, np.zeros((64, 64), dtype=np.uint8))  # warm-up
    started = time.perf_counter()
    with torch.no_grad():
        for name in files:
            image = np.asarray(Image.open(os.path.join(args.input, name)).convert('L'))
            mask = predict(model, image)
            Image.fromarray(mask * 255).save(os.path.join(args.output, name))
    seconds = time.perf_counter() - started
    print(json.dumps({'imagesPerSecond': len(files) / seconds, 'seconds': seconds, 'images': len(files),
                      'threads': torch.get_num_threads()}))


if __name__ == '__main__':
    main()
