/** The median of `xs` (the upper one for an even count): the benchmarks' robust summary of repeated timings. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}
