"""The reference U-Net in PyTorch, as in the reference tools and app/engine/model/build-unet.ts.

DoubleConv = (3x3 conv, padding 1, no bias -> BatchNorm -> ReLU) x 2 at widths b, 2b, 4b, 8b, 16b;
2x2 max-pooling between stages; four up stages with a 2x2 transposed conv (halving the channels) or
bilinear x2 upsampling (then the bottom stage has 8b channels); the upsampled map is padded to the
skip map's size and concatenated as [skip, up]; a 1x1 head gives one logit (binary, sigmoid) or one
per class (softmax). Padded convolutions, so output size = input size.

Also a small train loop (BCE/CE + Dice) and the reference `predict.py`'s prediction (Pillow bicubic
resize by int(scale * size), /255 normalisation, logits up-sampled to the image size, threshold or
argmax).
Used by bench/pytorch/export_onnx.py and the PyTorch benchmarks.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


class DoubleConv(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, mid_channels: int | None = None):
        super().__init__()
        mid = mid_channels or out_channels
        self.double_conv = nn.Sequential(
            nn.Conv2d(in_channels, mid, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(mid),
            nn.ReLU(inplace=True),
            nn.Conv2d(mid, out_channels, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
        )

    def forward(self, x):
        return self.double_conv(x)


class Down(nn.Module):
    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.maxpool_conv = nn.Sequential(nn.MaxPool2d(2), DoubleConv(in_channels, out_channels))

    def forward(self, x):
        return self.maxpool_conv(x)


class Up(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, bilinear: bool):
        super().__init__()
        if bilinear:
            self.up = nn.Upsample(scale_factor=2, mode='bilinear', align_corners=True)
            self.conv = DoubleConv(in_channels, out_channels, in_channels // 2)
        else:
            self.up = nn.ConvTranspose2d(in_channels, in_channels // 2, kernel_size=2, stride=2)
            self.conv = DoubleConv(in_channels, out_channels)

    def forward(self, x, skip):
        x = self.up(x)
        # Odd sizes make the upsampled map smaller than the skip map: pad it to the skip's size.
        diff_y = skip.size()[2] - x.size()[2]
        diff_x = skip.size()[3] - x.size()[3]
        x = F.pad(x, [diff_x // 2, diff_x - diff_x // 2, diff_y // 2, diff_y - diff_y // 2])
        return self.conv(torch.cat([skip, x], dim=1))


class UNet(nn.Module):
    def __init__(self, n_channels: int, n_classes: int, base: int = 64, bilinear: bool = False):
        super().__init__()
        self.n_channels = n_channels
        self.n_classes = n_classes
        self.bilinear = bilinear
        factor = 2 if bilinear else 1
        b = base
        self.inc = DoubleConv(n_channels, b)
        self.down1 = Down(b, 2 * b)
        self.down2 = Down(2 * b, 4 * b)
        self.down3 = Down(4 * b, 8 * b)
        self.down4 = Down(8 * b, 16 * b // factor)
        self.up1 = Up(16 * b, 8 * b // factor, bilinear)
        self.up2 = Up(8 * b, 4 * b // factor, bilinear)
        self.up3 = Up(4 * b, 2 * b // factor, bilinear)
        self.up4 = Up(2 * b, b, bilinear)
        self.outc = nn.Conv2d(b, n_classes, kernel_size=1)

    def forward(self, x):
        x1 = self.inc(x)
        x2 = self.down1(x1)
        x3 = self.down2(x2)
        x4 = self.down3(x3)
        x5 = self.down4(x4)
        x = self.up1(x5, x4)
        x = self.up2(x, x3)
        x = self.up3(x, x2)
        x = self.up4(x, x1)
        return self.outc(x)


def dice_loss(logits: torch.Tensor, target: torch.Tensor, n_classes: int, eps: float = 1e-6) -> torch.Tensor:
    """1 - mean soft Dice over classes (the foreground only for binary models)."""
    if n_classes == 1:
        probs = torch.sigmoid(logits[:, 0])
        truth = target.float()
        inter = (probs * truth).sum(dim=(1, 2))
        return 1 - ((2 * inter + eps) / (probs.sum(dim=(1, 2)) + truth.sum(dim=(1, 2)) + eps)).mean()
    probs = F.softmax(logits, dim=1)
    truth = F.one_hot(target.long(), n_classes).permute(0, 3, 1, 2).float()
    inter = (probs * truth).sum(dim=(2, 3))
    return 1 - ((2 * inter + eps) / (probs.sum(dim=(2, 3)) + truth.sum(dim=(2, 3)) + eps)).mean()


def to_input(images: np.ndarray) -> torch.Tensor:
    """uint8 images (N,H,W) or (N,H,W,C) -> float NCHW in [0, 1], the reference's /255 normalisation."""
    array = images.astype(np.float32) / 255.0
    if array.ndim == 3:
        array = array[:, None]
    else:
        array = array.transpose(0, 3, 1, 2)
    return torch.from_numpy(np.ascontiguousarray(array))


def train(model: UNet, images: np.ndarray, masks: np.ndarray, epochs: int = 20, batch_size: int = 4,
          learning_rate: float = 3e-3, seed: int = 0, log=print) -> list[float]:
    """Adam on cross-entropy (BCE-with-logits for binary) + Dice; returns the loss of each epoch."""
    torch.manual_seed(seed)
    generator = np.random.default_rng(seed)
    inputs = to_input(images)
    targets = torch.from_numpy(masks.astype(np.int64))
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
    losses = []
    for epoch in range(epochs):
        model.train()
        order = generator.permutation(len(inputs))
        total = 0.0
        for start in range(0, len(order), batch_size):
            index = torch.from_numpy(order[start:start + batch_size])
            x, y = inputs[index], targets[index]
            logits = model(x)
            if model.n_classes == 1:
                loss = F.binary_cross_entropy_with_logits(logits[:, 0], y.float())
            else:
                loss = F.cross_entropy(logits, y)
            loss = loss + dice_loss(logits, y, model.n_classes)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(index)
        losses.append(total / len(order))
        log(f'epoch {epoch + 1}/{epochs} loss {losses[-1]:.4f}')
    return losses


@torch.no_grad()
def predict(model: UNet, image: np.ndarray, scale: float = 1.0, threshold: float = 0.5) -> np.ndarray:
    """One uint8 image (H,W) or (H,W,C) -> uint8 class labels (H,W), exactly as the reference predict.py:
    BasicDataset.preprocess (size int(scale * w) x int(scale * h), Pillow bicubic, /255 when any value
    exceeds 1), the network, the logits up-sampled to the image size (bilinear, align_corners=False),
    then sigmoid > threshold or argmax."""
    from PIL import Image

    model.eval()
    height, width = image.shape[:2]
    pil_image = Image.fromarray(image)
    resized = np.asarray(pil_image.resize((int(scale * width), int(scale * height)), resample=Image.BICUBIC))
    array = resized[np.newaxis, ...] if resized.ndim == 2 else resized.transpose((2, 0, 1))
    if (array > 1).any():
        array = array / 255.0
    x = torch.as_tensor(array.copy()).float().unsqueeze(0)
    logits = F.interpolate(model(x), (height, width), mode='bilinear')
    if model.n_classes == 1:
        return (torch.sigmoid(logits[0, 0]) > threshold).numpy().astype(np.uint8)
    return logits[0].argmax(dim=0).numpy().astype(np.uint8)
