/**
 * Edges between two columns drawn as a few batched paths: each edge goes to a bucket by sign and
 * by |value| relative to the largest |value| of the layer, so a canvas strokes one path per
 * bucket (16 strokes for thousands of lines) with the bucket's colour and opacity.
 */

export const EDGE_BUCKETS = 8;
/** Edges weaker than this fraction of the strongest are not drawn. */
export const EDGE_FLOOR = 0.05;

export interface EdgeBuckets {
  /** Edge indices (input × fanOut + neuron) per bucket, weakest bucket first. */
  positive: number[][];
  negative: number[][];
  /** Largest finite |value|; 0 when there is none. */
  largest: number;
  /** Edges whose value is NaN or ±Inf. */
  nonFinite: number[];
  /** Edges strong enough to draw that the level of detail left out. */
  omitted: number;
}

/** Bins of the strength histogram that places the level-of-detail cut. */
const LIMIT_BINS = 256;

/**
 * @param limit level of detail: keep the `limit` strongest edges (by bins of strength; within the
 *   last bin, in index order); the rest are counted in `omitted`
 */
export function bucketEdges(values: Float32Array, buckets = EDGE_BUCKETS, floor = EDGE_FLOOR, limit = Infinity): EdgeBuckets {
  let largest = 0;
  for (const value of values) if (Number.isFinite(value) && Math.abs(value) > largest) largest = Math.abs(value);
  const strengthOf = (value: number) => (largest > 0 ? Math.abs(value) / largest : 0);
  // The cut: bins of strength from the strongest down while they fit in `limit`; the first bin that
  // does not fit gives its first edges (in index order) for the room that is left.
  const binOf = (strength: number) => Math.min(LIMIT_BINS - 1, Math.floor(((strength - floor) / (1 - floor)) * LIMIT_BINS));
  let fullFrom = 0;
  let partialRoom = 0;
  let omitted = 0;
  if (Number.isFinite(limit)) {
    const histogram = new Int32Array(LIMIT_BINS);
    let total = 0;
    for (const value of values) {
      const strength = strengthOf(value);
      if (!Number.isFinite(value) || strength < floor) continue;
      histogram[binOf(strength)]!++;
      total++;
    }
    let kept = 0;
    fullFrom = LIMIT_BINS;
    while (fullFrom > 0 && kept + histogram[fullFrom - 1]! <= limit) kept += histogram[--fullFrom]!;
    partialRoom = fullFrom > 0 ? Math.max(0, limit - kept) : 0;
    omitted = total - kept - partialRoom;
  }
  const positive = Array.from({ length: buckets }, () => [] as number[]);
  const negative = Array.from({ length: buckets }, () => [] as number[]);
  const nonFinite: number[] = [];
  for (let edge = 0; edge < values.length; edge++) {
    const value = values[edge]!;
    if (!Number.isFinite(value)) {
      nonFinite.push(edge);
      continue;
    }
    const strength = strengthOf(value);
    if (strength < floor) continue;
    if (fullFrom > 0) {
      const bin = binOf(strength);
      if (bin < fullFrom - 1 || (bin === fullFrom - 1 && partialRoom-- <= 0)) continue;
    }
    const bucket = Math.min(buckets - 1, Math.floor(((strength - floor) / (1 - floor)) * buckets));
    (value >= 0 ? positive : negative)[bucket]!.push(edge);
  }
  return { positive, negative, largest, nonFinite, omitted };
}

/** Dense layers would turn into a solid block: opacity thins with the number of edges between two columns. */
export function edgeDensity(fromNeurons: number, toNeurons: number): number {
  return Math.max(0.15, Math.min(1, 1500 / (fromNeurons * toNeurons)));
}

/** Opacity of a bucket: from faint to opaque. */
export function bucketAlpha(bucket: number, buckets = EDGE_BUCKETS): number {
  return 0.08 + (0.92 * (bucket + 1)) / buckets;
}
