#!/usr/bin/env python3
"""PyTorch reference for `ssl bench`: the same nets and the same training step as ssl's trainer.

The nets mirror src/models/{cnn-small,wrn,resnet32}.ts layer by layer (bias-free 3x3 convs with
symmetric padding 1, BatchNorm eps 1e-5 / momentum 0.1, LeakyReLU 0.1, global average pool,
linear head). The step mirrors src/train/training-state.ts `trainStep` with FixMatch
(src/algorithms/fixmatch.ts) or the supervised step:

  fixmatch:   uint8 NHWC batches -> normalised float; one forward over cat[labeled | weak | strong];
              CE(labeled) mean; p = softmax(z_weak) detached; pseudo-label argmax p, mask max p >= 0.95;
              sum(mask * CE(z_strong, pseudo-label)) / B_u; total = L_x + L_u; backward;
              SGD(lr .03, momentum .9, Nesterov, weight decay 5e-4); EMA of params and BN buffers
              with decay min(1 - 1/(t+1), 0.999); loss terms and pseudo-labels read back.
  supervised: the same on the labeled images only (CE mean, SGD, EMA, terms read back).

Modes:
  --count-params              print {"net", "params", "buffers"} for every net and exit.
  --serve                     build both formats, warm up, print {"event": "ready"}, then run one
                              timed round per stdin line {"format": "channels_last"|"nchw", "steps": N,
                              "round": R} and answer with one {"event": "round", ...} line. EOF ends.
                              `ssl bench` uses this to interleave PyTorch rounds with its own.
  (default)                   standalone: R rounds, each channels_last then NCHW, one JSON line per
                              timed round.

Activations are in place where the input is a fresh BatchNorm output (what official PyTorch code
does); SGD uses foreach=True and the EMA torch._foreach_*: the reference is PyTorch at its best.
Only the standard library and torch are used. Warm-up steps are never timed.
"""

import argparse
import json
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

BN_EPS = 1e-5
BN_MOMENTUM = 0.1
LEAKY_SLOPE = 0.1
NUM_CLASSES = 10
NET_NAMES = ("cnn-small", "wrn-28-2", "resnet-32")
FORMATS = ("channels_last", "nchw")
# CIFAR-10 statistics; the values do not change the speed, only that the step normalises.
MEAN = (0.4914, 0.4822, 0.4465)
STD = (0.2471, 0.2435, 0.2616)


def conv3x3(in_c, out_c, stride=1):
    return nn.Conv2d(in_c, out_c, 3, stride=stride, padding=1, bias=False)


def bn(c):
    return nn.BatchNorm2d(c, eps=BN_EPS, momentum=BN_MOMENTUM)


class CnnSmall(nn.Module):
    """src/models/cnn-small.ts: [conv3x3-BN-LReLU] 32,32, maxpool2, 64,64, maxpool2, 128, GAP, linear."""

    CHANNELS = (32, 32, 64, 64, 128)
    POOL_AFTER = (1, 3)

    def __init__(self, num_classes=NUM_CLASSES, in_c=3):
        super().__init__()
        layers = []
        c = in_c
        for i, out_c in enumerate(self.CHANNELS):
            layers += [conv3x3(c, out_c), bn(out_c), nn.LeakyReLU(LEAKY_SLOPE, inplace=True)]
            if i in self.POOL_AFTER:
                layers.append(nn.MaxPool2d(2, 2))
            c = out_c
        self.encoder = nn.Sequential(*layers)
        self.classifier = nn.Linear(c, num_classes)

    def forward(self, x):
        h = self.encoder(x)
        return self.classifier(torch.flatten(F.adaptive_avg_pool2d(h, 1), 1))


class WrnBlock(nn.Module):
    """src/models/wrn.ts Block (ytaek-oh/daso lib/models/wrn.py `residual`).

    activate_first: a = LReLU(BN(x)); out = shortcut(a) + conv2(LReLU(BN(conv1(a))))
    otherwise:      out = shortcut(x) + conv2(LReLU(BN(conv1(LReLU(BN(x))))))
    shortcut = 1x1 conv (stride) when stride >= 2 or channels change, else identity.
    """

    def __init__(self, in_c, out_c, stride, activate_first):
        super().__init__()
        self.activate_first = activate_first
        self.pre_bn = bn(in_c)
        self.conv1 = conv3x3(in_c, out_c, stride)
        self.bn2 = bn(out_c)
        self.conv2 = conv3x3(out_c, out_c)
        self.shortcut = nn.Conv2d(in_c, out_c, 1, stride=stride, bias=False) if stride >= 2 or in_c != out_c else None

    def forward(self, x):
        a = F.leaky_relu(self.pre_bn(x), LEAKY_SLOPE, inplace=True)
        s = a if self.activate_first else x
        residual = self.shortcut(s) if self.shortcut is not None else s
        h = self.conv2(F.leaky_relu(self.bn2(self.conv1(a)), LEAKY_SLOPE, inplace=True))
        return residual + h


