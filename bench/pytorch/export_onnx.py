"""Train (briefly) a reference PyTorch U-Net, export it to ONNX and write PyTorch's own predictions.

  /usr/bin/python3 bench/pytorch/export_onnx.py --images imgs.npy --masks masks.npy --out model.onnx \
      [--classes 1] [--base 4] [--bilinear] [--epochs 30] [--predict imgs.npy --predictions preds.npy [--scale 0.5]]...

Images are uint8 arrays (N,H,W) grey or (N,H,W,C); masks uint8 class ids (N,H,W); `--classes` is the
number of output channels (1 = binary with a sigmoid, K = softmax over K classes). A folder of PNG
files works too for --images/--masks/--predict when Pillow is installed (files paired by sorted name).
The exported graph takes float32 NCHW `image` in [0, 1] (value/255) with dynamic N, H and W and gives
`logits` NCHW; it carries no metadata, like any model exported with torch.onnx.export.
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from unet import UNet, predict, train  # noqa: E402


def load_stack(source: str) -> np.ndarray:
    if source.endswith('.npy'):
        return np.load(source)
    from PIL import Image  # only needed for PNG folders
    names = sorted(name for name in os.listdir(source) if not name.startswith('.'))
    return np.stack([np.asarray(Image.open(os.path.join(source, name))) for name in names])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--images', required=True)
    parser.add_argument('--masks', required=True)
    parser.add_argument('--out', required=True, help='the .onnx file to write')
    parser.add_argument('--classes', type=int, default=1, help='output channels: 1 = binary, K = K classes')
    parser.add_argument('--base', type=int, default=16)
    parser.add_argument('--bilinear', action='store_true')
    parser.add_argument('--epochs', type=int, default=30)
    parser.add_argument('--batch-size', type=int, default=4)
    parser.add_argument('--learning-rate', type=float, default=3e-3)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--opset', type=int, default=13)
    parser.add_argument('--predict', action='append', default=[], help='images to predict with PyTorch after training (repeatable)')
    parser.add_argument('--predictions', action='append', default=[], help='where PyTorch writes its predicted labels (.npy, N,H,W uint8), one per --predict')
    parser.add_argument('--scale', type=float, action='append', default=[], help='the reference predict.py --scale, one per --predict (default 1)')
    parser.add_argument('--threshold', type=float, default=0.5)
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    images = load_stack(args.images)
    masks = load_stack(args.masks)
    if masks.ndim == 4:
        masks = masks[..., 0]
    if args.classes == 1:
        masks = (masks > 0).astype(np.uint8)
    channels = 1 if images.ndim == 3 else images.shape[3]
    model = UNet(channels, args.classes, base=args.base, bilinear=args.bilinear)
    log = lambda line: print(line, file=sys.stderr)  # noqa: E731
    train(model, images, masks, epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.learning_rate, seed=args.seed, log=log)

    model.eval()
    height, width = images.shape[1:3]
    dummy = torch.zeros(1, channels, height, width)
    dynamic = {0: 'batch', 2: 'height', 3: 'width'}
    torch.onnx.export(model, dummy, args.out, opset_version=args.opset, input_names=['image'], output_names=['logits'],
                      dynamic_axes={'image': dynamic, 'logits': dynamic}, do_constant_folding=True)
    log(f'wrote {args.out} ({os.path.getsize(args.out)} bytes, {sum(p.numel() for p in model.parameters())} parameters)')

    if len(args.predictions) != len(args.predict) or len(args.scale) not in (0, len(args.predict)):
        parser.error('give one --predictions (and, if any, one --scale) per --predict')
    for index, (source, target) in enumerate(zip(args.predict, args.predictions)):
        scale = args.scale[index] if args.scale else 1.0
        labels = np.stack([predict(model, image, scale=scale, threshold=args.threshold) for image in load_stack(source)])
        np.save(target, labels)
        log(f'wrote {target} {labels.shape} (scale {scale})')


if __name__ == '__main__':
    main()
