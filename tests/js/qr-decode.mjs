// Decodes a QR code the Worker drew (tests/qr.rs runs this on its answers): a PNG through
// pngjs, an SVG by reading its path of module runs (`M<x> <y>h<n>v1h-<n>z`, src/qr.rs) back into
// pixels; then jsQR, an independent decoder, reads the code. Prints the text, or exits 1.
//
// node tests/js/qr-decode.mjs <file.png|file.svg>
import { readFileSync } from "node:fs";

import jsQR from "jsqr";
import { PNG } from "pngjs";

function fromPng(bytes) {
  const png = PNG.sync.read(bytes);
  return { data: new Uint8ClampedArray(png.data), width: png.width, height: png.height };
}

function fromSvg(text) {
  const side = Number(/viewBox="0 0 (\d+) \1"/.exec(text)?.[1]);
  const d = /<path d="([^"]*)"/.exec(text)?.[1];
  if (!side || d === undefined) throw new Error("not an SVG of src/qr.rs's shape");
  const scale = 8;
  const width = side * scale;
  const data = new Uint8ClampedArray(width * width * 4).fill(255);
  for (const [, x, y, n] of d.matchAll(/M(\d+) (\d+)h(\d+)v1h-\3z/g)) {
    for (let py = Number(y) * scale; py < (Number(y) + 1) * scale; py++) {
      for (let px = Number(x) * scale; px < (Number(x) + Number(n)) * scale; px++) {
        const i = (py * width + px) * 4;
        data[i] = data[i + 1] = data[i + 2] = 0;
      }
    }
  }
  return { data, width, height: width };
}

const file = process.argv[2];
const bytes = readFileSync(file);
const image = file.endsWith(".png") ? fromPng(bytes) : fromSvg(bytes.toString("utf8"));
const code = jsQR(image.data, image.width, image.height);
if (!code) {
  console.error(`${file}: no QR code found`);
  process.exit(1);
}
console.log(code.data);
