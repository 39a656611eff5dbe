/**
 * The width of the page's content before a ResizeObserver has measured it: the window's width less
 * the body's margins (1.5rem each side, +page.svelte). Views size themselves from a ResizeObserver
 * (`bind:contentRect`), which reports after the browser's own layout; `bind:clientWidth` reads the
 * width while mounting and forces an extra layout of the page. The first report replaces this guess,
 * which it equals unless a scrollbar takes its share.
 */
export function contentWidthGuess(): number {
  return Math.max(0, window.innerWidth - 48);
}
