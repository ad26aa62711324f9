// Draws the app's PNG icons (home screens that do not take SVG: Android's install
// banner, iOS) from the same shapes as public/icon.svg: a rounded navy square with an
// amber "M". Run with `node scripts/icons.mjs`; the PNGs are committed.

import { writeFileSync } from "node:fs";
import { deflateSync } from "node:zlib";

const NAVY = [0x14, 0x21, 0x3d];
const AMBER = [0xfc, 0xa3, 0x11];
// The "M" of icon.svg in its 64-unit box.
const M = [[16, 44], [16, 20], [22, 20], [32, 33], [42, 20], [48, 20], [48, 44], [41, 44], [41, 31], [32, 42], [23, 31], [23, 44]];

function inside(poly, x, y) {
  let on = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [xi, yi] = poly[i];
    const [xj, yj] = poly[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) on = !on;
  }
  return on;
}

/** Coverage of one pixel by a shape, 4×4 samples, for smooth edges. */
function coverage(test, px, py, scale) {
  let n = 0;
  for (let sy = 0; sy < 4; sy++)
    for (let sx = 0; sx < 4; sx++) if (test((px + (sx + 0.5) / 4) / scale, (py + (sy + 0.5) / 4) / scale)) n++;
  return n / 16;
}

function crc32(bytes) {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

function chunk(type, data) {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, "ascii");
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** A `size`² RGBA PNG; `full` fills the square edge to edge (maskable, iOS rounds it). */
function icon(size, full) {
  const scale = size / 64;
  const radius = full ? 0 : 14;
  const square = (x, y) => {
    const cx = Math.min(Math.max(x, radius), 64 - radius);
    const cy = Math.min(Math.max(y, radius), 64 - radius);
    return (x - cx) ** 2 + (y - cy) ** 2 <= radius ** 2;
  };
  // A maskable icon keeps its mark inside the middle 80%.
  const mark = full ? (x, y) => inside(M, (x - 32) / 0.8 + 32, (y - 32) / 0.8 + 32) : (x, y) => inside(M, x, y);
  const raw = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) {
    const row = y * (size * 4 + 1);
    raw[row] = 0;
    for (let x = 0; x < size; x++) {
      const a = coverage(square, x, y, scale);
      const m = coverage(mark, x, y, scale);
      const p = row + 1 + x * 4;
      for (let c = 0; c < 3; c++) raw[p + c] = Math.round(NAVY[c] * (1 - m) + AMBER[c] * m);
      raw[p + 3] = Math.round(255 * a);
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bit depth
  header[9] = 6; // RGBA
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(raw, { level: 9 })),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

const dir = new URL("../public/", import.meta.url);
writeFileSync(new URL("icon-192.png", dir), icon(192, false));
writeFileSync(new URL("icon-512.png", dir), icon(512, false));
writeFileSync(new URL("icon-maskable-512.png", dir), icon(512, true));
writeFileSync(new URL("apple-touch-icon.png", dir), icon(180, true));
