/**
 * Edges between two columns drawn as a few batched paths. Each edge goes to a bucket by its sign and
 * its strength — |value| placed on the picture's scale (normalize.ts), so that in global and log
 * scale one strength means one magnitude in every layer — and a canvas strokes one path per bucket
 * with the bucket's opacity and width (16 strokes for thousands of lines).
 */

export const EDGE_BUCKETS = 8;
/** Edges weaker than this strength are not drawn (they would be under one level of 255 anyway). */
export const EDGE_FLOOR = 0.02;

export interface EdgeBuckets {
  /** Edge indices (input × fanOut + neuron) per bucket, weakest bucket first. */
  positive: number[][];
  negative: number[][];
  /** Edges whose value is NaN or ±Inf. */
  nonFinite: number[];
  /** Edges strong enough to draw that the level of detail left out. */
  omitted: number;
}

/** Bins of the strength histogram that places the level-of-detail cut. */
const LIMIT_BINS = 256;

/**
 * The edges considered for drawing (`edges`, indices in increasing order) and each one's strength
 * in [0, 1] on the picture's scale (`strengths`, NaN for a non-finite value).
 */
export interface EdgeStrengths {
  edges: Int32Array;
  strengths: Float32Array;
}

/**
 * Strengths of the edges in a rectangle of the matrix: sources [fromStart, fromEnd) × targets
 * [toStart, toEnd) of a gap with `fanOut` targets (zoomed in, the neurons on screen), so that the
 * cost follows what is on screen, not the size of the layer.
 * @param strengthOf an edge value's strength on the picture's scale (finite values only)
 */
export function edgeStrengths(
  values: Float32Array,
  strengthOf: (value: number) => number,
  fanOut: number,
  { fromStart = 0, fromEnd = values.length / fanOut, toStart = 0, toEnd = fanOut } = {},
): EdgeStrengths {
  const width = Math.max(0, toEnd - toStart);
  const count = Math.max(0, fromEnd - fromStart) * width;
  const edges = new Int32Array(count);
  const strengths = new Float32Array(count);
  let at = 0;
  for (let from = fromStart; from < fromEnd; from++) {
    for (let edge = from * fanOut + toStart, end = from * fanOut + toEnd; edge < end; edge++, at++) {
      const value = values[edge]!;
      edges[at] = edge;
      strengths[at] = Number.isFinite(value) ? strengthOf(value) : Number.NaN;
    }
  }
  return { edges, strengths };
}

/** Edges strong enough to draw (non-finite ones aside). */
export function drawableEdges({ strengths }: EdgeStrengths, floor = EDGE_FLOOR): number {
  let count = 0;
  for (const strength of strengths) if (strength >= floor) count++;
  return count;
}

/**
 * @param strengthOf an edge value's strength in [0, 1] on the picture's scale (finite values only)
 * @param limit level of detail: keep the `limit` strongest edges (by bins of strength; within the
 *   last bin, in index order); the rest are counted in `omitted`
 * @param include which edges to consider at all; the others are neither drawn nor counted
 */
export function bucketEdges(
  values: Float32Array,
  strengthOf: (value: number) => number,
  limit = Infinity,
  {
    buckets = EDGE_BUCKETS,
    floor = EDGE_FLOOR,
    include,
  }: { buckets?: number; floor?: number; include?: ((edge: number) => boolean) | undefined } = {},
): EdgeBuckets {
  const all = edgeStrengths(values, strengthOf, values.length);
  const kept = include ? all.edges.map((edge) => (include(edge) ? 1 : 0)) : undefined;
  const considered = kept ? { edges: all.edges.filter((_, at) => kept[at]), strengths: all.strengths.filter((_, at) => kept[at]) } : all;
  return bucketStrengths(values, considered, limit, { buckets, floor });
}

/** bucketEdges with the considered edges and their strengths already known (edgeStrengths). */
export function bucketStrengths(
  values: Float32Array,
  { edges, strengths }: EdgeStrengths,
  limit = Infinity,
  { buckets = EDGE_BUCKETS, floor = EDGE_FLOOR }: { buckets?: number; floor?: number } = {},
): EdgeBuckets {
  // The cut: bins of strength from the strongest down while they fit in `limit`; the first bin that
  // does not fit gives its first edges (in index order) for the room that is left.
  const binOf = (strength: number) => Math.min(LIMIT_BINS - 1, Math.floor(((strength - floor) / (1 - floor)) * LIMIT_BINS));
  let fullFrom = 0;
  let partialRoom = 0;
  let omitted = 0;
  if (Number.isFinite(limit)) {
    const histogram = new Int32Array(LIMIT_BINS);
    let total = 0;
    for (const strength of strengths) {
      if (!(strength >= floor)) continue;
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
  for (let at = 0; at < edges.length; at++) {
    const edge = edges[at]!;
    const strength = strengths[at]!;
    if (Number.isNaN(strength)) {
      nonFinite.push(edge);
      continue;
    }
    if (strength < floor) continue;
    if (fullFrom > 0) {
      const bin = binOf(strength);
      if (bin < fullFrom - 1 || (bin === fullFrom - 1 && partialRoom-- <= 0)) continue;
    }
    const bucket = Math.min(buckets - 1, Math.floor(((strength - floor) / (1 - floor)) * buckets));
    (values[edge]! >= 0 ? positive : negative)[bucket]!.push(edge);
  }
  return { positive, negative, nonFinite, omitted };
}

/** The strength in the middle of a bucket. */
export function bucketStrength(bucket: number, buckets = EDGE_BUCKETS, floor = EDGE_FLOOR): number {
  return floor + ((1 - floor) * (bucket + 0.5)) / buckets;
}

/**
 * How a bucket is stroked: opacity and width both grow with strength. Widths above one pixel cost
 * ~20× more to raster in software (bench/viewer.ts), so they are kept for the strongest buckets,
 * which hold few edges. `density` thins every layer alike where many edges overlap.
 */
export function bucketStyle(bucket: number, density: number, buckets = EDGE_BUCKETS): { alpha: number; width: number } {
  const strength = bucketStrength(bucket, buckets);
  return { alpha: Math.min(1, strength * density), width: strength < 0.5 ? 1 : 1 + 2 * (strength - 0.5) * 2 };
}

/**
 * One opacity factor for the whole picture, from its densest gap between columns (items on screen,
 * at most `cap` links drawn): the same in every gap, so that ink compares across layers.
 */
export function edgeDensity(gaps: readonly { from: number; to: number }[], cap = Infinity): number {
  const densest = Math.min(cap, Math.max(1, ...gaps.map(({ from, to }) => from * to)));
  return Math.max(0.2, Math.min(1, 2000 / densest));
}
