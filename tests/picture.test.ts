/** The saved network picture: a standalone SVG with every neuron, the edges, the legend and escaped text. */
import { describe, expect, it } from 'vitest';
import { bucketEdges } from '../core/view/edges.js';
import { layoutNetwork } from '../core/view/layout.js';
import { escapeXml, networkSvg, pictureFileName, type PictureInput } from '../core/view/svg.js';

function picture(overrides: Partial<PictureInput> = {}): PictureInput {
  const layout = layoutNetwork([784, 6, 3], 600, 300);
  return {
    layout,
    neuronColors: [Array.from({ length: 6 }, (_, neuron) => `#00000${neuron}`), ['#aa0000', '#00aa00', '#0000aa']],
    edges: [{ layer: 2, buckets: bucketEdges(Float32Array.from({ length: 18 }, (_, edge) => (edge % 3 === 0 ? -1 : 0.5) * (edge + 1))) }],
    edgeColors: { positive: '#3b82f6', negative: '#ef4444', nonFinite: '#39ff14' },
    input: new Float32Array(784).fill(0.5),
    title: 'run at step 3',
    legend: {
      caption: 'layer 1, mean activation',
      stops: [
        { label: '0.0', color: '#000000' },
        { label: 'NaN', color: '#39ff14' },
      ],
    },
    background: 'white',
    ...overrides,
  };
}

describe('the network picture as SVG', () => {
  it('holds every neuron, batched edges by sign, the input image, the legend and a white background', () => {
    const svg = networkSvg(picture());
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg" width="600" height="362"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg.match(/<circle /g)).toHaveLength(9);
    expect(svg).toContain('fill="#aa0000"');
    // 784 input pixels, the frame of the image, the background and two legend swatches.
    expect(svg.match(/<rect /g)).toHaveLength(784 + 1 + 1 + 2);
    expect(svg).toContain('fill="rgb(128,128,128)"');
    const paths = svg.match(/<path d="[^"]+" stroke="(#[0-9a-f]+)"/g) ?? [];
    expect(paths.some((path) => path.includes('#ef4444'))).toBe(true);
    expect(paths.some((path) => path.includes('#3b82f6'))).toBe(true);
    expect(svg).toContain('>layer 1, mean activation</text>');
    expect(svg).toContain('<rect width="100%" height="100%" fill="#fff"/>');
  });

  it('leaves the background out when asked for transparency', () => {
    expect(networkSvg(picture({ background: 'transparent' }))).not.toContain('fill="#fff"');
  });

  it('escapes text from the run', () => {
    const svg = networkSvg(picture({ title: '<script>alert("x")</script> & co' }));
    expect(svg).not.toContain('<script>');
    expect(svg).toContain('&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62; &#38; co');
    expect(escapeXml(`'`)).toBe('&#39;');
  });

  it('names files safely whatever the run is called', () => {
    expect(pictureFileName('my run at step 3', 'svg')).toBe('my_run_at_step_3.svg');
    expect(pictureFileName('../../etc/passwd', 'png')).toBe('etc_passwd.png');
    expect(pictureFileName('<>', 'png')).toBe('network.png');
  });
});
