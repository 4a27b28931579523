/** RandAugment ops, weak augmentation and Cutout on hand-made images; expected pixels by hand (PIL semantics). */
import { describe, expect, it } from 'vitest';
import {
  autoContrast,
  brightness,
  color,
  contrast,
  cutoutBox,
  defaultCutoutSize,
  equalize,
  flipHorizontal,
  identity,
  paintCutout,
  posterize,
  reflectPadCrop,
  rotate,
  sharpness,
  shearX,
  shearY,
  smooth,
  solarize,
  translateX,
  translateY,
  type ImageDims,
} from '../../src/augment/index.js';

const grey = (height: number, width: number): ImageDims => ({ height, width, channels: 1 });
const rgb = (height: number, width: number): ImageDims => ({ height, width, channels: 3 });
const u8 = (values: number[]): Uint8Array => Uint8Array.from(values);
const list = (a: Uint8Array): number[] => Array.from(a);

describe('weak augmentation pieces', () => {
  it('flipHorizontal mirrors rows, keeping channel order', () => {
    expect(list(flipHorizontal(u8([1, 2, 3, 4, 5, 6]), grey(2, 3)))).toEqual([3, 2, 1, 6, 5, 4]);
    expect(list(flipHorizontal(u8([1, 2, 3, 4, 5, 6]), rgb(1, 2)))).toEqual([4, 5, 6, 1, 2, 3]);
  });

  it('reflectPadCrop reads the reflect-padded image (edge not repeated)', () => {
    const img = u8(Array.from({ length: 16 }, (_, i) => i)); // v = 4y + x
    const dims = grey(4, 4);
    // padding 2, corner (0,0): rows/cols map -2 -> 2, -1 -> 1, 0 -> 0, 1 -> 1.
    expect(list(reflectPadCrop(img, dims, 2, 0, 0))).toEqual([10, 9, 8, 9, 6, 5, 4, 5, 2, 1, 0, 1, 6, 5, 4, 5]);
    // corner (4,4): rows/cols 2, 3, 4 -> 2, 5 -> 1.
    expect(list(reflectPadCrop(img, dims, 2, 4, 4))).toEqual([10, 11, 10, 9, 14, 15, 14, 13, 10, 11, 10, 9, 6, 7, 6, 5]);
    expect(list(reflectPadCrop(img, dims, 2, 2, 2))).toEqual(list(img));
    // one to the right: cols 1, 2, 3, 4 -> 2.
    expect(list(reflectPadCrop(img, dims, 2, 2, 3)).slice(0, 4)).toEqual([1, 2, 3, 2]);
  });

  it('reflectPadCrop rejects offsets outside the padded image', () => {
    expect(() => reflectPadCrop(new Uint8Array(16), grey(4, 4), 2, 5, 0)).toThrow(/top\/left/);
  });
});

describe('point ops', () => {
  it('posterize keeps the top bits', () => {
    const img = u8([0, 37, 128, 200, 255]);
    expect(list(posterize(img, grey(1, 5), 4))).toEqual([0, 32, 128, 192, 240]);
    expect(list(posterize(img, grey(1, 5), 7))).toEqual([0, 36, 128, 200, 254]);
  });

  it('solarize inverts values at or above the threshold', () => {
    expect(list(solarize(u8([0, 127, 128, 200, 255]), grey(1, 5), 128))).toEqual([0, 127, 127, 55, 0]);
    // Threshold 256 (v = 0) changes nothing.
    expect(list(solarize(u8([0, 255]), grey(1, 2), 256))).toEqual([0, 255]);
  });

  it('autoContrast stretches [lo, hi] to [0, 255] per channel with truncation', () => {
    // lo 10, hi 61: scale 5, offset -50.
    expect(list(autoContrast(u8([10, 20, 61, 35]), grey(1, 4)))).toEqual([0, 50, 255, 125]);
    // lo 0, hi 2: 1 * 127.5 truncates to 127.
    expect(list(autoContrast(u8([0, 1, 2]), grey(1, 3)))).toEqual([0, 127, 255]);
    // A single value is left alone.
    expect(list(autoContrast(u8([9, 9]), grey(1, 2)))).toEqual([9, 9]);
    // RGB: channel 0 spans 10..61, channel 1 already 0..255, channel 2 constant.
    const img = u8([10, 0, 7, 61, 255, 7, 35, 100, 7]);
    expect(list(autoContrast(img, rgb(1, 3)))).toEqual([0, 0, 7, 255, 255, 7, 125, 100, 7]);
  });

  it('equalize follows PIL: step = (N − count of the top value) // 255', () => {
    // 512 px: 300 x 10, 210 x 20, 2 x 30. step = 510 // 255 = 2, n starts at 1:
    // lut[10] = 1//2 = 0, lut[20] = (1 + 300)//2 = 150, lut[30] = (1 + 510)//2 = 255.
    const img = new Uint8Array(512);
    img.fill(10, 0, 300);
    img.fill(20, 300, 510);
    img.fill(30, 510);
    const out = equalize(img, grey(16, 32));
    expect([out[0], out[299], out[300], out[509], out[510], out[511]]).toEqual([0, 0, 150, 150, 255, 255]);
    // Fewer than 256 pixels below the top value: step 0, identity.
    expect(list(equalize(u8([0, 0, 0, 0, 1, 1, 2, 3]), grey(2, 4)))).toEqual([0, 0, 0, 0, 1, 1, 2, 3]);
  });

  it('identity copies', () => {
    const img = u8([1, 2]);
    const out = identity(img, grey(1, 2));
    expect(list(out)).toEqual([1, 2]);
    expect(out).not.toBe(img);
  });
});

