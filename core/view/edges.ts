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
}

export function bucketEdges(values: Float32Array, buckets = EDGE_BUCKETS, floor = EDGE_FLOOR): EdgeBuckets {
  let largest = 0;
  for (const value of values) if (Number.isFinite(value) && Math.abs(value) > largest) largest = Math.abs(value);
  const positive = Array.from({ length: buckets }, () => [] as number[]);
  const negative = Array.from({ length: buckets }, () => [] as number[]);
  const nonFinite: number[] = [];
  values.forEach((value, edge) => {
    if (!Number.isFinite(value)) {
      nonFinite.push(edge);
      return;
    }
    const strength = largest > 0 ? Math.abs(value) / largest : 0;
    if (strength < floor) return;
    const bucket = Math.min(buckets - 1, Math.floor(((strength - floor) / (1 - floor)) * buckets));
    (value >= 0 ? positive : negative)[bucket]!.push(edge);
  });
  return { positive, negative, largest, nonFinite };
}

/** Dense layers would turn into a solid block: opacity thins with the number of edges between two columns. */
export function edgeDensity(fromNeurons: number, toNeurons: number): number {
  return Math.max(0.15, Math.min(1, 1500 / (fromNeurons * toNeurons)));
}

/** Opacity of a bucket: from faint to opaque. */
export function bucketAlpha(bucket: number, buckets = EDGE_BUCKETS): number {
  return 0.08 + (0.92 * (bucket + 1)) / buckets;
}

/**
 * Level of detail: the strongest edges only, at most `limit` (whole buckets from the strongest
 * down; the last bucket that fits partly is cut), and how many were left out.
 */
export function limitEdges(buckets: EdgeBuckets, limit: number): { buckets: EdgeBuckets; omitted: number } {
  const positive = buckets.positive.map(() => [] as number[]);
  const negative = buckets.negative.map(() => [] as number[]);
  let room = Math.max(0, limit - buckets.nonFinite.length);
  let omitted = 0;
  for (let bucket = buckets.positive.length - 1; bucket >= 0; bucket--) {
    for (const [from, to] of [
      [buckets.positive, positive],
      [buckets.negative, negative],
    ] as const) {
      const edges = from[bucket]!;
      const kept = Math.min(room, edges.length);
      to[bucket] = kept === edges.length ? edges : edges.slice(0, kept);
      room -= kept;
      omitted += edges.length - kept;
    }
  }
  return { buckets: { positive, negative, largest: buckets.largest, nonFinite: buckets.nonFinite }, omitted };
}
