const a = require('./native/build/Release/ssl_torch.node');
a.setThreads(Number(process.argv[2] ?? 1));
const n = 320*32*32*32;
const x = a.fromData(new Float32Array(n).fill(0.5), [320,32,32,32], 0)[0];
const y = a.fromData(new Float32Array(n).fill(0.25), [320,32,32,32], 0)[0];
const add = a.op('aten::add', 'Tensor'); const lrb = a.op('aten::leaky_relu_backward','');
for (const [name, op, args] of [['add', add, [x, y]], ['lrelu_bwd', lrb, [x, y, 0.1, false]]]) {
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now();
    for (let i = 0; i < 10; i++) { const o = a.call(op, args); a.free(o[0]); }
    console.log(name, ((performance.now() - t0) / 10).toFixed(1), 'ms');
  }
}
