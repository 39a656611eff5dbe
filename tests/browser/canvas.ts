import type { Page } from 'playwright-core';

/** Non-background pixels of the network canvas, and a digest that changes when the picture does. */
export async function paintedPixels(page: Page): Promise<{ count: number; digest: string }> {
  return page.evaluate(() => {
    const canvas = document.querySelector('[data-testid="network"] canvas') as HTMLCanvasElement;
    const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    let count = 0;
    let hash = 0;
    for (let index = 0; index < data.length; index += 4) {
      if (data[index + 3]! > 0) count++;
      hash = (hash * 31 + data[index]! + data[index + 1]! * 7 + data[index + 2]! * 13) | 0;
    }
    return { count, digest: String(hash) };
  });
}