class Wrn(nn.Module):
    """src/models/wrn.ts: WRN-28-k, conv3x3(16), 3 stages x 4 blocks, BN-LReLU, GAP, linear."""

    def __init__(self, num_classes=NUM_CLASSES, in_c=3, width=2):
        super().__init__()
        filters = [16, 16 * width, 32 * width, 64 * width]
        self.init_conv = conv3x3(in_c, filters[0])
        blocks = []
        for unit in range(1, 4):
            for i in range(4):
                block_in = filters[unit - 1] if i == 0 else filters[unit]
                stride = 2 if i == 0 and unit > 1 else 1
                blocks.append(WrnBlock(block_in, filters[unit], stride, unit == 1 and i == 0))
        self.blocks = nn.Sequential(*blocks)
        self.final_bn = bn(filters[3])
        self.classifier = nn.Linear(filters[3], num_classes)

    def forward(self, x):
        h = self.blocks(self.init_conv(x))
        h = F.leaky_relu(self.final_bn(h), LEAKY_SLOPE, inplace=True)
        return self.classifier(torch.flatten(F.adaptive_avg_pool2d(h, 1), 1))


class BasicBlock(nn.Module):
    """src/models/resnet32.ts BasicBlock (kaidic/LDAM-DRW models/resnet_cifar.py, option A)."""

    def __init__(self, in_planes, planes, stride):
        super().__init__()
        self.conv1 = conv3x3(in_planes, planes, stride)
        self.bn1 = bn(planes)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = bn(planes)
        self.pad = planes // 4 if stride != 1 or in_planes != planes else None

    def forward(self, x):
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)), inplace=True)))
        shortcut = x if self.pad is None else F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.pad, self.pad))
        return F.relu(out + shortcut, inplace=True)


class Resnet32(nn.Module):
    """src/models/resnet32.ts: conv3x3(16)-BN-ReLU, 3 stages x 5 basic blocks (16/32/64), GAP, linear."""

    def __init__(self, num_classes=NUM_CLASSES, in_c=3):
        super().__init__()
        self.conv1 = conv3x3(in_c, 16)
        self.bn1 = bn(16)
        blocks = []
        in_planes = 16
        for stage, planes in enumerate((16, 32, 64)):
            for i in range(5):
                blocks.append(BasicBlock(in_planes, planes, 2 if i == 0 and stage > 0 else 1))
                in_planes = planes
        self.blocks = nn.Sequential(*blocks)
        self.linear = nn.Linear(64, num_classes)

    def forward(self, x):
        h = self.blocks(F.relu(self.bn1(self.conv1(x)), inplace=True))
        return self.linear(torch.flatten(F.adaptive_avg_pool2d(h, 1), 1))


def create_net(name):
    if name == "cnn-small":
        return CnnSmall()
    if name == "wrn-28-2":
        return Wrn(width=2)
    if name == "resnet-32":
        return Resnet32()
    raise SystemExit(f"bench_torch.py: unknown net '{name}' (valid: {', '.join(NET_NAMES)})")


