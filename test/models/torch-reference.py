"""PyTorch reference nets for the parity test in torch-parity.test.ts (run with a python that has torch).

WRN follows ytaek-oh/daso lib/models/wrn.py + classifier.py (SemiModel: encoder + classifier), ResNet-32
kaidic/LDAM-DRW models/resnet_cifar.py (option A), written here from their description so the
state_dict keys match our parameter names. cnn-small is our own net.

Usage:
  python3 torch-reference.py count <net> <num_classes> <in_ch>       -> prints {"params": n}
  python3 torch-reference.py forward <in.json> <out.json>
in.json: a list of {net, numClasses, inputChannels, weights: {name: {shape, data}}, input: {shape, data}},
data = base64 of little-endian float32 (grads in out.json likewise).
Weights arrive in tfjs layout (conv [kh,kw,in,out], linear [in,out]) and are transposed here.
out.json: a list, per net: parameter names and count, train/eval logits and features, running stats
after one training forward, and the gradients (tfjs layout) of loss = sum(logits²) + sum(features) in training mode.
"""
import base64
import json
import sys

import numpy as np
import torch
import torch.nn as nn


def lrelu():
    return nn.LeakyReLU(0.1)


def conv3(i, o, s=1):
    return nn.Conv2d(i, o, 3, s, 1, bias=False)


class Block(nn.Module):
    def __init__(self, cin, cout, stride=1, act_first=False):
        super().__init__()
        layer = []
        if act_first:
            self.pre_act = nn.Sequential(nn.BatchNorm2d(cin), lrelu())
        else:
            self.pre_act = nn.Identity()
            layer += [nn.BatchNorm2d(cin), lrelu()]
        layer += [conv3(cin, cout, stride), nn.BatchNorm2d(cout), lrelu(), conv3(cout, cout)]
        if stride >= 2 or cin != cout:
            self.identity = nn.Conv2d(cin, cout, 1, stride, bias=False)
        else:
            self.identity = nn.Identity()
        self.layer = nn.Sequential(*layer)

    def forward(self, x):
        x = self.pre_act(x)
        return self.identity(x) + self.layer(x)


class WRN(nn.Module):
    def __init__(self, in_ch, width=2):
        super().__init__()
        f = [16, 16 * width, 32 * width, 64 * width]
        self.init_conv = conv3(in_ch, 16)
        self.unit1 = nn.Sequential(Block(f[0], f[1], 1, True), *[Block(f[1], f[1]) for _ in range(3)])
        self.unit2 = nn.Sequential(Block(f[1], f[2], 2), *[Block(f[2], f[2]) for _ in range(3)])
        self.unit3 = nn.Sequential(Block(f[2], f[3], 2), *[Block(f[3], f[3]) for _ in range(3)])
        self.unit4 = nn.Sequential(nn.BatchNorm2d(f[3]), lrelu(), nn.AdaptiveAvgPool2d(1))
        self.out_features = f[3]

    def forward(self, x):
        x = self.init_conv(x)
        x = self.unit3(self.unit2(self.unit1(x)))
        return self.unit4(x).flatten(1)


class CnnSmall(nn.Module):
    def __init__(self, in_ch):
        super().__init__()
        chans = [(in_ch, 32), (32, 32), (32, 64), (64, 64), (64, 128)]
        for i, (a, b) in enumerate(chans, 1):
            setattr(self, f"conv{i}", conv3(a, b))
            setattr(self, f"bn{i}", nn.BatchNorm2d(b))
        self.out_features = 128

    def forward(self, x):
        act = lrelu()
        for i in range(1, 6):
            x = act(getattr(self, f"bn{i}")(getattr(self, f"conv{i}")(x)))
            if i in (2, 4):
                x = nn.functional.max_pool2d(x, 2)
        return x.mean(dim=(2, 3))


class Basic(nn.Module):
    """LDAM-DRW BasicBlock, option A shortcut."""

    def __init__(self, cin, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.pad = planes // 4 if (stride != 1 or cin != planes) else None

    def forward(self, x):
        out = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        sc = x if self.pad is None else nn.functional.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.pad, self.pad))
        return torch.relu(out + sc)


