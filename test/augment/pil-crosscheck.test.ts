/**
 * Byte-for-byte comparison of every op with Pillow on random images. Runs only where a Python
 * with Pillow is installed (Debian `python3-pil`: /usr/bin/python3); elsewhere it is skipped and
 * the hand-computed tests in ops.test.ts carry the load.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  autoContrast,
  brightness,
  color,
  contrast,
  cutoutBox,
  equalize,
  flipHorizontal,
  paintCutout,
  posterize,
  reflectPadCrop,
  rotate,
  sharpness,
  shearX,
  shearY,
  solarize,
  translateX,
  translateY,
  type ImageDims,
} from '../../src/augment/index.js';
import { Rng } from '../../src/util/rng.js';

const PYTHON = '/usr/bin/python3';
const hasPil = spawnSync(PYTHON, ['-c', 'import PIL, numpy'], { encoding: 'utf8' }).status === 0;

const SCRIPT = String.raw`
import sys, json, base64
import numpy as np
from PIL import Image, ImageOps, ImageEnhance, ImageDraw
out = []
for c in json.load(sys.stdin):
    h, w, ch = c['h'], c['w'], c['c']
    a = np.frombuffer(base64.b64decode(c['data']), dtype=np.uint8).reshape((h, w, ch))
    img = Image.fromarray(a[:, :, 0] if ch == 1 else a, 'L' if ch == 1 else 'RGB')
    op, v = c['op'], c['arg']
    if op == 'autoContrast': r = ImageOps.autocontrast(img)
    elif op == 'equalize': r = ImageOps.equalize(img)
    elif op == 'posterize': r = ImageOps.posterize(img, int(v))
    elif op == 'solarize': r = ImageOps.solarize(img, v)
    elif op == 'brightness': r = ImageEnhance.Brightness(img).enhance(v)
    elif op == 'color': r = ImageEnhance.Color(img).enhance(v)
    elif op == 'contrast': r = ImageEnhance.Contrast(img).enhance(v)
    elif op == 'sharpness': r = ImageEnhance.Sharpness(img).enhance(v)
    elif op == 'rotate': r = img.rotate(v)
    elif op == 'shearX': r = img.transform(img.size, Image.AFFINE, (1, v, 0, 0, 1, 0))
    elif op == 'shearY': r = img.transform(img.size, Image.AFFINE, (1, 0, 0, v, 1, 0))
    elif op == 'translateX': r = img.transform(img.size, Image.AFFINE, (1, 0, int(v * img.size[0]), 0, 1, 0))
    elif op == 'translateY': r = img.transform(img.size, Image.AFFINE, (1, 0, 0, 0, 1, int(v * img.size[1])))
    elif op == 'flip': r = img.transpose(Image.FLIP_LEFT_RIGHT)
    elif op == 'padCrop':
        p, top, left = v
        padded = np.pad(a, ((p, p), (p, p), (0, 0)), mode='reflect')
        crop = padded[top:top + h, left:left + w]
        r = Image.fromarray(crop[:, :, 0] if ch == 1 else crop, 'L' if ch == 1 else 'RGB')
    elif op == 'cutout':
        size, x, y = v
        x0 = int(max(0, x - size / 2.)); y0 = int(max(0, y - size / 2.))
        x1 = int(min(w, x0 + size)); y1 = int(min(h, y0 + size))
        r = img.copy()
        ImageDraw.Draw(r).rectangle((x0, y0, x1, y1), 127 if ch == 1 else (127, 127, 127))
    else: raise ValueError(op)
    out.append(base64.b64encode(np.asarray(r, dtype=np.uint8).tobytes()).decode())
json.dump(out, sys.stdout)
`;

interface Case {
  op: string;
  dims: ImageDims;
  img: Uint8Array;
  arg: number | number[];
  ours: Uint8Array;
}

function randomImage(rng: Rng, dims: ImageDims): Uint8Array {
  const img = new Uint8Array(dims.height * dims.width * dims.channels);
  // Mix full-range and narrow-range images so autocontrast/equalize see both.
  const lo = rng.int(2) === 0 ? 0 : rng.int(120);
  const span = 1 + rng.int(256 - lo);
  for (let i = 0; i < img.length; i++) img[i] = lo + rng.int(span);
  return img;
}

function buildCases(): Case[] {
  const rng = new Rng(12345);
  const shapes: ImageDims[] = [
    { height: 32, width: 32, channels: 3 },
    { height: 28, width: 28, channels: 1 },
    { height: 7, width: 5, channels: 3 },
    { height: 6, width: 9, channels: 1 },
  ];
  const cases: Case[] = [];
  const add = (op: string, dims: ImageDims, img: Uint8Array, arg: number | number[], ours: Uint8Array): void => {
    cases.push({ op, dims, img, arg, ours });
  };
  for (const dims of shapes) {
    for (let rep = 0; rep < 6; rep++) {
      const img = randomImage(rng, dims);
      const level = 1 + rng.int(9);
      const sign = rng.int(2) === 0 ? 1 : -1;
      const factor = (level / 10) * 0.9 + 0.05;
      add('autoContrast', dims, img, 0, autoContrast(img, dims));
      add('equalize', dims, img, 0, equalize(img, dims));
      const bits = Math.trunc((level / 10) * 4) + 4;
      add('posterize', dims, img, bits, posterize(img, dims, bits));
      const thr = 256 - Math.trunc((level / 10) * 256);
      add('solarize', dims, img, thr, solarize(img, dims, thr));
      for (const f of [factor, 1.7, -0.3]) {
        add('brightness', dims, img, f, brightness(img, dims, f));
        add('color', dims, img, f, color(img, dims, f));
        add('contrast', dims, img, f, contrast(img, dims, f));
        add('sharpness', dims, img, f, sharpness(img, dims, f));
      }
      const deg = sign * Math.trunc((level / 10) * 30);
      add('rotate', dims, img, deg, rotate(img, dims, deg));
      add('rotate', dims, img, 90, rotate(img, dims, 90));
      add('rotate', dims, img, -37.5, rotate(img, dims, -37.5));
      const shear = sign * ((level / 10) * 0.3);
      add('shearX', dims, img, shear, shearX(img, dims, shear));
      add('shearY', dims, img, -shear, shearY(img, dims, -shear));
      add('translateX', dims, img, shear, translateX(img, dims, shear));
      add('translateY', dims, img, -shear, translateY(img, dims, -shear));
      add('flip', dims, img, 0, flipHorizontal(img, dims));
      const p = Math.min(4, dims.height - 1, dims.width - 1);
      const top = rng.int(2 * p + 1);
      const left = rng.int(2 * p + 1);
      add('padCrop', dims, img, [p, top, left], reflectPadCrop(img, dims, p, top, left));
      const size = Math.floor(Math.min(dims.height, dims.width) / 2);
      const x = rng.float() * dims.width;
      const y = rng.float() * dims.height;
      add('cutout', dims, img, [size, x, y], paintCutout(img, dims, cutoutBox(dims, size, x, y)));
    }
  }
  return cases;
}

describe.skipIf(!hasPil)('augment ops match Pillow byte for byte', () => {
  it('every op on random images of several shapes', () => {
    const cases = buildCases();
    const input = JSON.stringify(
      cases.map((c) => ({
        op: c.op,
        h: c.dims.height,
        w: c.dims.width,
        c: c.dims.channels,
        data: Buffer.from(c.img).toString('base64'),
        arg: c.arg,
      })),
    );
    const res = spawnSync(PYTHON, ['-c', SCRIPT], { input, encoding: 'utf8', maxBuffer: 1 << 28 });
    expect(res.stderr).toBe('');
    const theirs = JSON.parse(res.stdout) as string[];
    expect(theirs.length).toBe(cases.length);
    const mismatches: string[] = [];
    cases.forEach((c, i) => {
      const pil = new Uint8Array(Buffer.from(theirs[i], 'base64'));
      let diff = 0;
      for (let k = 0; k < pil.length; k++) if (pil[k] !== c.ours[k]) diff++;
      if (diff > 0 || pil.length !== c.ours.length) {
        mismatches.push(`${c.op}(${JSON.stringify(c.arg)}) ${c.dims.height}x${c.dims.width}x${c.dims.channels}: ${diff} bytes`);
      }
    });
    expect(mismatches).toEqual([]);
  });
});