def init_weights(model):
    """Kaiming-normal fan_out convs, BN 1/0, Xavier-normal head (src/models/init.ts); speed-neutral."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.xavier_normal_(m.weight)
            nn.init.zeros_(m.bias)


def float_buffers(model):
    """BN running mean/var (our models have no num_batches_tracked counter: it is not averaged)."""
    return [b for b in model.buffers() if b.is_floating_point()]


def count_params(name):
    model = create_net(name)
    return {
        "net": name,
        "params": sum(p.numel() for p in model.parameters()),
        "buffers": sum(b.numel() for b in float_buffers(model)),
    }


class Trainer:
    """Model, EMA copy, optimizer and fixed random uint8 batches for one memory format."""

    def __init__(self, net, step, fmt, labeled, unlabeled, seed):
        torch.manual_seed(seed)
        self.step_kind = step
        self.channels_last = fmt == "channels_last"
        self.memory_format = torch.channels_last if self.channels_last else torch.contiguous_format
        self.model = create_net(net)
        init_weights(self.model)
        self.model = self.model.to(memory_format=self.memory_format).train()
        self.ema = create_net(net).to(memory_format=self.memory_format)
        self.ema.load_state_dict(self.model.state_dict())
        self.ema.train(False)
        for p in self.ema.parameters():
            p.requires_grad_(False)
        self.ema_vars = list(self.ema.parameters()) + float_buffers(self.ema)
        self.src_vars = list(self.model.parameters()) + float_buffers(self.model)
        # foreach=True: PyTorch's fastest CPU SGD (multi-tensor), so the reference is its best.
        self.opt = torch.optim.SGD(self.model.parameters(), lr=0.03, momentum=0.9, nesterov=True, weight_decay=5e-4, foreach=True)
        self.mean = torch.tensor(MEAN).view(1, 1, 1, 3)
        self.std = torch.tensor(STD).view(1, 1, 1, 3)
        g = torch.Generator().manual_seed(seed + 1)
        rand_u8 = lambda n: torch.randint(0, 256, (n, 32, 32, 3), dtype=torch.uint8, generator=g).numpy()
        self.labeled = rand_u8(labeled)
        self.labels = torch.randint(0, NUM_CLASSES, (labeled,), generator=g)
        self.weak = rand_u8(unlabeled)
        self.strong = rand_u8(unlabeled)
        self.num_unlabeled = unlabeled
        self.images_per_step = labeled + (2 * unlabeled if step == "fixmatch" else 0)
        self.t = 0

    def to_input(self, images):
        """uint8 NHWC (numpy) -> normalised float NCHW in the trainer's memory format (src/pipeline/to-tensor.ts)."""
        x = torch.from_numpy(images).float().div_(255).sub_(self.mean).div_(self.std)
        x = x.permute(0, 3, 1, 2)  # a channels_last view, no copy
        return x.contiguous(memory_format=self.memory_format)

    def step(self):
        if self.step_kind == "fixmatch":
            x = torch.cat([self.to_input(self.labeled), self.to_input(self.weak), self.to_input(self.strong)], 0)
            nl, nu = self.labeled.shape[0], self.num_unlabeled
            logits = self.model(x)
            logits_x, logits_w, logits_s = torch.split(logits, [nl, nu, nu], 0)
            loss_x = F.cross_entropy(logits_x, self.labels)
            probs = torch.softmax(logits_w.detach(), 1)
            conf, pseudo = probs.max(1)
            mask = (conf >= 0.95).float()
            loss_u = (F.cross_entropy(logits_s, pseudo, reduction="none") * mask).sum() / nu
            loss = loss_x + 1.0 * loss_u
            terms = (loss_x, loss_u, mask.mean())
        else:
            logits = self.model(self.to_input(self.labeled))
            loss = F.cross_entropy(logits, self.labels)
            terms = (loss,)
            pseudo, mask = None, None
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        decay = min(1 - 1 / (self.t + 1), 0.999)
        with torch.no_grad():
            torch._foreach_mul_(self.ema_vars, decay)
            torch._foreach_add_(self.ema_vars, self.src_vars, alpha=1 - decay)
        # Read back as the trainer does (loss terms and pseudo-labels to the host).
        [t.item() for t in terms]
        if pseudo is not None:
            pseudo.numpy()
            mask.numpy()
        self.t += 1

    def timed_round(self, steps):
        start = time.perf_counter()
        for _ in range(steps):
            self.step()
        seconds = time.perf_counter() - start
        return {"steps": steps, "seconds": seconds, "imagesPerSecond": steps * self.images_per_step / seconds, "rss": rss_bytes()}


def rss_bytes():
    """Current resident set size of this process (Linux /proc), else the peak from getrusage."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--net", choices=NET_NAMES, default="wrn-28-2")
    ap.add_argument("--step", choices=("fixmatch", "supervised"), default="fixmatch")
    ap.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0 = number of cores)")
    ap.add_argument("--steps", type=int, default=10, help="timed steps per round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=3, help="untimed steps per format before the first round")
    ap.add_argument("--labeled", type=int, default=64)
    ap.add_argument("--unlabeled", type=int, default=128)
    ap.add_argument("--formats", default=",".join(FORMATS), help="comma-separated subset of channels_last,nchw")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--serve", action="store_true", help="one timed round per stdin JSON line")
    ap.add_argument("--count-params", action="store_true")
    args = ap.parse_args()

    if args.count_params:
        for name in NET_NAMES:
            emit(count_params(name))
        return

    threads = args.threads if args.threads > 0 else (os.cpu_count() or 1)
    torch.set_num_threads(threads)
    formats = [f for f in args.formats.split(",") if f]
    for f in formats:
        if f not in FORMATS:
            raise SystemExit(f"bench_torch.py: unknown format '{f}' (valid: {', '.join(FORMATS)})")
    trainers = {f: Trainer(args.net, args.step, f, args.labeled, args.unlabeled, args.seed) for f in formats}
    for t in trainers.values():
        for _ in range(args.warmup):
            t.step()
    emit({
        "event": "ready",
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "ompWaitPolicy": os.environ.get("OMP_WAIT_POLICY", "(libgomp default)"),
        "net": args.net,
        "step": args.step,
        "formats": formats,
        "warmup": args.warmup,
        "imagesPerStep": next(iter(trainers.values())).images_per_step if trainers else 0,
    })

    if args.serve:
        for line in sys.stdin:
            line = line.strip()
            if not line:
                continue
            cmd = json.loads(line)
            fmt = cmd.get("format")
            if fmt not in trainers:
                emit({"event": "error", "message": f"unknown format {fmt!r}"})
                continue
            emit({"event": "round", "format": fmt, "round": cmd.get("round"), **trainers[fmt].timed_round(int(cmd["steps"]))})
        return

    for r in range(args.rounds):
        for fmt in formats:
            emit({"event": "round", "format": fmt, "round": r + 1, **trainers[fmt].timed_round(args.steps)})


if __name__ == "__main__":
    main()