class Resnet32(nn.Module):
    def __init__(self, num_classes, in_ch):
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        cin = 16
        for i, planes in enumerate([16, 32, 64], 1):
            blocks = []
            for j in range(5):
                blocks.append(Basic(cin, planes, 2 if (j == 0 and i > 1) else 1))
                cin = planes
            setattr(self, f"layer{i}", nn.Sequential(*blocks))
        self.linear = nn.Linear(64, num_classes)

    def forward(self, x):
        x = torch.relu(self.bn1(self.conv1(x)))
        f = self.layer3(self.layer2(self.layer1(x))).mean(dim=(2, 3))
        return f, self.linear(f)


class Head(nn.Module):
    def __init__(self, d, c):
        super().__init__()
        self.classifier = nn.Linear(d, c)


class Model(nn.Module):
    def __init__(self, net, num_classes, in_ch):
        super().__init__()
        self.encoder = WRN(in_ch) if net == "wrn-28-2" else CnnSmall(in_ch)
        self.classifier = Head(self.encoder.out_features, num_classes)

    def forward(self, x):
        f = self.encoder(x)
        return f, self.classifier.classifier(f)


def build(net, num_classes, in_ch):
    return Resnet32(num_classes, in_ch) if net == "resnet-32" else Model(net, num_classes, in_ch)


def to_torch_layout(name, t):
    if t.dim() == 4:
        return t.permute(3, 2, 0, 1).contiguous()
    if t.dim() == 2:
        return t.t().contiguous()
    return t


def decode(b64):
    return np.frombuffer(base64.b64decode(b64), dtype="<f4")


def encode(t):
    return base64.b64encode(t.detach().contiguous().numpy().astype("<f4").tobytes()).decode()


def from_torch_layout(t):
    if t.dim() == 4:
        return t.permute(2, 3, 1, 0)
    if t.dim() == 2:
        return t.t()
    return t


def main():
    torch.set_default_dtype(torch.float64)
    if sys.argv[1] == "count":
        m = build(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
        n_buf = sum(b.numel() for k, b in m.named_buffers() if not k.endswith("num_batches_tracked"))
        print(json.dumps({"params": sum(p.numel() for p in m.parameters()), "buffers": n_buf,
                          "names": [k for k, _ in m.named_parameters()],
                          "bufferNames": [k for k, _ in m.named_buffers() if not k.endswith("num_batches_tracked")]}))
        return
    with open(sys.argv[2]) as fh:
        specs = json.load(fh)
    with open(sys.argv[3], "w") as fh:
        json.dump([run(spec) for spec in specs], fh)


def run(spec):
    m = build(spec["net"], spec["numClasses"], spec["inputChannels"])
    out = {
        "params": sum(p.numel() for p in m.parameters()),
        "names": [k for k, _ in m.named_parameters()],
        "bufferNames": [k for k, _ in m.named_buffers() if not k.endswith("num_batches_tracked")],
    }
    sd = m.state_dict()
    for name, w in spec["weights"].items():
        t = torch.from_numpy(decode(w["data"]).astype(np.float64)).reshape(w["shape"])
        sd[name].copy_(to_torch_layout(name, t))
    x = torch.from_numpy(decode(spec["input"]["data"]).astype(np.float64)).reshape(spec["input"]["shape"])
    x = x.permute(0, 3, 1, 2)
    m.eval()
    with torch.no_grad():
        f, z = m(x)
    out["evalFeatures"], out["evalLogits"] = f.flatten().tolist(), z.flatten().tolist()
    m.train()
    f, z = m(x)
    loss = (z * z).sum() + f.sum()
    loss.backward()
    out["trainFeatures"], out["trainLogits"] = f.detach().flatten().tolist(), z.detach().flatten().tolist()
    out["loss"] = loss.item()
    out["grads"] = {k: encode(from_torch_layout(p.grad)) for k, p in m.named_parameters()}
    out["buffers"] = {k: b.flatten().tolist() for k, b in m.named_buffers() if not k.endswith("num_batches_tracked")}
    return out

if __name__ == "__main__":
    main()
