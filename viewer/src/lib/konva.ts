/**
 * Konva is loaded in the browser only (the page is prerendered in Node), once, as early as possible.
 * The viewer draws with a Stage, a Layer and one custom Shape: Konva's core, without the shape and
 * filter modules of the full build (a third less to download and evaluate before the first paint).
 */
let loading: Promise<typeof import('konva/lib/Core')> | undefined;

export function loadKonva(): Promise<typeof import('konva/lib/Core')> {
  loading ??= import('konva/lib/Core');
  return loading;
}
