// Loads a model written by `ssl export` (model.json, weights.bin, metadata.json) with plain
// @tensorflow/tfjs and classifies the image dropped on the page, preprocessed as in training:
// resized to the model's input, grey by Pillow's weights when the model has one channel,
// (pixel/255 − mean)/std. Query parameters: ?model=<folder> (default "model"), ?image=<url>
// (classify it at once), ?backend=cpu|webgl (default: what tfjs picks).
const params = new URLSearchParams(location.search);
const modelDir = params.get('model') || 'model';
const $ = (id) => document.getElementById(id);
let model;
let meta;

function toInput(image) {
  const { width, height, channels, mean, std } = meta;
  const canvas = $('preview');
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d');
  ctx.drawImage(image, 0, 0, width, height);
  const rgba = ctx.getImageData(0, 0, width, height).data;
  const x = new Float32Array(width * height * channels);
  for (let p = 0; p < width * height; p++) {
    const [r, g, b] = [rgba[4 * p], rgba[4 * p + 1], rgba[4 * p + 2]];
    const values = channels === 1 ? [(r * 19595 + g * 38470 + b * 7471 + 0x8000) >>> 16] : [r, g, b];
    values.forEach((v, c) => (x[p * channels + c] = (v / 255 - mean[c]) / std[c]));
  }
  return tf.tensor4d(x, [1, height, width, channels]);
}

function show(probabilities) {
  const classIndex = probabilities.indexOf(Math.max(...probabilities));
  const result = { className: meta.classNames[classIndex], classIndex, probabilities };
  $('result').textContent = JSON.stringify(result);
  $('status').textContent = `${result.className} (${(100 * probabilities[classIndex]).toFixed(1)}%)`;
  $('scores').innerHTML = probabilities
    .map((p, c) => `<tr><td>${meta.classNames[c]}</td><td>${(100 * p).toFixed(1)}%</td><td><div class="bar" style="width:${Math.round(200 * p)}px"></div></td></tr>`)
    .join('');
}

async function classify(image) {
  const probabilities = tf.tidy(() => Array.from(tf.softmax(model.predict(toInput(image))).dataSync()));
  show(probabilities);
}

function classifyUrl(url) {
  const image = new Image();
  image.onload = () => classify(image);
  image.onerror = () => ($('status').textContent = `cannot load ${url}`);
  image.src = url;
}

function classifyFile(file) {
  if (file) classifyUrl(URL.createObjectURL(file));
}

async function init() {
  if (params.get('backend')) await tf.setBackend(params.get('backend'));
  meta = await (await fetch(`${modelDir}/metadata.json`)).json();
  model = await tf.loadLayersModel(`${modelDir}/model.json`);
  $('status').textContent = `Model ${meta.runId} (${meta.net}, step ${meta.step}, ${meta.classNames.length} classes, ${meta.width}x${meta.height}) on ${tf.getBackend()}. Drop an image.`;
  const drop = $('drop');
  drop.addEventListener('dragover', (e) => (e.preventDefault(), drop.classList.add('over')));
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => (e.preventDefault(), drop.classList.remove('over'), classifyFile(e.dataTransfer.files[0])));
  $('file').addEventListener('change', (e) => classifyFile(e.target.files[0]));
  if (params.get('image')) classifyUrl(params.get('image'));
}

init().catch((err) => ($('status').textContent = `error: ${err.message}`));
