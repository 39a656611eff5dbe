/** Konva is loaded in the browser only (the page is prerendered in Node), once, as early as possible. */
let loading: Promise<typeof import('konva')> | undefined;

export function loadKonva(): Promise<typeof import('konva')> {
  loading ??= import('konva');
  return loading;
}
