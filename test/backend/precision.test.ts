import { describe, expect, it } from 'vitest';
import { bf16FlagsOf, resolvePrecision } from '../../src/backend/precision.js';
import { UserError } from '../../src/errors.js';

const cpuinfo = (flags: string): string => `processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: ${flags}\n\nprocessor\t: 1\nflags\t\t: fpu\n`;
const ZEN4 = cpuinfo('fpu sse2 avx2 fma avx512f avx512_bf16 avx512_vnni');
const SAPPHIRE = cpuinfo('fpu avx2 avx512f amx_bf16 amx_tile amx_int8');
const AVX2 = cpuinfo('fpu sse2 avx avx2 fma');

describe('precision', () => {
  it('reads the bf16 flags of the first flags line of /proc/cpuinfo, as whole words', () => {
    expect(bf16FlagsOf(ZEN4)).toEqual(['avx512_bf16']);
    expect(bf16FlagsOf(SAPPHIRE)).toEqual(['amx_bf16']);
    expect(bf16FlagsOf(AVX2)).toEqual([]);
    expect(bf16FlagsOf(cpuinfo('avx512_bf16x'))).toEqual([]);
    expect(bf16FlagsOf('')).toEqual([]);
  });

  it('auto is bf16 only on the torch backend of a CPU with bf16 arithmetic, and says why', () => {
    expect(resolvePrecision('auto', 'torch', ZEN4)).toEqual({ precision: 'bf16', note: 'bf16 convolutions, fp32 elsewhere (auto: the CPU has avx512_bf16)' });
    expect(resolvePrecision('auto', 'torch', AVX2)).toEqual({ precision: 'fp32', note: 'fp32 (auto: the CPU has none of avx512_bf16, amx_bf16)' });
    expect(resolvePrecision('auto', 'cpu', ZEN4).precision).toBe('fp32');
    expect(resolvePrecision('auto', 'cpu', ZEN4).note).toMatch(/torch-backend option, this run is on cpu/);
    expect(resolvePrecision('fp32', 'torch', ZEN4).precision).toBe('fp32');
    expect(resolvePrecision('bf16', 'torch', SAPPHIRE).precision).toBe('bf16');
  });

  it('refuses bf16 where it cannot pay: another backend, or a CPU that would emulate it', () => {
    expect(() => resolvePrecision('bf16', 'wasm', ZEN4)).toThrow(UserError);
    expect(() => resolvePrecision('bf16', 'wasm', ZEN4)).toThrow(/--precision: bf16 needs the torch backend; this run is on wasm/);
    expect(() => resolvePrecision('bf16', 'torch', AVX2)).toThrow(/--precision: .*none of avx512_bf16, amx_bf16: oneDNN would emulate bf16.*--precision fp32/s);
  });
});
