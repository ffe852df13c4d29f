/**
 * Bounded keeping of what a child prints: memory stays flat whatever it prints (a hook that prints
 * 300 MB on one line, a helper that never stops). The tail of a stream is what explains a failure,
 * so the tail is what is kept.
 */

/** The bytes of a child's stream kept for its failure reason and its result (the last ones). */
export const OUTPUT_TAIL_BYTES = 64 * 1024;

/** A line handed on (to the log, a hook's progress) is cut after this many characters. */
export const LINE_MAX_CHARS = 4 * 1024;

/** `text` cut after `max` characters, saying how much was cut. */
export function cutLine(text: string, max = LINE_MAX_CHARS, cutBefore = 0): string {
  const cut = cutBefore + Math.max(0, text.length - max);
  return cut === 0 ? text : `${text.slice(0, max)} … (${cut} more characters cut)`;
}

/** The last `limit` bytes of a stream, and how many came before them. */
export class Tail {
  private chunks: Uint8Array[] = [];
  private kept = 0;
  dropped = 0;

  constructor(private readonly limit = OUTPUT_TAIL_BYTES) {}

  push(chunk: Uint8Array): void {
    this.chunks.push(chunk);
    this.kept += chunk.length;
    while (this.kept > this.limit) {
      const first = this.chunks[0]!;
      const over = this.kept - this.limit;
      if (first.length <= over) {
        this.chunks.shift();
        this.kept -= first.length;
        this.dropped += first.length;
      } else {
        this.chunks[0] = first.subarray(over);
        this.kept -= over;
        this.dropped += over;
      }
    }
  }

  /** The bytes kept, decoded (a character cut in two at the start shows as U+FFFD). */
  text(): string {
    return new TextDecoder().decode(Buffer.concat(this.chunks));
  }
}

/**
 * The whole lines of two streams, each handed on as soon as it ends and cut at LINE_MAX_CHARS; a line
 * that never ends is not kept whole (only its first characters and a count), and a last partial line
 * is handed on at flush.
 */
export function lineSplitter(onLine: (line: string) => void) {
  const state = {
    out: { decoder: new TextDecoder(), rest: "", cut: 0 },
    err: { decoder: new TextDecoder(), rest: "", cut: 0 },
  };
  const feed = (which: "out" | "err") => (chunk: Uint8Array) => {
    const s = state[which];
    const parts = s.decoder.decode(chunk, { stream: true }).split("\n");
    const last = parts.pop() ?? "";
    for (const part of parts) {
      onLine(cutLine(s.rest + part, LINE_MAX_CHARS, s.cut));
      s.rest = "";
      s.cut = 0;
    }
    const rest = s.rest + last;
    s.cut += Math.max(0, rest.length - LINE_MAX_CHARS);
    s.rest = rest.slice(0, LINE_MAX_CHARS);
  };
  return {
    out: feed("out"),
    err: feed("err"),
    flush() {
      for (const s of Object.values(state)) if (s.rest || s.cut) onLine(cutLine(s.rest, LINE_MAX_CHARS, s.cut));
    },
  };
}

/** A child's output read between two garbage collections (see drain). */
const COLLECT_EVERY_BYTES = 32 * 1024 * 1024;

/** Read a stream to its end, or until `cancel` is called (a grandchild holding the pipe open). */
export function drain(stream: ReadableStream<Uint8Array>, onChunk: (chunk: Uint8Array) => void) {
  const reader = stream.getReader();
  let sinceCollect = 0;
  const done = (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        onChunk(value);
        // What was read is garbage once handled: a child that prints hundreds of MB must not grow
        // the (long-lived) loop by what the collector has not come round to yet.
        sinceCollect += value.length;
        if (sinceCollect >= COLLECT_EVERY_BYTES) {
          sinceCollect = 0;
          Bun.gc(true);
        }
      }
    } catch {
      // cancelled
    }
  })();
  return { done, cancel: () => reader.cancel().catch(() => undefined) };
}