describe('enhance ops (blend with a degenerate image in float32, truncated)', () => {
  it('brightness blends with black', () => {
    expect(list(brightness(u8([0, 1, 3, 255]), grey(1, 4), 0.5))).toEqual([0, 0, 1, 127]);
    // In doubles 100 · 0.29 = 28.999999999999996 -> 28, but PIL multiplies in float32:
    // float32(0.29) · 100 = 28.9999992 rounds to float32 29.0 -> 29 (checked against Pillow 9.4).
    expect(list(brightness(u8([100, 100]), grey(1, 2), 0.29))).toEqual([29, 29]);
    expect(list(brightness(u8([100]), grey(1, 1), 0.57))).toEqual([57]);
  });

  it('contrast blends with the rounded mean luma', () => {
    expect(list(contrast(u8([0, 100, 200, 100]), grey(1, 4), 0.5))).toEqual([50, 100, 150, 100]);
    // mean 101: 101 − 50.5 -> 50, 101 + 49.5 -> 150, 101 + 1 -> 102.
    expect(list(contrast(u8([0, 101, 200, 103]), grey(1, 4), 0.5))).toEqual([50, 101, 150, 102]);
    // RGB grey pixels have luma = value: mean (0 + 200)/2 = 100.
    expect(list(contrast(u8([0, 0, 0, 200, 200, 200]), rgb(1, 2), 0.25))).toEqual([75, 75, 75, 125, 125, 125]);
  });

  it('color blends with the luma image and is a no-op on grey', () => {
    // luma(255, 0, 0) = (19595·255 + 32768) >> 16 = 76; 76 + 0.5·179 -> 165, 76 − 38 = 38.
    expect(list(color(u8([255, 0, 0]), rgb(1, 1), 0.5))).toEqual([165, 38, 38]);
    expect(list(color(u8([3, 200]), grey(1, 2), 0.14))).toEqual([3, 200]);
  });

  it('sharpness blends with the SMOOTH-filtered image; borders are unfiltered', () => {
    const img = u8([0, 0, 0, 0, 100, 0, 0, 0, 0]);
    // Interior: 0.5 + 100·5/13 = 38.96 -> 38; borders copied.
    expect(list(smooth(img, grey(3, 3)))).toEqual([0, 0, 0, 0, 38, 0, 0, 0, 0]);
    // 38 + 0.5·(100 − 38) = 69.
    expect(list(sharpness(img, grey(3, 3), 0.5))).toEqual([0, 0, 0, 0, 69, 0, 0, 0, 0]);
    // A flat image stays flat (0.5 + 13·(13/13) truncates to 13).
    expect(list(smooth(new Uint8Array(9).fill(13), grey(3, 3)))).toEqual(new Array(9).fill(13));
  });
});

