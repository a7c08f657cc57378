import type { Heap } from "./types.js";
import { adviseHugePages, type HugePages } from "./hugepages.js";

/** WebAssembly page size in bytes. */
export const PAGE = 65536;
/** Largest wasm32 memory (4 GiB). Shared memories reserve this address space up front, so growth never moves the buffer. */
export const MAX_PAGES = 65536;
/**
 * Bytes at the bottom of the memory that the allocator never hands out: the
 * wasm kernels' static data (constant tables) lives there, and keeping
 * address 0 unused means a zero "pointer" is always a bug that shows up as
 * garbage, not as silently valid data.
 */
export const RESERVED_BYTES = PAGE;

/**
 * Heap over one shared, growable WebAssembly.Memory with a bump allocator.
 * Nothing is ever freed: the engine allocates weights, activations and the KV
 * cache once at load time. Views are cached per buffer object and re-created
 * when growth replaces `memory.buffer` (shared buffers never detach, so a view
 * taken before growth stays usable too).
 */
export class SharedHeap implements Heap {
  readonly memory: WebAssembly.Memory;
  private top: number;
  private buf: ArrayBuffer | SharedArrayBuffer;
  private f32All: Float32Array;
  private u8All: Uint8Array;

  /** Huge-page advice on a memory this heap made (hugepages.ts); undefined for a memory it was given. */
  readonly hugePages: HugePages | undefined;

  constructor(initialBytes = 16 * PAGE, memory?: WebAssembly.Memory) {
    if (memory) this.memory = memory;
    else {
      this.memory = new WebAssembly.Memory({
        initial: Math.max(2, Math.ceil(initialBytes / PAGE)),
        maximum: MAX_PAGES,
        shared: true,
      });
      // before any weight is written: pages faulted in from now on can be huge ones
      this.hugePages = adviseHugePages(this.memory, MAX_PAGES * PAGE);
    }
    this.top = RESERVED_BYTES;
    this.buf = this.memory.buffer;
    this.f32All = new Float32Array(this.buf);
    this.u8All = new Uint8Array(this.buf);
  }

  /** Bytes handed out so far (including the reserved bottom). */
  get used(): number {
    return this.top;
  }

  alloc(bytes: number, align = 64): number {
    if (!Number.isInteger(bytes) || bytes < 0) throw new Error(`heap alloc: bad size ${bytes}`);
    if (!Number.isInteger(align) || align <= 0 || (align & (align - 1)) !== 0) {
      throw new Error(`heap alloc: alignment ${align} is not a power of two`);
    }
    const ptr = Math.ceil(this.top / align) * align;
    const end = ptr + bytes;
    if (end > MAX_PAGES * PAGE) {
      throw new Error(`heap alloc: ${bytes} bytes does not fit in the 4 GiB wasm32 memory (${ptr} in use)`);
    }
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      // Grow geometrically (at least 1/8) so many small allocations don't each grow.
      const needPages = Math.ceil((end - have) / PAGE);
      const curPages = have / PAGE;
      const pages = Math.min(MAX_PAGES - curPages, Math.max(needPages, Math.ceil(curPages / 8)));
      this.memory.grow(pages);
    }
    this.top = end;
    return ptr;
  }

  prefault(from = 0): void {
    this.refresh();
    const u8 = this.u8All;
    // a write maps the page (a read would map the shared zero page); pages already written keep their bytes
    for (let i = Math.max(0, from) & ~4095; i < this.top; i += 4096) u8[i] |= 0;
  }

  private refresh(): void {
    const b = this.memory.buffer;
    if (b !== this.buf) {
      this.buf = b;
      this.f32All = new Float32Array(b);
      this.u8All = new Uint8Array(b);
    }
  }

  private check(what: string, ptr: number, bytes: number): void {
    if (!Number.isInteger(ptr) || !Number.isInteger(bytes) || ptr < 0 || bytes < 0 || ptr + bytes > this.buf.byteLength) {
      throw new Error(`heap ${what} view: [${ptr}, ${ptr + bytes}) is outside the ${this.buf.byteLength}-byte memory`);
    }
  }

  f32(ptr: number, n: number): Float32Array {
    if ((ptr & 3) !== 0) throw new Error(`heap f32 view: pointer ${ptr} is not 4-byte aligned`);
    this.refresh();
    this.check("f32", ptr, n * 4);
    return this.f32All.subarray(ptr >>> 2, (ptr >>> 2) + n);
  }

  u8(ptr: number, n: number): Uint8Array {
    this.refresh();
    this.check("u8", ptr, n);
    return this.u8All.subarray(ptr, ptr + n);
  }

  /** Whole-memory views (current buffer), for kernels that index by byte offset. */
  viewsF32(): Float32Array {
    this.refresh();
    return this.f32All;
  }
  viewsU8(): Uint8Array {
    this.refresh();
    return this.u8All;
  }
}
