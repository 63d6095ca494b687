// The boolean entropy coder of VP8 (RFC 6386 §7), encoder and decoder.

/** Writes bools with 8-bit probabilities into a growing byte buffer (RFC 6386 §7.3). */
export class Vp8BoolEncoder {
  #buf: Uint8Array;
  #pos = 0;
  #range = 255;
  #bottom = 0; // uint32
  #bitCount = 24;

  constructor(initialCapacity = 1024) {
    this.#buf = new Uint8Array(initialCapacity);
  }

  /** Bytes written so far (the final size is this plus at most 4 after `finish()`). */
  get length(): number {
    return this.#pos;
  }

  /** Writes one bool whose probability of being `false` is `prob / 256`. */
  writeBool(bit: boolean | number, prob: number): void {
    const split = 1 + (((this.#range - 1) * prob) >> 8);
    if (bit) {
      this.#bottom = (this.#bottom + split) >>> 0;
      this.#range -= split;
    } else {
      this.#range = split;
    }
    while (this.#range < 128) {
      this.#range <<= 1;
      if ((this.#bottom & 0x80000000) !== 0) this.#addOneToOutput();
      this.#bottom = (this.#bottom << 1) >>> 0;
      if (--this.#bitCount === 0) {
        this.#push(this.#bottom >>> 24);
        this.#bottom &= 0xffffff;
        this.#bitCount = 8;
      }
    }
  }

  /** Writes an unsigned `bits`-bit literal, most significant bit first, each at probability 1/2. */
  writeLiteral(value: number, bits: number): void {
    for (let b = bits - 1; b >= 0; b--) this.writeBool((value >> b) & 1, 128);
  }

  /** Flushes the coder and returns the encoded bytes. */
  finish(): Uint8Array {
    let c = this.#bitCount;
    let v = this.#bottom;
    if (c < 32 && (v & (2 ** (32 - c))) !== 0) this.#addOneToOutput();
    v = (v * 2 ** (c & 7)) % 2 ** 32;
    c >>= 3;
    while (--c >= 0) v = (v * 256) % 2 ** 32;
    for (let i = 0; i < 4; i++) {
      this.#push(Math.floor(v / 2 ** 24) & 0xff);
      v = (v * 256) % 2 ** 32;
    }
    return this.#buf.subarray(0, this.#pos);
  }

  #push(byte: number): void {
    if (this.#pos === this.#buf.length) {
      const next = new Uint8Array(this.#buf.length * 2);
      next.set(this.#buf);
      this.#buf = next;
    }
    this.#buf[this.#pos++] = byte;
  }

  #addOneToOutput(): void {
    let i = this.#pos - 1;
    while (i >= 0 && this.#buf[i] === 255) this.#buf[i--] = 0;
    if (i >= 0) this.#buf[i] = (this.#buf[i] ?? 0) + 1;
  }
}

/** Reads bools written by {@link Vp8BoolEncoder} (RFC 6386 §7.3); reads past the end as zeros. */
export class Vp8BoolDecoder {
  readonly #data: Uint8Array;
  #pos = 2;
  #value: number;
  #range = 255;
  #bitCount = 0;

  constructor(data: Uint8Array) {
    this.#data = data;
    this.#value = ((data[0] ?? 0) << 8) | (data[1] ?? 0);
  }

  /** Reads one bool coded at probability `prob / 256` of being false. */
  readBool(prob: number): boolean {
    const split = 1 + (((this.#range - 1) * prob) >> 8);
    const bigSplit = split << 8;
    let bit: boolean;
    if (this.#value >= bigSplit) {
      bit = true;
      this.#range -= split;
      this.#value -= bigSplit;
    } else {
      bit = false;
      this.#range = split;
    }
    while (this.#range < 128) {
      this.#value <<= 1;
      this.#range <<= 1;
      if (++this.#bitCount === 8) {
        this.#bitCount = 0;
        this.#value |= this.#data[this.#pos++] ?? 0;
      }
    }
    return bit;
  }

  /** Reads an unsigned literal of `bits` bits, most significant first. */
  readLiteral(bits: number): number {
    let v = 0;
    for (let i = 0; i < bits; i++) v = (v << 1) | (this.readBool(128) ? 1 : 0);
    return v;
  }
}
