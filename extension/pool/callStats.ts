/**
 * Per-server call counters and a window of recent latencies for p50/p95. Bounded: the window
 * keeps the last `size` durations, so memory does not grow with traffic.
 */
export class CallStats {
  calls = 0;
  errors = 0;
  inFlight = 0;
  private readonly window: number[] = [];
  private next = 0;

  constructor(private readonly size = 256) {}

  begin(): void {
    this.calls++;
    this.inFlight++;
  }

  end(durationMs: number, failed: boolean): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    if (failed) this.errors++;
    if (this.window.length < this.size) this.window.push(durationMs);
    else this.window[this.next] = durationMs;
    this.next = (this.next + 1) % this.size;
  }

  /** A call refused before dispatch (server down, circuit open) still counts as a failed call. */
  refused(): void {
    this.calls++;
    this.errors++;
  }

  percentiles(): { p50: number | null; p95: number | null } {
    if (this.window.length === 0) return { p50: null, p95: null };
    const sorted = [...this.window].sort((a, b) => a - b);
    const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
    return { p50: Math.round(at(0.5) * 10) / 10, p95: Math.round(at(0.95) * 10) / 10 };
  }
}
