/**
 * Paints a NetworkScene (core/view/scene.ts) on a 2D canvas context: the screen's half of "one
 * scene, two outputs" (the SVG export is the other). One path per stroke batch, one arc per neuron;
 * nothing here decides a colour.
 */
import { binBar, SCENE_COLORS, type NetworkScene } from '$core/view/scene';

/** The input image at its own resolution, to be scaled up without smoothing. */
export function paintInputImage(canvas: HTMLCanvasElement, scene: NetworkScene): void {
  const { pixels } = scene.input;
  if (!pixels) return;
  if (canvas.width !== pixels.columns || canvas.height !== pixels.rows) {
    canvas.width = pixels.columns;
    canvas.height = pixels.rows;
  }
  const context = canvas.getContext('2d')!;
  const data = context.createImageData(pixels.columns, pixels.rows);
  data.data.set(pixels.rgba);
  context.putImageData(data, 0, 0);
}

export function paintScene(context: CanvasRenderingContext2D, scene: NetworkScene, inputImage: CanvasImageSource | undefined): void {
  const { input } = scene;
  context.globalAlpha = 1;
  if (scene.background !== 'transparent') {
    context.fillStyle = scene.background;
    context.fillRect(0, 0, scene.width, scene.height);
  }
  if (inputImage && input.pixels) {
    context.imageSmoothingEnabled = false;
    context.drawImage(inputImage, input.drawn.x, input.drawn.y, input.drawn.width, input.drawn.height);
  }
  context.lineWidth = 1;
  context.strokeStyle = SCENE_COLORS.inputFrame;
  context.strokeRect(input.x - 0.5, input.y - 0.5, input.side + 1, input.side + 1);
  for (const batch of scene.edges) {
    const { lines } = batch;
    context.globalAlpha = batch.alpha;
    context.strokeStyle = batch.color;
    context.lineWidth = batch.width;
    // Wide lines are stroked one by one: one path of many overlapping wide lines costs several
    // times more to raster in software than the same lines apart (bench/viewer.ts).
    const apart = batch.width > 1;
    if (!apart) context.beginPath();
    for (let line = 0; line < lines.length; line += 4) {
      if (apart) context.beginPath();
      context.moveTo(lines[line]!, lines[line + 1]!);
      context.lineTo(lines[line + 2]!, lines[line + 3]!);
      if (apart) context.stroke();
    }
    if (!apart) context.stroke();
  }
  context.lineWidth = 1;
  context.globalAlpha = 1;
  context.strokeStyle = SCENE_COLORS.ring;
  for (const column of scene.columns) {
    const bar = binBar(column);
    for (let item = 0; item < column.y.length; item++) {
      const y = column.y[item]!;
      if (y < -column.spacing || y > scene.height + column.spacing) continue;
      context.beginPath();
      if (bar) context.rect(column.x - bar.width / 2, y - bar.height / 2, bar.width, bar.height);
      else context.arc(column.x, y, column.radius, 0, 2 * Math.PI);
      context.fillStyle = column.colors[item] || SCENE_COLORS.missing;
      context.fill();
      if (column.ring) context.stroke();
    }
  }
  context.strokeStyle = SCENE_COLORS.finding;
  context.lineWidth = 1.5;
  context.beginPath();
  for (const mark of scene.findingMarks) {
    if (mark.radius >= 2) {
      context.moveTo(mark.x + mark.radius + 2, mark.y);
      context.arc(mark.x, mark.y, mark.radius + 2, 0, 2 * Math.PI);
    } else {
      context.moveTo(mark.x - 7, mark.y);
      context.lineTo(mark.x - 3, mark.y);
    }
  }
  context.stroke();
  context.lineWidth = 1;
  if (scene.selected) {
    const { x, y, radius } = scene.selected;
    context.beginPath();
    context.arc(x, y, radius + 3, 0, 2 * Math.PI);
    context.strokeStyle = SCENE_COLORS.selected;
    context.lineWidth = 2.5;
    context.stroke();
    context.lineWidth = 1;
  }
  context.font = '12px system-ui, sans-serif';
  context.textBaseline = 'middle';
  for (const text of scene.texts) {
    context.font = `${text.size ?? 12}px system-ui, sans-serif`;
    context.fillStyle = text.color;
    context.textAlign = text.align === 'middle' ? 'center' : text.align;
    context.fillText(text.text, text.x, text.y);
  }
}
