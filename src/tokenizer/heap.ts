/**
 * Priority queue of candidate merges (a pair of adjacent symbols), stored as
 * parallel typed arrays so that tokenizing a long text allocates no objects.
 * Smallest `key` comes out first, then the leftmost pair.
 */
export class PairHeap {
  private key = new Float64Array(64);
  private left = new Int32Array(64);
  private right = new Int32Array(64);
  private size = new Int32Array(64);
  private n = 0;
  /** fields of the entry last returned by pop() */
  topLeft = 0;
  topRight = 0;
  topSize = 0;

  get length(): number {
    return this.n;
  }

  private grow(): void {
    const cap = this.key.length * 2;
    const k = new Float64Array(cap);
    k.set(this.key);
    this.key = k;
    const l = new Int32Array(cap);
    l.set(this.left);
    this.left = l;
    const r = new Int32Array(cap);
    r.set(this.right);
    this.right = r;
    const s = new Int32Array(cap);
    s.set(this.size);
    this.size = s;
  }

  private before(i: number, key: number, left: number): boolean {
    return this.key[i] < key || (this.key[i] === key && this.left[i] < left);
  }

  private put(i: number, key: number, left: number, right: number, size: number): void {
    this.key[i] = key;
    this.left[i] = left;
    this.right[i] = right;
    this.size[i] = size;
  }

  private move(to: number, from: number): void {
    this.put(to, this.key[from], this.left[from], this.right[from], this.size[from]);
  }

  push(key: number, left: number, right: number, size: number): void {
    if (this.n === this.key.length) this.grow();
    let i = this.n++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!(key < this.key[p] || (key === this.key[p] && left < this.left[p]))) break;
      this.move(i, p);
      i = p;
    }
    this.put(i, key, left, right, size);
  }

  /** Remove the first entry into topLeft/topRight/topSize; false when empty. */
  pop(): boolean {
    if (this.n === 0) return false;
    this.topLeft = this.left[0];
    this.topRight = this.right[0];
    this.topSize = this.size[0];
    const last = --this.n;
    if (last > 0) {
      const key = this.key[last],
        left = this.left[last],
        right = this.right[last],
        size = this.size[last];
      let i = 0;
      for (;;) {
        const l = 2 * i + 1,
          r = l + 1;
        let m = -1;
        if (l < last && this.before(l, key, left)) m = l;
        if (r < last && (m < 0 ? this.before(r, key, left) : this.before(r, this.key[l], this.left[l]))) m = r;
        if (m < 0) break;
        this.move(i, m);
        i = m;
      }
      this.put(i, key, left, right, size);
    }
    return true;
  }
}
