/** GGUF file → TensorSource for the weight loader. */
import { readRangesInto } from "../gguf/parallel-read.js";
import { openGGUF, readTensorInto, type GGUFFile, type TensorInfo } from "../gguf/reader.js";
import type { TensorSource } from "./weights.js";

export class GGUFTensorSource implements TensorSource {
  private readonly byName = new Map<string, TensorInfo>();
  readonly name: string;
  constructor(readonly file: GGUFFile) {
    this.name = file.path;
    for (const t of file.tensors) this.byName.set(t.name, t);
  }
  static open(path: string): GGUFTensorSource {
    return new GGUFTensorSource(openGGUF(path));
  }
  has(name: string): boolean {
    return this.byName.has(name);
  }
  private get(name: string): TensorInfo {
    const t = this.byName.get(name);
    if (!t) throw new Error(`${this.name}: missing tensor ${name}`);
    return t;
  }
  dims(name: string): number[] {
    return this.get(name).dims;
  }
  type(name: string) {
    return this.get(name).type;
  }
  readInto(name: string, dest: Uint8Array): void {
    readTensorInto(this.file, this.get(name), dest);
  }
  readAllInto(reads: readonly { name: string; dest: Uint8Array }[], threads: number): void {
    const byOffset = new Map<number, string>();
    const ranges = reads.map(({ name, dest }) => {
      const t = this.get(name);
      byOffset.set(t.offset, name);
      return { offset: t.offset, dest: dest.subarray(0, t.nbytes) };
    });
    readRangesInto(this.file.path, ranges, threads, (r) => this.readInto(byOffset.get(r.offset)!, r.dest));
  }
}
