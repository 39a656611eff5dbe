import adapter from '@sveltejs/adapter-static';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @type {import('@sveltejs/kit').Config} */
const config = {
  preprocess: vitePreprocess(),
  kit: {
    // Static site: served from any plain file server, so every page is prerendered and
    // the run is chosen by query parameters on the root page (no rewrite rules needed).
    adapter: adapter({ pages: 'build', assets: 'build', fallback: undefined, strict: true }),
    paths: { base: /** @type {'' | `/${string}`} */ (process.env.NV_BASE_PATH ?? ''), relative: true },
    files: {
      src: 'viewer/src',
      routes: 'viewer/src/routes',
      lib: 'viewer/src/lib',
      appTemplate: 'viewer/src/app.html',
      assets: 'viewer/static',
    },
    // Every stylesheet (each under 2 kB) inline in the page: the app's start script waits for
    // linked stylesheets, and seven requests less take ~30 ms off a first visit's first paint.
    inlineStyleThreshold: 4096,
    // The page's Content-Security-Policy, as a meta tag with the hashes of SvelteKit's inline scripts
    // (an exported site carries it too; `npm run view` adds frame-ancestors as a header). Styles stay
    // 'unsafe-inline': Svelte's style: directives and uPlot set style attributes at run time.
    csp: {
      mode: 'hash',
      directives: {
        'default-src': ['self'],
        'script-src': ['self'],
        'style-src': ['self', 'unsafe-inline'],
        'img-src': ['self', 'data:', 'blob:'],
        'connect-src': ['self'],
        'object-src': ['none'],
        'base-uri': ['self'],
        'form-action': ['self'],
      },
    },
    alias: {
      $core: 'core',
    },
  },
};

export default config;