describe('geometric ops (PIL nearest neighbour, black fill)', () => {
  it('translateX/Y move by int(fraction · side) pixels', () => {
    const row = u8([1, 2, 3, 4]);
    expect(list(translateX(row, grey(1, 4), 0.5))).toEqual([3, 4, 0, 0]);
    // int(-0.3 · 4) = -1: content moves right by one.
    expect(list(translateX(row, grey(1, 4), -0.3))).toEqual([0, 1, 2, 3]);
    // int(0.4 · 3) = 1.
    expect(list(translateY(u8([1, 2, 3]), grey(3, 1), 0.4))).toEqual([2, 3, 0]);
    // int(0.03 · 32) = 0: the smallest level moves nothing at 32 px, as in the official code.
    const img = u8(Array.from({ length: 32 }, (_, i) => i + 1));
    expect(list(translateX(img, grey(1, 32), 0.03))).toEqual(list(img));
  });

  it('rotate 90/270/180 on a square image are exact transposes (counter-clockwise)', () => {
    const img = u8([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(list(rotate(img, grey(3, 3), 90))).toEqual([3, 6, 9, 2, 5, 8, 1, 4, 7]);
    expect(list(rotate(img, grey(3, 3), -90))).toEqual([7, 4, 1, 8, 5, 2, 9, 6, 3]);
    expect(list(rotate(img, grey(3, 3), 180))).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1]);
  });

  it('rotate 90 on a non-square image goes through the fixed-point affine path', () => {
    // 2x3 input; matrix [0, -1, 2.5, 1, 0, -0.5]: out(x, y) = in(2 − y, x), x = 2 falls outside.
    const img = u8([1, 2, 3, 4, 5, 6]);
    expect(list(rotate(img, grey(2, 3), 90))).toEqual([3, 6, 0, 2, 5, 0]);
    expect(list(rotate(u8([1, 2, 3, 4, 5, 6]), grey(2, 3), 180))).toEqual([6, 5, 4, 3, 2, 1]);
  });

  it('rotate by a small angle keeps the centre pixel of an odd image', () => {
    const img = new Uint8Array(25);
    img[12] = 200;
    for (const deg of [3, -27]) expect(rotate(img, grey(5, 5), deg)[12]).toBe(200);
  });

  it('shearX reads x + shear·(y + 0.5) per row; shearY likewise per column', () => {
    const img = u8([1, 2, 3, 4, 5, 6, 7, 8]);
    // Row 1 reads x + 1.25 -> x + 1 (shear 0.5) or x − 0.25 -> x − 1 (shear −0.5).
    expect(list(shearX(img, grey(2, 4), 0.5))).toEqual([1, 2, 3, 4, 6, 7, 8, 0]);
    expect(list(shearX(img, grey(2, 4), -0.5))).toEqual([1, 2, 3, 4, 0, 5, 6, 7]);
    // 4x2 image, columns [1,2,3,4] and [5,6,7,8]: column 1 moves up by one.
    const tall = u8([1, 5, 2, 6, 3, 7, 4, 8]);
    expect(list(shearY(tall, grey(4, 2), 0.5))).toEqual([1, 6, 2, 7, 3, 8, 4, 0]);
  });

  it('ops act on every channel of an RGB pixel alike', () => {
    const img = u8([1, 2, 3, 4, 5, 6]);
    expect(list(translateX(img, rgb(1, 2), 0.5))).toEqual([4, 5, 6, 0, 0, 0]);
  });
});

describe('cutout (official CutoutAbs: inclusive end points, shifted inward at left/top)', () => {
  const count127 = (a: Uint8Array): number => a.reduce((n, v) => n + (v === 127 ? 1 : 0), 0);

  it('default side is half the image side', () => {
    expect(defaultCutoutSize(rgb(32, 32))).toBe(16);
    expect(defaultCutoutSize(grey(28, 28))).toBe(14);
  });

  it('paints 17x17 pixels for side 16 in the middle of a 32 px image', () => {
    const dims = rgb(32, 32);
    const box = cutoutBox(dims, 16, 16.5, 16.5);
    expect(box).toEqual({ x0: 8, y0: 8, x1: 24, y1: 24 });
    const out = paintCutout(new Uint8Array(32 * 32 * 3), dims, box);
    expect(count127(out)).toBe(17 * 17 * 3);
    expect(out[(8 * 32 + 24) * 3]).toBe(127);
    expect(out[(8 * 32 + 25) * 3]).toBe(0);
  });

  it('shifts the square inward near the left/top edge and clips at the right/bottom edge', () => {
    const dims = grey(32, 32);
    expect(cutoutBox(dims, 16, 2.0, 3.0)).toEqual({ x0: 0, y0: 0, x1: 16, y1: 16 });
    expect(count127(paintCutout(new Uint8Array(1024), dims, cutoutBox(dims, 16, 2.0, 3.0)))).toBe(289);
    // x0 = 23, y0 = 22, end points clipped to 31: 9 x 10.
    const right = cutoutBox(dims, 16, 31.9, 30.2);
    expect(right).toEqual({ x0: 23, y0: 22, x1: 31, y1: 31 });
    expect(count127(paintCutout(new Uint8Array(1024), dims, right))).toBe(90);
  });

  it('paints 15x15 for side 14 on a 28 px grey image', () => {
    const dims = grey(28, 28);
    expect(count127(paintCutout(new Uint8Array(784), dims, cutoutBox(dims, 14, 14, 14)))).toBe(225);
  });
});

describe('ops are pure', () => {
  it('never write to their input', () => {
    const img = u8([5, 60, 90, 200, 17, 33, 250, 1, 128]);
    const before = list(img);
    const dims = grey(3, 3);
    autoContrast(img, dims);
    equalize(img, dims);
    sharpness(img, dims, 0.3);
    rotate(img, dims, 13);
    shearX(img, dims, 0.2);
    paintCutout(img, dims, cutoutBox(dims, 1, 1, 1));
    expect(list(img)).toEqual(before);
  });
});
